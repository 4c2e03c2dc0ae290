package domain

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event metrics: counted from field records, each event on the day of its
// own date (occurredAt, identifiedAt, resolvedAt, receivedOn …) in the
// campaign's time zone. The store keeps them per village, town and the
// district, per day and per standard period.
const (
	MLeaderResearch      = iota // leader_research_visits
	MUnitResearch               // unit_research_visits (people)
	MCommitteeMeetings          // committee_meetings
	MMeetings                   // meetings
	MPartyMembersVisited        // party_members_visited
	MHouseholdsVisited          // households_visited
	MConflictsIdentified        // conflicts_identified
	MDisputesResolved           // disputes_resolved
	MLossesRecoveredFen         // losses_recovered_fen
	MReserveCandidates          // reserve_candidates
	MFundsFen                   // funds_fen
	MCheckins                   // checkins: days a cadre checked in, once per cadre, day and village
	MPhotos                     // photos completed
	MProjectsStarted            // projects started (for projects_active)
	MProjectsCompleted          // projects completed (for projects_active)
	MDisputesOpen               // disputes still open, on the day each was identified (for lights)
	MOnPostDays                 // onpost_days: days a cadre was on post in a village (OnPost records), once per cadre, day and village
	NumEventMetrics
)

// EventMetricNames names the event metrics, by index.
var EventMetricNames = [NumEventMetrics]string{
	"leader_research_visits", "unit_research_visits", "committee_meetings", "meetings", "party_members_visited",
	"households_visited", "conflicts_identified", "disputes_resolved", "losses_recovered_fen", "reserve_candidates",
	"funds_fen", "checkins", "photos", "projects_started", "projects_completed", "disputes_open", "onpost_days",
}

// MetricNames are the metrics a summary answers, in order.
var MetricNames = []string{
	"leader_research_visits", "unit_research_visits", "committee_meetings", "meetings", "party_members_visited",
	"households_visited", "conflicts_identified", "disputes_resolved", "losses_recovered_fen", "reserve_candidates",
	"targets_set", "targets_done", "targets_overdue", "problems_listed", "problems_resolved", "projects_active",
	"funds_fen", "checkins", "onpost_days", "leave_days", "onpost_rate", "photos",
}

// StatEvent is one record's contribution to one day's count.
type StatEvent struct {
	Day    string // YYYY-MM-DD in the campaign's time zone
	Metric int
	N      int64
	// Cadre is set on the metrics that count days (checkins, onpost_days):
	// the key under which a cadre's events of one day and village count as
	// one day. It names the cadre, prefixed by what is counted and on
	// which basis ("p|" on-post days, "a|" approved), so the keys of two
	// metrics or bases never meet.
	Cadre string
	// Approved: the event counts on the approved basis (BasisApproved),
	// under the scopes ApprovedScope gives; else on the reported basis.
	Approved bool
}

// Count bases: every record filed, or only the approved ones.
const (
	BasisReported = "reported"
	BasisApproved = "approved"
)

// ApprovedScope is the key approved-basis counts of a scope are kept
// under ("a:" before the reported key).
func ApprovedScope(key string) string { return "a:" + key }

// EventScopes are the count scopes an event of a village's record changes:
// the village, its town and the district, on the event's basis.
func EventScopes(e StatEvent, villageID, townID string) [3]string {
	sc := [3]string{StatsVillage(villageID), StatsTown(townID), StatsDistrict}
	if e.Approved {
		for i := range sc {
			sc[i] = ApprovedScope(sc[i])
		}
	}
	return sc
}

// Counts are the event metrics of a scope and period, by index.
type Counts [NumEventMetrics]int64

// Contribution is what a record adds to the counts: nothing when it is
// deleted; its events on the days of their own dates in loc (nil: UTC),
// on the reported basis, and again on the approved basis when it is approved.
func Contribution(r Record, loc *time.Location) []StatEvent {
	out := reported(r, loc)
	if len(out) > 0 && r.ReviewState() == ReviewApproved {
		for _, e := range out[:len(out):len(out)] {
			e.Approved = true
			if e.Cadre != "" {
				e.Cadre = "a|" + e.Cadre
			}
			out = append(out, e)
		}
	}
	return out
}

// reported is a record's contribution on the reported basis.
func reported(r Record, loc *time.Location) []StatEvent {
	if r.Deleted {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) string { return t.In(loc).Format(DateLayout) }
	var out []StatEvent
	add := func(d string, m int, n int64) {
		if d != "" && n != 0 {
			out = append(out, StatEvent{Day: d, Metric: m, N: n})
		}
	}
	switch {
	case r.Report != nil:
		p, d := r.Report, day(r.Report.OccurredAt)
		switch p.Kind {
		case KindLeaderResearch:
			add(d, MLeaderResearch, 1)
		case KindUnitResearch:
			add(d, MUnitResearch, int64(max(p.People, 1)))
		case KindMeeting:
			add(d, MMeetings, 1)
			if p.MeetingType == "two_committees" {
				add(d, MCommitteeMeetings, 1)
			}
		case KindVisit:
			switch p.Visitee {
			case "party_member":
				add(d, MPartyMembersVisited, int64(max(p.Count, 1)))
			case "household":
				add(d, MHouseholdsVisited, int64(max(p.Count, 1)))
			}
		case KindReserveCandidate:
			add(d, MReserveCandidates, 1)
		case KindCheckin:
			out = append(out, StatEvent{Day: d, Metric: MCheckins, N: 1, Cadre: r.CreatedBy})
		}
	case r.Dispute != nil:
		p := r.Dispute
		add(day(p.IdentifiedAt), MConflictsIdentified, 1)
		if p.Status == DisputeIdentified || p.Status == DisputeMediating {
			add(day(p.IdentifiedAt), MDisputesOpen, 1)
		}
		if p.Status == DisputeResolved && p.ResolvedAt != nil {
			add(day(*p.ResolvedAt), MDisputesResolved, 1)
			add(day(*p.ResolvedAt), MLossesRecoveredFen, p.LossesRecoveredFen)
		}
	case r.Fund != nil:
		if ValidDate(r.Fund.ReceivedOn) {
			add(r.Fund.ReceivedOn, MFundsFen, r.Fund.AmountFen)
		}
	case r.Project != nil:
		p := r.Project
		if p.Stage != StagePlanned && ValidDate(p.StartedOn) {
			add(p.StartedOn, MProjectsStarted, 1)
			if p.Stage == StageCompleted && ValidDate(p.CompletedOn) {
				add(p.CompletedOn, MProjectsCompleted, 1)
			}
		}
	case r.Photo != nil:
		if r.Photo.Status == PhotoReady && r.Photo.CompletedAt != nil {
			add(day(*r.Photo.CompletedAt), MPhotos, 1)
		}
	}
	if r.OnPost && r.CreatedBy != "" {
		// A photo puts its author in the village when it was taken (its
		// upload may come days later, from a phone back online): up to a
		// week before the upload began, else the upload's day.
		d := day(r.At)
		if p := r.Photo; p != nil && p.TakenAt != nil && !p.TakenAt.After(r.At) && r.At.Sub(*p.TakenAt) <= photoOnPostWindow {
			d = day(*p.TakenAt)
		}
		out = append(out, StatEvent{Day: d, Metric: MOnPostDays, N: 1, Cadre: OnPostKey(r.CreatedBy)})
	}
	return out
}

// photoOnPostWindow is how long before its upload a photo's EXIF time may
// put its author on post.
const photoOnPostWindow = 7 * 24 * time.Hour

// StatDelta is what a write changes in the counts: the new version's
// contribution less the old one's (old nil for a create).
func StatDelta(old *Record, next Record, loc *time.Location) []StatEvent {
	type key struct {
		day      string
		metric   int
		cadre    string
		approved bool
	}
	sum := map[key]int64{}
	var order []key
	add := func(es []StatEvent, sign int64) {
		for _, e := range es {
			k := key{e.Day, e.Metric, e.Cadre, e.Approved}
			if _, ok := sum[k]; !ok {
				order = append(order, k)
			}
			sum[k] += sign * e.N
		}
	}
	if old != nil {
		add(Contribution(*old, loc), -1)
	}
	add(Contribution(next, loc), 1)
	var out []StatEvent
	for _, k := range order {
		if n := sum[k]; n != 0 {
			out = append(out, StatEvent{Day: k.day, Metric: k.metric, N: n, Cadre: k.cadre, Approved: k.approved})
		}
	}
	return out
}

// Period is a range of civil dates, both ends included.
type Period struct {
	ID       string // the DHIS2-style id, or "" for a custom range
	From, To string // YYYY-MM-DD
}

var (
	periodMonthRE   = regexp.MustCompile(`^(\d{4})(\d{2})$`)
	periodQuarterRE = regexp.MustCompile(`^(\d{4})Q([1-4])$`)
	periodHalfRE    = regexp.MustCompile(`^(\d{4})S([12])$`)
	periodYearRE    = regexp.MustCompile(`^(\d{4})$`)
)

func monthRange(y, m1, m2 int) (string, string) {
	from := time.Date(y, time.Month(m1), 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(y, time.Month(m2)+1, 0, 0, 0, 0, 0, time.UTC)
	return from.Format(DateLayout), to.Format(DateLayout)
}

// ParsePeriod reads a DHIS2-style period id: 2026W05 (ISO week), 202603,
// 2026Q1, 2026S1 or 2026.
func ParsePeriod(id string) (Period, error) {
	p := Period{ID: id}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch {
	case weekRE.MatchString(id):
		days, err := ParseWeek(id)
		if err != nil {
			return Period{}, err
		}
		p.From, p.To = days[0], days[6]
	case periodMonthRE.MatchString(id):
		m := periodMonthRE.FindStringSubmatch(id)
		if mo := atoi(m[2]); mo >= 1 && mo <= 12 {
			p.From, p.To = monthRange(atoi(m[1]), mo, mo)
		}
	case periodQuarterRE.MatchString(id):
		m := periodQuarterRE.FindStringSubmatch(id)
		q := atoi(m[2])
		p.From, p.To = monthRange(atoi(m[1]), 3*q-2, 3*q)
	case periodHalfRE.MatchString(id):
		m := periodHalfRE.FindStringSubmatch(id)
		h := atoi(m[2])
		p.From, p.To = monthRange(atoi(m[1]), 6*h-5, 6*h)
	case periodYearRE.MatchString(id):
		p.From, p.To = monthRange(atoi(id), 1, 12)
	}
	if p.From == "" {
		return Period{}, fmt.Errorf("period %q is not like 2026W05, 202603, 2026Q1, 2026S1 or 2026", id)
	}
	return p, nil
}

// Intervals for series.
var Intervals = []string{"week", "month", "quarter", "half"}

// PeriodsBetween lists the periods of an interval that overlap [from, to].
func PeriodsBetween(interval, from, to string) ([]Period, error) {
	if !slices.Contains(Intervals, interval) {
		return nil, fmt.Errorf("interval must be week, month, quarter or half")
	}
	f, err1 := time.Parse(DateLayout, from)
	t, err2 := time.Parse(DateLayout, to)
	if err1 != nil || err2 != nil || t.Before(f) {
		return nil, fmt.Errorf("from and to must be dates, from not after to")
	}
	var out []Period
	for d := f; !d.After(t); {
		var id string
		switch interval {
		case "week":
			y, w := d.ISOWeek()
			id = fmt.Sprintf("%04dW%02d", y, w)
		case "month":
			id = fmt.Sprintf("%04d%02d", d.Year(), d.Month())
		case "quarter":
			id = fmt.Sprintf("%04dQ%d", d.Year(), (int(d.Month())+2)/3)
		case "half":
			id = fmt.Sprintf("%04dS%d", d.Year(), (int(d.Month())+5)/6)
		}
		p, err := ParsePeriod(id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		next, _ := time.Parse(DateLayout, p.To)
		d = next.AddDate(0, 0, 1)
		if len(out) > 400 {
			return nil, fmt.Errorf("at most 400 periods in a series")
		}
	}
	return out, nil
}

// The keys the store keeps counts under: the district, a town, a village.
const StatsDistrict = "d"

// StatsTown is a town's key.
func StatsTown(id string) string { return "t:" + id }

// StatsVillage is a village's key.
func StatsVillage(id string) string { return "v:" + id }

// StatsVillageOf returns the village of a village's key.
func StatsVillageOf(key string) (string, bool) { return strings.CutPrefix(key, "v:") }

// StatDiff is a count that differs from a recount of the records.
type StatDiff struct {
	Scope, Day, Metric string
	Have, Want         int64
}

// StatsStore answers the counts the store keeps with every record write:
// a bounded number of reads a period, whatever the number of records.
type StatsStore interface {
	// PeriodCounts returns a scope's event counts of a period ("d" the
	// district, "t:<id>" a town, "v:<id>" a village).
	PeriodCounts(ctx context.Context, scope string, p Period) (Counts, error)
	// CumulativeCounts returns a scope's event counts of every day up to to.
	CumulativeCounts(ctx context.Context, scope, to string) (Counts, error)
	// PeriodCountsOf is PeriodCounts of several scopes in one read, by
	// scope; a scope with no counts may be absent (its counts are zero).
	PeriodCountsOf(ctx context.Context, scopes []string, p Period) (map[string]Counts, error)
	// CumulativeCountsOf is CumulativeCounts of several scopes in one read.
	CumulativeCountsOf(ctx context.Context, scopes []string, to string) (map[string]Counts, error)
	// CountedDays lists, in order, the days from from to to (both
	// included) on which a day-counting key (StatEvent.Cadre) counted in
	// any of the villages.
	CountedDays(ctx context.Context, villageIDs []string, key, from, to string) ([]string, error)
	// VerifyStats recounts from the records and lists every difference.
	VerifyStats(ctx context.Context) ([]StatDiff, error)
	// RebuildStats replaces the counts with a recount.
	RebuildStats(ctx context.Context) error
}

// DayCounts are a scope's counts by day (YYYY-MM-DD).
type DayCounts map[string]*Counts

// Tally recounts the counts from the records, as a store keeps them: per
// scope (EventScopes) and day, a cadre's events of a day-counting metric
// in one village and day counting once.
type Tally struct {
	loc      *time.Location
	Scopes   map[string]DayCounts
	checkins map[[3]string]int64 // village, day, StatEvent.Cadre key → events
}

// NewTally starts an empty recount in the campaign's time zone.
func NewTally(loc *time.Location) *Tally {
	return &Tally{loc: loc, Scopes: map[string]DayCounts{}, checkins: map[[3]string]int64{}}
}

// Add counts one record (its latest version).
func (t *Tally) Add(r Record) {
	for _, e := range Contribution(r, t.loc) {
		if e.Cadre != "" {
			k := [3]string{r.VillageID, e.Day, e.Cadre}
			t.checkins[k] += e.N
			if t.checkins[k] != e.N {
				continue // the day counted already
			}
			e.N = 1
		}
		for _, sc := range EventScopes(e, r.VillageID, r.TownID) {
			days := t.Scopes[sc]
			if days == nil {
				days = DayCounts{}
				t.Scopes[sc] = days
			}
			c := days[e.Day]
			if c == nil {
				c = &Counts{}
				days[e.Day] = c
			}
			c[e.Metric] += e.N
		}
	}
}

// Checkins are how many events of the day-counting metrics each cadre key
// has in a village and day: (village, day, StatEvent.Cadre) → n.
func (t *Tally) Checkins() map[[3]string]int64 { return maps.Clone(t.checkins) }

// DiffCounts lists every count of have that differs from want, by scope,
// day and metric.
func DiffCounts(have, want map[string]DayCounts) []StatDiff {
	var diffs []StatDiff
	scopes := map[string]bool{}
	for k := range have {
		scopes[k] = true
	}
	for k := range want {
		scopes[k] = true
	}
	for _, sc := range slices.Sorted(maps.Keys(scopes)) {
		days := map[string]bool{}
		for d := range have[sc] {
			days[d] = true
		}
		for d := range want[sc] {
			days[d] = true
		}
		for _, d := range slices.Sorted(maps.Keys(days)) {
			var h, w Counts
			if c := have[sc][d]; c != nil {
				h = *c
			}
			if c := want[sc][d]; c != nil {
				w = *c
			}
			for i := range h {
				if h[i] != w[i] {
					diffs = append(diffs, StatDiff{Scope: sc, Day: d, Metric: EventMetricNames[i], Have: h[i], Want: w[i]})
				}
			}
		}
	}
	return diffs
}
