package domain

import (
	"testing"
	"time"
)

// FuzzPeriods: period ids, date ranges and weeks as a query string brings
// them are read or refused, never a panic; what is read is a range of
// valid dates, from not after to.
func FuzzPeriods(f *testing.F) {
	for _, s := range []string{"2026W05", "202603", "2026Q1", "2026S1", "2026", "2026W53", "2026W00", "202613", "2026Q5", "9999S2", "0000"} {
		f.Add(s, "", "")
	}
	f.Add("", "2026-01-01", "2026-07-19")
	f.Add("", "2026-02-30", "2026-03-01")
	f.Add("", "1900-01-01", "9999-12-31")
	f.Fuzz(func(t *testing.T, id, from, to string) {
		p, err := ParseStatsPeriod(id, from, to)
		if err != nil {
			return
		}
		f, ferr := time.Parse(DateLayout, p.From)
		l, lerr := time.Parse(DateLayout, p.To)
		if ferr != nil || lerr != nil || l.Before(f) {
			t.Fatalf("%q %q %q read as %+v", id, from, to, p)
		}
		if _, err := ParseWeek(id); err != nil && weekRE.MatchString(id) && p.ID == id {
			t.Fatalf("week %q parsed as a period but not as a week", id)
		}
		if ps, err := PeriodsBetween("month", p.From, p.To); err == nil && (len(ps) == 0 || ps[0].From > p.From || ps[len(ps)-1].To < p.To) {
			t.Fatalf("months of %+v: %+v", p, ps)
		}
	})
}
