package domain

import "time"

// DateLayout is the form of civil dates (2026-03-01) in the campaign's time zone.
const DateLayout = "2006-01-02"

// ValidDate reports whether s is a YYYY-MM-DD date.
func ValidDate(s string) bool {
	_, err := time.Parse(DateLayout, s)
	return err == nil
}

// zoneOr is loc, or UTC when it is nil.
func zoneOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// Today is the civil date of t in loc.
func Today(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(DateLayout)
}

// checkDate records a field error unless s is a YYYY-MM-DD date; an empty
// s is reported as missing when required.
func checkDate(v *Validator, field, s string, required bool) {
	switch {
	case s == "" && required:
		v.Add(field, FieldRequired, field+" is required")
	case s != "" && !ValidDate(s):
		v.Add(field, FieldInvalid, field+" must be a date such as 2026-03-01")
	}
}
