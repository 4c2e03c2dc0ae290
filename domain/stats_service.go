package domain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// LedgerSnapshot is every problem, target, progress entry and plan, and
// each account's villages: the campaign's small sets (bounded by its
// villages and people, not by the records).
type LedgerSnapshot struct {
	Problems      []Problem
	Targets       []Target
	Progress      []Progress
	Plans         []OnPostPlan
	Leaves        []Leave // approved
	CadreVillages map[string][]string
	UserNames     map[string]string
}

// LedgerSource gives the ledger's snapshot.
type LedgerSource interface {
	LedgerSnapshot(ctx context.Context) (LedgerSnapshot, error)
}

// Stats scopes.
const (
	ScopeDistrict = "district"
	ScopeTown     = "town"
	ScopeVillage  = "village"
)

// StatsScope is a resolved scope: what the counts are kept under, and
// which ledger entries belong to it.
type StatsScope struct {
	Kind  string // district, town or village
	ID    string // "" for the district
	Basis string // reported (also "") or approved
	key   string
}

// On returns the scope on a basis of counting.
func (sc StatsScope) On(basis string) StatsScope {
	sc.Basis = basis
	return sc
}

// countKey is the key the scope's counts on its basis are kept under.
func (sc StatsScope) countKey() string {
	if sc.Basis == BasisApproved {
		return ApprovedScope(sc.key)
	}
	return sc.key
}

// ParseBasis reads a basis of counting: reported (the default) or approved.
func ParseBasis(s string) (string, error) {
	switch s {
	case "", BasisReported:
		return BasisReported, nil
	case BasisApproved:
		return BasisApproved, nil
	}
	var v Validator
	v.Add("basis", FieldInvalid, "basis must be reported or approved")
	return "", v.Err()
}

func districtStats() StatsScope { return StatsScope{Kind: ScopeDistrict, key: StatsDistrict} }

func townStats(id string) StatsScope { return StatsScope{Kind: ScopeTown, ID: id, key: StatsTown(id)} }

func villageStats(id string) StatsScope {
	return StatsScope{Kind: ScopeVillage, ID: id, key: StatsVillage(id)}
}

func (sc StatsScope) holds(villageID, townID string) bool {
	switch sc.Kind {
	case ScopeTown:
		return townID == sc.ID
	case ScopeVillage:
		return villageID == sc.ID
	}
	return true
}

// Summary is every metric of a scope and period.
type Summary struct {
	Scope   StatsScope
	Period  Period
	Metrics map[string]any // int64, or float64/nil for onpost_rate
}

// StatsService answers the counts leaders pull.
type StatsService struct {
	Stats       StatsStore
	Ledger      LedgerSource
	Org         OrgStore
	Assessments AssessmentStore
	Campaigns   CampaignStore
	Teams       TeamStore
	Now         Clock
	Loc         *time.Location
}

// ResolveScope checks the caller may see a scope: out of its scope is 404.
func (s StatsService) ResolveScope(ctx context.Context, c Caller, kind, id string) (StatsScope, error) {
	switch kind {
	case ScopeDistrict, "":
		if !c.ReadsAll() {
			return StatsScope{}, NotFound("scope")
		}
		return districtStats(), nil
	case ScopeTown:
		if _, err := visibleTown(ctx, s.Org, c, id); err != nil {
			return StatsScope{}, err
		}
		return townStats(id), nil
	case ScopeVillage:
		if _, err := visibleVillage(ctx, s.Org, c, id); err != nil {
			return StatsScope{}, err
		}
		return villageStats(id), nil
	}
	var v Validator
	v.Add("scope", FieldInvalid, "scope must be district, town or village")
	return StatsScope{}, v.Err()
}

// ParseStatsPeriod reads a period id, or a from–to range of dates (both
// included, at most about ten years).
func ParseStatsPeriod(id, from, to string) (Period, error) {
	var v Validator
	switch {
	case id != "" && (from != "" || to != ""):
		v.Add("period", FieldInvalid, "give a period or from and to, not both")
	case id != "":
		p, err := ParsePeriod(id)
		if err != nil {
			v.Add("period", FieldInvalid, err.Error())
		}
		if v.OK() {
			return p, nil
		}
	default:
		checkDate(&v, "from", from, true)
		checkDate(&v, "to", to, true)
		if v.OK() {
			f, _ := time.Parse(DateLayout, from)
			t, _ := time.Parse(DateLayout, to)
			if t.Before(f) {
				v.Add("to", FieldRange, "to is before from")
			} else if t.Sub(f) > 3700*24*time.Hour {
				v.Add("to", FieldRange, "a range may be at most ten years")
			}
		}
		if v.OK() {
			return Period{From: from, To: to}, nil
		}
	}
	return Period{}, v.Err()
}

// Summary counts every metric of a scope and period.
func (s StatsService) Summary(ctx context.Context, sc StatsScope, p Period) (Summary, error) {
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return Summary{}, err
	}
	return s.summary(ctx, sc, p, snap)
}

func (s StatsService) summary(ctx context.Context, sc StatsScope, p Period, snap LedgerSnapshot) (Summary, error) {
	if sc.Basis == "" {
		sc.Basis = BasisReported
	}
	counts, err := s.Stats.PeriodCounts(ctx, sc.countKey(), p)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	cum, err := s.Stats.CumulativeCounts(ctx, sc.countKey(), p.To)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	return s.summaryFrom(sc, p, snap, counts, cum), nil
}

// summaryFrom is a summary from a scope's counts of the period and of
// every day up to its end.
func (s StatsService) summaryFrom(sc StatsScope, p Period, snap LedgerSnapshot, counts, cum Counts) Summary {
	if sc.Basis == "" {
		sc.Basis = BasisReported
	}
	m := map[string]any{}
	for i, name := range EventMetricNames {
		if i != MProjectsStarted && i != MProjectsCompleted && i != MDisputesOpen {
			m[name] = counts[i]
		}
	}
	m["projects_active"] = cum[MProjectsStarted] - cum[MProjectsCompleted]
	l := ledgerCounts(sc, p, snap, s.Loc)
	m["targets_set"], m["targets_done"], m["targets_overdue"] = l.targetsSet, l.targetsDone, l.targetsOverdue
	m["problems_listed"], m["problems_resolved"] = l.problemsListed, l.problemsResolved
	m["leave_days"] = l.leaveDays
	if due := l.planned - l.plannedOnLeave; due > 0 {
		m["onpost_rate"] = float64(counts[MOnPostDays]) / float64(due)
	} else {
		m["onpost_rate"] = nil
	}
	return Summary{Scope: sc, Period: p, Metrics: m}
}

// latestProgress is each target's latest progress on or before a day
// (of two the same day, the later entered).
func latestProgress(progress []Progress, to string) map[string]Progress {
	latest := map[string]Progress{}
	for _, pr := range progress {
		if pr.Date > to {
			continue
		}
		if cur, ok := latest[pr.TargetID]; !ok || pr.Date > cur.Date || pr.Date == cur.Date && pr.CreatedAt.After(cur.CreatedAt) {
			latest[pr.TargetID] = pr
		}
	}
	return latest
}

type ledgerCount struct {
	targetsSet, targetsDone, targetsOverdue int64
	problemsListed, problemsResolved        int64
	planned, plannedOnLeave, leaveDays      int64
}

// ledgerCounts counts the ledger of a scope for a period, from the snapshot.
func ledgerCounts(sc StatsScope, p Period, snap LedgerSnapshot, loc *time.Location) ledgerCount {
	var out ledgerCount
	y1, y2 := p.From[:4], p.To[:4]
	latest := latestProgress(snap.Progress, p.To)
	for _, t := range snap.Targets {
		year := fmt.Sprintf("%04d", t.Year)
		if !sc.holds(t.VillageID, t.TownID) || year < y1 || year > y2 {
			continue
		}
		out.targetsSet++
		done := latest[t.ID].Percent >= 100
		if done {
			out.targetsDone++
		} else if t.Due != "" && t.Due < p.To {
			out.targetsOverdue++
		}
	}
	for _, pb := range snap.Problems {
		if !sc.holds(pb.VillageID, pb.TownID) {
			continue
		}
		if pb.CreatedAt.In(loc).Format(DateLayout) <= p.To {
			out.problemsListed++
		}
		if pb.Status == StatusResolved && pb.ResolvedAt >= p.From && pb.ResolvedAt <= p.To {
			out.problemsResolved++
		}
	}
	inScope := func(cadreID string, townIDs []string) bool {
		switch sc.Kind {
		case ScopeTown:
			return slices.Contains(townIDs, sc.ID)
		case ScopeVillage:
			return slices.Contains(snap.CadreVillages[cadreID], sc.ID)
		}
		return true
	}
	leave := map[string][]string{} // cadre → approved leave days of the period
	for _, l := range snap.Leaves {
		if _, done := leave[l.CadreID]; !done && inScope(l.CadreID, l.TownIDs) {
			leave[l.CadreID] = LeaveDays(snap.Leaves, l.CadreID, p.From, p.To)
			out.leaveDays += int64(len(leave[l.CadreID]))
		}
	}
	for _, pl := range snap.Plans {
		if !inScope(pl.CadreID, pl.TownIDs) {
			continue
		}
		for _, d := range pl.Days {
			if d >= p.From && d <= p.To {
				out.planned++
				if slices.Contains(leave[pl.CadreID], d) {
					out.plannedOnLeave++
				}
			}
		}
	}
	return out
}

// SeriesPoint is one period of a series.
type SeriesPoint struct {
	Period Period
	Value  any
}

// Series returns one metric per period of an interval over a range.
func (s StatsService) Series(ctx context.Context, sc StatsScope, metric, interval, from, to string) ([]SeriesPoint, error) {
	var v Validator
	if !slices.Contains(MetricNames, metric) {
		v.Add("metric", FieldInvalid, "metric must be one of the summary's metrics")
	}
	if _, err := ParseStatsPeriod("", from, to); err != nil {
		return nil, err
	}
	periods, err := PeriodsBetween(interval, from, to)
	if err != nil {
		v.Add("interval", FieldInvalid, err.Error())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SeriesPoint, len(periods))
	for i, p := range periods {
		sum, err := s.summary(ctx, sc, p, snap)
		if err != nil {
			return nil, err
		}
		out[i] = SeriesPoint{Period: p, Value: sum.Metrics[metric]}
	}
	return out, nil
}

// VillageRow is one village of the village table.
type VillageRow struct {
	Village Village
	Metrics map[string]any
	Level   Level // in the latest campaign that selected it; "" if none
	Team    *Team
	Light   VillageLight
}

// Villages answers one row per village of a town (or of the caller's
// scope when townID is empty): its metrics for the period, its level,
// team and light (as of the period's end, or today if sooner).
func (s StatsService) Villages(ctx context.Context, c Caller, townID string, p Period, basis string) ([]VillageRow, error) {
	f := VillageFilter{Scope: c.VillageScope()}
	if townID != "" {
		if _, err := visibleTown(ctx, s.Org, c, townID); err != nil {
			return nil, err
		}
		f.TownID = townID
	}
	if f.Scope.Empty() {
		return nil, nil
	}
	villages, err := AllPages(func(p Page) (List[Village], error) { return s.Org.ListVillages(ctx, f, p) })
	if err != nil {
		return nil, err
	}
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	assessments, err := s.Assessments.Assessments(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	day := min(p.To, Today(now, s.Loc))
	levels, teams, err := s.levelsAndTeams(ctx, f)
	if err != nil {
		return nil, err
	}
	vc, err := s.villageCounts(ctx, villages, basis, p, day)
	if err != nil {
		return nil, err
	}
	out := make([]VillageRow, 0, len(villages))
	for _, v := range villages {
		sc := villageStats(v.ID).On(basis)
		sum := s.summaryFrom(sc, p, snap, vc.period[sc.countKey()], vc.cum[sc.countKey()])
		light := lightFrom(snap, assessments, v, day, vc.week[StatsVillage(v.ID)], vc.open[StatsVillage(v.ID)])
		row := VillageRow{Village: v, Metrics: sum.Metrics, Level: levels[v.ID], Light: light}
		if t, ok := teams[v.ID]; ok {
			row.Team = &t
		}
		out = append(out, row)
	}
	return out, nil
}

// villageCounts are the counts a table of villages needs, by count key:
// each village's period and up to its end (on the basis), and the two
// windows of its light on day.
type villageCounts struct{ period, cum, week, open map[string]Counts }

// villageCounts reads them in four reads, whatever the number of villages.
func (s StatsService) villageCounts(ctx context.Context, villages []Village, basis string, p Period, day string) (villageCounts, error) {
	var keys, plain []string
	for _, v := range villages {
		keys = append(keys, villageStats(v.ID).On(basis).countKey())
		plain = append(plain, StatsVillage(v.ID))
	}
	week, openTo := lightWindows(day)
	var out villageCounts
	// The four reads are independent: the store's read pool runs them at once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, read := range []func() error{
		func() (err error) { out.period, err = s.Stats.PeriodCountsOf(ctx, keys, p); return },
		func() (err error) { out.cum, err = s.Stats.CumulativeCountsOf(ctx, keys, p.To); return },
		func() (err error) { out.week, err = s.Stats.PeriodCountsOf(ctx, plain, week); return },
		func() (err error) { out.open, err = s.Stats.CumulativeCountsOf(ctx, plain, openTo); return },
	} {
		wg.Go(func() { errs[i] = read() })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// SelectedLight is a selected village's level and light, for the map.
type SelectedLight struct {
	VillageID string
	Level     Level
	Light     VillageLight
}

// SelectedLights answers the light, as of the period's end (or today if
// sooner), of each village in the caller's scope (of a town when townID
// is set) that the latest campaign selecting it selected: a few dozen
// villages, whatever the district's size, so the map never counts the
// villages outside the round.
func (s StatsService) SelectedLights(ctx context.Context, c Caller, townID string, p Period) ([]SelectedLight, error) {
	f := VillageFilter{Scope: c.VillageScope(), TownID: townID}
	if f.Scope.Empty() {
		return nil, nil
	}
	levels, _, err := s.levelsAndTeams(ctx, f)
	if err != nil {
		return nil, err
	}
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	assessments, err := s.Assessments.Assessments(ctx)
	if err != nil {
		return nil, err
	}
	day := min(p.To, Today(s.Now(), s.Loc))
	villages, err := s.Org.VillagesByIDs(ctx, slices.Collect(maps.Keys(levels)))
	if err != nil {
		return nil, err
	}
	villages = slices.DeleteFunc(villages, func(v Village) bool { return !f.Scope.Matches(v.ID, v.TownID) || townID != "" && v.TownID != townID })
	slices.SortFunc(villages, func(a, b Village) int { return strings.Compare(a.ID, b.ID) })
	vc, err := s.villageCounts(ctx, villages, BasisReported, p, day)
	if err != nil {
		return nil, err
	}
	out := make([]SelectedLight, 0, len(villages))
	for _, v := range villages {
		light := lightFrom(snap, assessments, v, day, vc.week[StatsVillage(v.ID)], vc.open[StatsVillage(v.ID)])
		out = append(out, SelectedLight{VillageID: v.ID, Level: levels[v.ID], Light: light})
	}
	return out, nil
}

// levelsAndTeams finds each village's level in the latest campaign that
// selected it, and its team in that campaign.
func (s StatsService) levelsAndTeams(ctx context.Context, f VillageFilter) (map[string]Level, map[string]Team, error) {
	levels, teams := map[string]Level{}, map[string]Team{}
	camps, err := AllPages(func(p Page) (List[Campaign], error) { return s.Campaigns.ListCampaigns(ctx, p) })
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(camps, func(a, b Campaign) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, cp := range camps { // later campaigns overwrite earlier ones
		sel, err := AllPages(func(p Page) (List[Selection], error) {
			return s.Campaigns.ListSelections(ctx, SelectionFilter{CampaignID: cp.ID, Scope: f.Scope, TownID: f.TownID}, p)
		})
		if err != nil {
			return nil, nil, err
		}
		for _, x := range sel {
			levels[x.VillageID] = x.Level
		}
		tl, err := AllPages(func(p Page) (List[Team], error) {
			return s.Teams.ListTeams(ctx, TeamFilter{Scope: f.Scope, CampaignID: cp.ID}, p)
		})
		if err != nil {
			return nil, nil, err
		}
		for _, t := range tl {
			teams[t.VillageID] = t
		}
	}
	return levels, teams, nil
}

// AllPages reads every page of a listing (at most 10,000 pages).
func AllPages[T any](fetch func(Page) (List[T], error)) ([]T, error) {
	var out []T
	p := Page{Limit: MaxPageLimit}
	for range 10000 {
		l, err := fetch(p)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.Next == "" {
			return out, nil
		}
		p.After = l.Next
	}
	return nil, fmt.Errorf("more than 10000 pages")
}

// LedgerCache keeps a store's ledger snapshot until a write through the
// store changes what it holds (one process writes a database). A store
// calls Changed after such a write and Get to read, with the function that
// loads the snapshot from the database.
type LedgerCache struct {
	mu   sync.Mutex
	snap *LedgerSnapshot
	gen  uint64
}

// Changed drops the snapshot.
func (c *LedgerCache) Changed() {
	c.mu.Lock()
	c.snap = nil
	c.gen++
	c.mu.Unlock()
}

// Get returns the snapshot, loading it when there is none; a load that a
// write overtook is returned but not kept.
func (c *LedgerCache) Get(ctx context.Context, load func(context.Context) (LedgerSnapshot, error)) (LedgerSnapshot, error) {
	c.mu.Lock()
	if c.snap != nil {
		out := *c.snap
		c.mu.Unlock()
		return out, nil
	}
	gen := c.gen
	c.mu.Unlock()
	out, err := load(ctx)
	if err != nil {
		return LedgerSnapshot{}, fmt.Errorf("ledger snapshot: %w", err)
	}
	c.mu.Lock()
	if c.gen == gen {
		c.snap = &out
	}
	c.mu.Unlock()
	return out, nil
}
