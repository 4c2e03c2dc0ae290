package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
)

var weekRE = regexp.MustCompile(`^(\d{4})W(\d{2})$`)

// ParseWeek reads an ISO week such as 2026W05 and returns its Monday (a
// civil date) and the seven dates of the week.
func ParseWeek(s string) ([]string, error) {
	m := weekRE.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("week %q is not like 2026W05", s)
	}
	year, _ := strconv.Atoi(m[1])
	week, _ := strconv.Atoi(m[2])
	// ISO week 1 holds January 4th.
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(week-1)*7)
	if y, w := monday.ISOWeek(); week < 1 || y != year || w != week {
		return nil, fmt.Errorf("%s has no week %d", m[1], week)
	}
	days := make([]string, 7)
	for i := range days {
		days[i] = monday.AddDate(0, 0, i).Format(DateLayout)
	}
	return days, nil
}

// OnPostPlan is the days of a week a cadre plans to be in the village (在岗计划).
type OnPostPlan struct {
	CadreID   string
	Week      string
	Days      []string // dates of that week
	TownIDs   []string // the cadre's towns, for scope
	UpdatedBy string
	UpdatedAt time.Time
}

// OnPostStore keeps on-post plans.
type OnPostStore interface {
	PutPlan(ctx context.Context, p OnPostPlan) error
	Plans(ctx context.Context, week string, cadreIDs []string) ([]OnPostPlan, error)
}

// OnPostService records plans and compares them with the days on post.
type OnPostService struct {
	Plans  OnPostStore
	Users  UserService
	Stats  StatsStore
	Leaves LeaveStore // nil: no leave
	Now    Clock
	Loc    *time.Location
}

// PutPlan sets a cadre's plan for a week: the cadre itself, its town's
// admin, or an admin.
func (s OnPostService) PutPlan(ctx context.Context, c Caller, cadreID, week string, days []string) (OnPostPlan, error) {
	u, err := s.Users.Get(ctx, c, cadreID)
	if err != nil {
		return OnPostPlan{}, err
	}
	if !u.Role.VillageLevel() {
		return OnPostPlan{}, NotFound("cadre")
	}
	if c.UserID != u.ID && c.Role != RoleAdmin && !(c.Role == RoleTownAdmin && slices.Contains(u.TownIDs, c.TownID)) {
		return OnPostPlan{}, Forbidden()
	}
	var v Validator
	weekDays, err := ParseWeek(week)
	if err != nil {
		return OnPostPlan{}, NotFound("week")
	}
	days = slices.Compact(slices.Sorted(slices.Values(days)))
	for _, d := range days {
		if !slices.Contains(weekDays, d) {
			v.Add("days", FieldRange, fmt.Sprintf("%s is not a day of %s", d, week))
		}
	}
	if err := v.Err(); err != nil {
		return OnPostPlan{}, err
	}
	if days == nil {
		days = []string{}
	}
	p := OnPostPlan{CadreID: u.ID, Week: week, Days: days, TownIDs: u.TownIDs, UpdatedBy: c.UserID, UpdatedAt: s.Now()}
	if err := s.Plans.PutPlan(ctx, p); err != nil {
		return OnPostPlan{}, fmt.Errorf("put plan: %w", err)
	}
	return p, nil
}

// OnPost reports whether a record puts its author on post in its village
// on the day of its event, without any clocking in: a checkin the author
// chose to send; in a village without a position, any record; else a
// record whose position, or one of whose photos' EXIF position (photos,
// the photo's own), lies within dist metres of the village. A record
// without a position still counts as work, just not as a located day.
func OnPost(vil Village, r Record, photos map[string]PhotoBrief, dist float64) bool {
	if r.Report != nil && r.Report.Kind == KindCheckin || vil.Location == nil {
		return true
	}
	near := func(p GeoPoint) bool { return Distance(*vil.Location, p) <= dist }
	if r.Report != nil && r.Report.Location != nil && near(GeoPoint{Lat: r.Report.Location.Lat, Lng: r.Report.Location.Lng}) {
		return true
	}
	if r.Photo != nil && r.Photo.GPS != nil && near(*r.Photo.GPS) {
		return true
	}
	for _, b := range photos {
		if b.GPS != nil && near(*b.GPS) {
			return true
		}
	}
	return false
}

// OnPostKey is the count key of a cadre's on-post days (StatEvent.Cadre).
func OnPostKey(cadreID string) string { return "p|" + cadreID }

// OnPostRow compares one cadre's plan with its days on post in a week.
type OnPostRow struct {
	Cadre      User
	Planned    []string // planned days
	OnPost     []string // days on post (OnPost records), in the campaign's time zone
	CheckedIn  []string // days with a checkin (a subset of OnPost)
	Leave      []string // days of approved leave
	PlannedMet int      // planned days on post
	HasPlan    bool
	VillageIDs []string
	// OnPostRatio is PlannedMet over the planned days not on leave; 0
	// without such days.
	OnPostRatio float64
}

// Week lists, for each cadre in the caller's scope (narrowed to a town),
// the planned days of a week against the days on post and on leave.
func (s OnPostService) Week(ctx context.Context, c Caller, week, townID string) ([]OnPostRow, error) {
	days, err := ParseWeek(week)
	if err != nil {
		var v Validator
		v.Add("week", FieldInvalid, err.Error())
		return nil, v.Err()
	}
	var cadres []User
	for _, role := range []Role{RoleCadre, RoleTeamLeader} {
		for p := (Page{Limit: MaxPageLimit}); ; {
			l, err := s.Users.List(ctx, c, UserFilter{Role: role, TownID: townID}, p)
			if err != nil {
				return nil, err
			}
			cadres = append(cadres, l.Items...)
			if l.Next == "" {
				break
			}
			p.After = l.Next
		}
	}
	ids := make([]string, len(cadres))
	for i, u := range cadres {
		ids[i] = u.ID
	}
	plans, err := s.Plans.Plans(ctx, week, ids)
	if err != nil {
		return nil, fmt.Errorf("on-post week: %w", err)
	}
	byCadre := map[string]OnPostPlan{}
	for _, p := range plans {
		byCadre[p.CadreID] = p
	}
	var leaves []Leave
	if s.Leaves != nil {
		if leaves, err = s.Leaves.ApprovedLeaves(ctx, days[0], days[6]); err != nil {
			return nil, fmt.Errorf("on-post week: %w", err)
		}
	}
	rows := make([]OnPostRow, 0, len(cadres))
	for _, u := range cadres {
		cl, err := s.Users.Caller(ctx, u.ID, c.RequestID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		row := OnPostRow{Cadre: u, VillageIDs: cl.VillageIDs, Planned: []string{}, OnPost: []string{}, CheckedIn: []string{}, Leave: LeaveDays(leaves, u.ID, days[0], days[6])}
		if p, ok := byCadre[u.ID]; ok {
			row.Planned, row.HasPlan = p.Days, true
		}
		if len(cl.VillageIDs) > 0 {
			if row.OnPost, err = s.Stats.CountedDays(ctx, cl.VillageIDs, OnPostKey(u.ID), days[0], days[6]); err != nil {
				return nil, fmt.Errorf("on-post week: %w", err)
			}
			if row.CheckedIn, err = s.Stats.CountedDays(ctx, cl.VillageIDs, u.ID, days[0], days[6]); err != nil {
				return nil, fmt.Errorf("on-post week: %w", err)
			}
		}
		due := 0
		for _, d := range row.Planned {
			if slices.Contains(row.Leave, d) {
				continue
			}
			due++
			if slices.Contains(row.OnPost, d) {
				row.PlannedMet++
			}
		}
		if due > 0 {
			row.OnPostRatio = float64(row.PlannedMet) / float64(due)
		}
		rows = append(rows, row)
	}
	return rows, nil
}
