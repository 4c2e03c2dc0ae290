package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Data approval (DHIS2's, the anchor): a village's month is submitted by
// its team leader or town admin and approved by the town admin; a town's
// half-year is submitted by the town admin and approved by the department.
// An approved period is locked: no record whose event falls in it is
// created, changed, deleted or reviewed until an admin unlocks it with a
// reason; approving it again locks it again.

// Approval levels: what a period is approved for.
const (
	ApprovalVillage = "village" // a village's month (202603)
	ApprovalTown    = "town"    // a town's half-year (2026S1)
)

// Approval states. A period never acted on is open (and not stored).
const (
	ApprovalOpen      = "open"
	ApprovalSubmitted = "submitted"
	ApprovalApproved  = "approved"
	ApprovalReturned  = "returned"
	ApprovalUnlocked  = "unlocked"
)

// Approval actions.
const (
	ActSubmit  = "submit"
	ActApprove = "approve"
	ActReturn  = "return"
	ActUnlock  = "unlock"
)

// ApprovalActions lists the actions.
var ApprovalActions = []string{ActSubmit, ActApprove, ActReturn, ActUnlock}

// Approval is where one village's month or one town's half-year stands.
type Approval struct {
	Level   string // village or town
	ScopeID string // the village's or the town's id
	TownID  string
	Period  string // 202603 for a village, 2026S1 for a town
	State   string
	Version int
	// While approved: who approved (and so locked) it, and when.
	LockedBy     string
	LockedByName string
	LockedAt     *time.Time
	History      []ApprovalEvent
	UpdatedAt    time.Time
}

// ApprovalEvent is one action on an approval.
type ApprovalEvent struct {
	Action  string
	State   string
	By      string
	ByName  string
	At      time.Time
	Comment string
}

// Key identifies an approval: level:scope:period.
func (a Approval) Key() string { return ApprovalKey(a.Level, a.ScopeID, a.Period) }

// ApprovalKey is the key of a level, scope and period.
func ApprovalKey(level, scopeID, period string) string { return level + ":" + scopeID + ":" + period }

// ApprovalFilter narrows a listing; empty fields match everything.
type ApprovalFilter struct {
	Level   string
	TownIDs []string // nil: every town
	ScopeID string
	Period  string
	State   string
}

// ApprovalStore keeps approvals (a small set: villages × months).
type ApprovalStore interface {
	// PutApproval stores a if the stored version is a.Version-1 (none for 1): ErrStale otherwise.
	PutApproval(ctx context.Context, a Approval) error
	GetApproval(ctx context.Context, level, scopeID, period string) (Approval, error)
	// ListApprovals lists in key order, after the page's cursor (a key).
	ListApprovals(ctx context.Context, f ApprovalFilter, p Page) (List[Approval], error)
	// LockedApprovals lists every approval in state approved.
	LockedApprovals(ctx context.Context) ([]Approval, error)
}

// PeriodLock is an approved period that holds a day of a village.
type PeriodLock struct {
	Level, ScopeID, TownID, Period string
	LockedBy, LockedByName         string
	LockedAt                       time.Time
}

// PeriodLocks answers whether a day of a village is locked.
type PeriodLocks interface {
	// Locked returns the lock holding a day of a village, or nil.
	Locked(ctx context.Context, villageID, townID, day string) (*PeriodLock, error)
}

// LockedError is the 409 a write into a locked period gets.
func LockedError(l PeriodLock) error {
	what := "the month " + l.Period + " of this village"
	if l.Level == ApprovalTown {
		what = "the half-year " + l.Period + " of this town"
	}
	return &Error{Kind: KindConflict, Code: "period_locked", Lock: &l,
		Message: fmt.Sprintf("%s was approved and locked by %s at %s; to change it, ask the organisation department (an admin) to unlock it with a reason",
			what, l.LockedByName, l.LockedAt.Format(time.RFC3339))}
}

// checkLocks refuses a write of a village's record when one of the days
// it touches is locked: the event days given, and every day of its count
// delta (on either basis).
func checkLocks(ctx context.Context, locks PeriodLocks, r Record, days []string, delta []StatEvent) error {
	if locks == nil {
		return nil
	}
	for _, e := range delta {
		days = append(days, e.Day)
	}
	slices.Sort(days)
	for _, d := range slices.Compact(days) {
		if !ValidDate(d) {
			continue
		}
		l, err := locks.Locked(ctx, r.VillageID, r.TownID, d)
		if err != nil {
			return fmt.Errorf("period locks: %w", err)
		}
		if l != nil {
			return LockedError(*l)
		}
	}
	return nil
}

// eventDay is the day of a record's event in loc.
func eventDay(r Record, loc *time.Location) string {
	if r.At.IsZero() {
		return ""
	}
	return r.At.In(zoneOr(loc)).Format(DateLayout)
}

// spansMonths reports whether a record's counts fall on days of their own
// beside its event (a dispute resolved, a project started and completed):
// its edits are judged by the days they move, not by its event day.
func spansMonths(t RecordType) bool { return t == TypeDispute || t == TypeProject }

// LockCache holds the locked periods in memory, reloaded after each
// approval change; the set is small (villages × months).
type LockCache struct {
	mu     sync.Mutex
	locks  map[string]PeriodLock
	loaded bool
}

// Changed drops the cache: the next lookup reloads it.
func (c *LockCache) Changed() {
	c.mu.Lock()
	c.loaded = false
	c.mu.Unlock()
}

func (c *LockCache) get(ctx context.Context, load func(context.Context) ([]Approval, error)) (map[string]PeriodLock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return c.locks, nil
	}
	as, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.locks = make(map[string]PeriodLock, len(as))
	for _, a := range as {
		l := PeriodLock{Level: a.Level, ScopeID: a.ScopeID, TownID: a.TownID, Period: a.Period, LockedBy: a.LockedBy, LockedByName: a.LockedByName}
		if a.LockedAt != nil {
			l.LockedAt = *a.LockedAt
		}
		c.locks[a.Key()] = l
	}
	c.loaded = true
	return c.locks, nil
}

// ApprovalService submits, approves, returns and unlocks periods.
type ApprovalService struct {
	Store ApprovalStore
	Org   OrgStore
	Audit Auditor
	Cache *LockCache
	Notes Notifier // nil: no reminders
	Now   Clock
	Loc   *time.Location
}

var (
	monthPeriodRE = regexp.MustCompile(`^\d{4}(0[1-9]|1[0-2])$`)
	halfPeriodRE  = regexp.MustCompile(`^\d{4}S[12]$`)
)

// HalfOf is the half-year of a date: 2026-03-05 → 2026S1.
func HalfOf(day string) string {
	if day[5:7] <= "06" {
		return day[:4] + "S1"
	}
	return day[:4] + "S2"
}

// Locked returns the lock holding a day of a village: its month approved,
// or its town's half-year.
func (s ApprovalService) Locked(ctx context.Context, villageID, townID, day string) (*PeriodLock, error) {
	locks, err := s.Cache.get(ctx, s.Store.LockedApprovals)
	if err != nil {
		return nil, err
	}
	if l, ok := locks[ApprovalKey(ApprovalVillage, villageID, day[:4]+day[5:7])]; ok {
		return &l, nil
	}
	if l, ok := locks[ApprovalKey(ApprovalTown, townID, HalfOf(day))]; ok {
		return &l, nil
	}
	return nil, nil
}

// resolve checks the level and period and finds the scope's town.
func (s ApprovalService) resolve(ctx context.Context, c Caller, level, scopeID, period string) (townID string, err error) {
	var v Validator
	switch level {
	case ApprovalVillage:
		if !monthPeriodRE.MatchString(period) {
			v.Add("period", FieldInvalid, "a village approves a month, like 202603")
		}
	case ApprovalTown:
		if !halfPeriodRE.MatchString(period) {
			v.Add("period", FieldInvalid, "a town approves a half-year, like 2026S1")
		}
	default:
		return "", NotFound("approval")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if level == ApprovalVillage {
		vil, err := visibleVillage(ctx, s.Org, c, scopeID)
		return vil.TownID, err
	}
	t, err := visibleTown(ctx, s.Org, c, scopeID)
	return t.ID, err
}

// Get returns a period's approval; one never acted on is open.
func (s ApprovalService) Get(ctx context.Context, c Caller, level, scopeID, period string) (Approval, error) {
	townID, err := s.resolve(ctx, c, level, scopeID, period)
	if err != nil {
		return Approval{}, err
	}
	a, err := s.Store.GetApproval(ctx, level, scopeID, period)
	if errors.Is(err, ErrNotFound) {
		return Approval{Level: level, ScopeID: scopeID, TownID: townID, Period: period, State: ApprovalOpen, History: []ApprovalEvent{}}, nil
	}
	return a, err
}

// List lists the approvals in the caller's scope.
func (s ApprovalService) List(ctx context.Context, c Caller, f ApprovalFilter, p Page) (List[Approval], error) {
	sc := c.TownScope()
	if sc.Empty() {
		return List[Approval]{Items: []Approval{}}, nil
	}
	switch {
	case sc.All:
	case f.TownIDs == nil:
		f.TownIDs = sc.IDs
	default: // narrowed to towns: those of them in scope
		f.TownIDs = slices.DeleteFunc(slices.Clone(f.TownIDs), func(t string) bool { return !slices.Contains(sc.IDs, t) })
	}
	l, err := s.Store.ListApprovals(ctx, f, p)
	if err != nil || !c.Role.VillageLevel() {
		return l, err
	}
	// Village-level roles see their villages' months and their towns' half-years.
	l.Items = slices.DeleteFunc(l.Items, func(a Approval) bool {
		return a.Level == ApprovalVillage && !slices.Contains(c.VillageIDs, a.ScopeID)
	})
	return l, nil
}

// may reports whether the caller may take an action on a level in a town.
func may(c Caller, level, action, townID, scopeID string) bool {
	if c.Role == RoleAdmin {
		return true
	}
	if action == ActUnlock {
		return false
	}
	town := c.Role == RoleTownAdmin && c.TownID == townID
	if level == ApprovalTown {
		return action == ActSubmit && town
	}
	switch action {
	case ActSubmit:
		return town || c.Role == RoleTeamLeader && slices.Contains(c.VillageIDs, scopeID)
	default: // approve, return
		return town
	}
}

// moves are the states each action may start from, and where it leads.
var moves = map[string]struct {
	from []string
	to   string
}{
	ActSubmit:  {[]string{ApprovalOpen, ApprovalReturned, ApprovalUnlocked}, ApprovalSubmitted},
	ActApprove: {[]string{ApprovalSubmitted, ApprovalUnlocked}, ApprovalApproved},
	ActReturn:  {[]string{ApprovalSubmitted}, ApprovalReturned},
	ActUnlock:  {[]string{ApprovalApproved}, ApprovalUnlocked},
}

// Act takes an action on a period's approval. Taking it again once it is
// taken (a resend) changes nothing and answers unchanged.
func (s ApprovalService) Act(ctx context.Context, c Caller, level, scopeID, period, action, comment string, version int) (Approval, bool, error) {
	mv, ok := moves[action]
	if !ok {
		return Approval{}, false, NotFound("action")
	}
	a, err := s.Get(ctx, c, level, scopeID, period)
	if err != nil {
		return Approval{}, false, err
	}
	if !may(c, level, action, a.TownID, scopeID) {
		return Approval{}, false, Forbidden()
	}
	var v Validator
	comment = strings.TrimSpace(comment)
	if (action == ActReturn || action == ActUnlock) && comment == "" {
		v.Add("comment", FieldRequired, "give the reason")
	}
	v.MaxLen("comment", comment, maxReviewComment)
	// A period is submitted and approved once it is over: locking one still
	// running would stop the work filed today.
	if p, err := ParsePeriod(period); err == nil && (action == ActSubmit || action == ActApprove) && p.To >= Today(s.Now(), zoneOr(s.Loc)) {
		v.Add("period", FieldRange, "the period is not over yet (it ends "+p.To+")")
	}
	if err := v.Err(); err != nil {
		return Approval{}, false, err
	}
	if a.State == mv.to {
		return a, true, nil
	}
	if !slices.Contains(mv.from, a.State) {
		return Approval{}, false, &Error{Kind: KindConflict, Code: "invalid_transition",
			Message: fmt.Sprintf("a period that is %s cannot be %s", a.State, map[string]string{ActSubmit: "submitted", ActApprove: "approved", ActReturn: "returned", ActUnlock: "unlocked"}[action])}
	}
	if version != 0 && version != a.Version {
		return Approval{}, false, staleErr()
	}
	now := s.Now()
	a.State, a.Version, a.UpdatedAt = mv.to, a.Version+1, now
	a.History = append(slices.Clone(a.History), ApprovalEvent{Action: action, State: mv.to, By: c.UserID, ByName: c.Name, At: now, Comment: comment})
	a.LockedBy, a.LockedByName, a.LockedAt = "", "", nil
	if mv.to == ApprovalApproved {
		a.LockedBy, a.LockedByName, a.LockedAt = c.UserID, c.Name, &now
	}
	if err := s.Store.PutApproval(ctx, a); errors.Is(err, ErrStale) {
		return Approval{}, false, staleErr()
	} else if err != nil {
		return Approval{}, false, fmt.Errorf("approval: %w", err)
	}
	s.Cache.Changed()
	if err := s.Audit.Record(ctx, c, "approval", a.Key(), "approval:"+action, a.TownID); err != nil {
		return a, false, err
	}
	return a, false, s.remind(ctx, a, action)
}

// remind tells the members of the period's villages that it is about to be
// locked (submitted) or locked (approved).
func (s ApprovalService) remind(ctx context.Context, a Approval, action string) error {
	if s.Notes == nil {
		return nil
	}
	if action != ActSubmit {
		settled(ctx, s.Notes, RulePeriodSubmitted, a.Key())
	}
	if action != ActSubmit && action != ActApprove {
		return nil
	}
	villages := []string{a.ScopeID}
	what := a.Period[:4] + "年" + strings.TrimLeft(a.Period[4:], "0") + "月"
	if a.Level == ApprovalTown {
		vs, err := AllPages(func(p Page) (List[Village], error) {
			return s.Org.ListVillages(ctx, VillageFilter{Scope: Scope{All: true}, TownID: a.ScopeID}, p)
		})
		if err != nil {
			return fmt.Errorf("approval reminders: %w", err)
		}
		villages = villages[:0]
		for _, v := range vs {
			villages = append(villages, v.ID)
		}
		what = a.Period[:4] + map[string]string{"S1": "年上半年", "S2": "年下半年"}[a.Period[4:]]
	}
	n := Notice{VillageIDs: villages, Item: a.Key(), Data: map[string]string{"level": a.Level, "scopeId": a.ScopeID, "period": a.Period}}
	if action == ActSubmit {
		n.Rule, n.Title, n.Body = RulePeriodSubmitted, "数据即将锁定", what+"数据已提交审核，审核通过后锁定，请及时补正"
	} else {
		n.Rule, n.Title, n.Body = RulePeriodLocked, "数据已锁定", what+"数据已审核锁定"
	}
	notify(ctx, s.Notes, n)
	return nil
}

// HalfApproved reports whether a town's half-year is approved.
func (s ApprovalService) HalfApproved(ctx context.Context, townID, period string) (bool, error) {
	a, err := s.Store.GetApproval(ctx, ApprovalTown, townID, period)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && a.State == ApprovalApproved, err
}
