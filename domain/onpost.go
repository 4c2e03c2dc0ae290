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

// OnPostService records plans and compares them with checkins.
type OnPostService struct {
	Plans   OnPostStore
	Users   UserService
	Records RecordStore
	Now     Clock
	Loc     *time.Location
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

// OnPostRow compares one cadre's plan with its checkins in a week.
type OnPostRow struct {
	Cadre       User
	Planned     []string // planned days
	CheckedIn   []string // days with a checkin, in the campaign's time zone
	PlannedMet  int      // planned days with a checkin
	HasPlan     bool
	VillageIDs  []string
	OnPostRatio float64 // PlannedMet / len(Planned); 0 without a plan
}

// Week lists, for each cadre in the caller's scope (narrowed to a town),
// the planned days of a week against the days with a checkin.
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
	start, _ := time.ParseInLocation(DateLayout, days[0], s.Loc)
	end := start.AddDate(0, 0, 7)
	rows := make([]OnPostRow, 0, len(cadres))
	for _, u := range cadres {
		cl, err := s.Users.Caller(ctx, u.ID, c.RequestID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		row := OnPostRow{Cadre: u, VillageIDs: cl.VillageIDs, Planned: []string{}, CheckedIn: []string{}}
		if p, ok := byCadre[u.ID]; ok {
			row.Planned, row.HasPlan = p.Days, true
		}
		if len(cl.VillageIDs) > 0 {
			var after *RecordCursor
			for {
				rs, err := s.Records.ListRecords(ctx, RecordFilter{Type: TypeReport, VillageIDs: cl.VillageIDs, Kind: KindCheckin,
					CreatedBy: u.ID, From: start, To: end}, after, MaxPageLimit)
				if err != nil {
					return nil, err
				}
				for _, r := range rs {
					d := r.At.In(s.Loc).Format(DateLayout)
					if !slices.Contains(row.CheckedIn, d) {
						row.CheckedIn = append(row.CheckedIn, d)
					}
				}
				if len(rs) < MaxPageLimit {
					break
				}
				after = &RecordCursor{At: rs[len(rs)-1].At, ID: rs[len(rs)-1].ID}
			}
		}
		slices.Sort(row.CheckedIn)
		for _, d := range row.Planned {
			if slices.Contains(row.CheckedIn, d) {
				row.PlannedMet++
			}
		}
		if len(row.Planned) > 0 {
			row.OnPostRatio = float64(row.PlannedMet) / float64(len(row.Planned))
		}
		rows = append(rows, row)
	}
	return rows, nil
}
