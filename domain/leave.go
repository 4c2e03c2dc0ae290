package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Leave and absence (请销假 / 外出报备): a cadre asks for days off post
// with a reason; the team leader or the town admin approves or refuses.
// Approved days leave the denominator of the on-post rate.

// Leave kinds.
const (
	LeaveKindLeave  = "leave"  // 请假
	LeaveKindOuting = "outing" // 外出报备: away on work
)

// Leave states.
const (
	LeavePending   = "pending"
	LeaveApproved  = "approved"
	LeaveRefused   = "refused"
	LeaveCancelled = "cancelled"
)

// Leave is one request for days off post.
type Leave struct {
	ID         string // the client's UUID
	CadreID    string
	CadreName  string
	TownIDs    []string // the cadre's towns and villages when it asked, for scope
	VillageIDs []string
	Kind       string
	From, To   string // YYYY-MM-DD, both included
	Reason     string
	State      string
	Comment    string // the decision's
	DecidedBy  string
	DecidedAt  *time.Time
	Hash       string // what the request said, so a resend is told from another request
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// LeaveFilter narrows a listing; empty fields match everything.
type LeaveFilter struct {
	CadreID    string
	TownIDs    []string // any of these towns (nil: every town)
	VillageIDs []string // any of these villages (nil: every village)
	State      string
	From, To   string // overlapping these dates
}

// LeaveStore keeps leave requests.
type LeaveStore interface {
	// CreateLeave stores a new request; ErrDuplicate with the stored one when the id exists.
	CreateLeave(ctx context.Context, l Leave) (Leave, error)
	// ReplaceLeave stores l if the stored version is l.Version-1: ErrStale otherwise.
	ReplaceLeave(ctx context.Context, l Leave) error
	GetLeave(ctx context.Context, id string) (Leave, error)
	// ListLeaves lists newest first (by id, which is the client's UUID: by
	// creation for UUIDv7), after the page's cursor.
	ListLeaves(ctx context.Context, f LeaveFilter, p Page) (List[Leave], error)
	// ApprovedLeaves lists the approved requests overlapping from–to.
	ApprovedLeaves(ctx context.Context, from, to string) ([]Leave, error)
}

// LeaveDays are the days from–to that approved leaves give a cadre.
func LeaveDays(leaves []Leave, cadreID, from, to string) []string {
	out := []string{}
	for _, l := range leaves {
		if l.CadreID != cadreID || l.State != LeaveApproved {
			continue
		}
		f, _ := time.Parse(DateLayout, max(l.From, from))
		t, _ := time.Parse(DateLayout, min(l.To, to))
		for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
			out = append(out, d.Format(DateLayout))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// LeaveService keeps leave requests and their decisions.
type LeaveService struct {
	Store LeaveStore
	Audit Auditor
	Now   Clock
	Loc   *time.Location
	// Notes, when set, tells the cadre of a decision.
	Notes Notifier
}

// LeaveInput is a request for leave.
type LeaveInput struct {
	ID, Kind, From, To, Reason string
}

// Leave limits.
const (
	maxLeaveDays = 90
	maxLeaveBack = 90 // days in the past a request may begin (reported after the fact)
)

// hash fingerprints what a request says (hex SHA-256), so a resend is told
// apart from another request under the same id.
func (in LeaveInput) hash() string {
	h := sha256.Sum256([]byte(strings.Join([]string{in.Kind, in.From, in.To, strings.TrimSpace(in.Reason)}, "\x00")))
	return hex.EncodeToString(h[:])
}

// canDecideLeave: an admin, a town admin of one of the cadre's towns, a
// team leader of one of its villages; never the cadre itself.
func canDecideLeave(c Caller, l Leave) bool {
	switch {
	case c.UserID == l.CadreID:
		return false
	case c.Role == RoleAdmin:
		return true
	case c.Role == RoleTownAdmin:
		return slices.Contains(l.TownIDs, c.TownID)
	case c.Role == RoleTeamLeader:
		return slices.ContainsFunc(l.VillageIDs, func(v string) bool { return slices.Contains(c.VillageIDs, v) })
	}
	return false
}

// canSeeLeave: the cadre, whoever decides it, and the district roles.
func canSeeLeave(c Caller, l Leave) bool {
	return c.UserID == l.CadreID || c.ReadsAll() || canDecideLeave(c, l)
}

// Request asks for leave for the caller (a cadre or team leader). A resend
// (same id and content) answers the stored request with duplicate true.
func (s LeaveService) Request(ctx context.Context, c Caller, in LeaveInput) (Leave, bool, error) {
	if !c.Role.VillageLevel() {
		return Leave{}, false, Forbidden()
	}
	var v Validator
	if !ValidID(in.ID) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	if in.Kind == "" {
		in.Kind = LeaveKindLeave
	}
	fieldCheck{v: &v}.oneOf("kind", in.Kind, []string{LeaveKindLeave, LeaveKindOuting}, true)
	checkDate(&v, "from", in.From, true)
	checkDate(&v, "to", in.To, true)
	if !v.Required("reason", strings.TrimSpace(in.Reason)) {
		in.Reason = ""
	}
	v.MaxLen("reason", in.Reason, 500)
	now := s.Now()
	if ValidDate(in.From) && ValidDate(in.To) {
		f, _ := time.Parse(DateLayout, in.From)
		t, _ := time.Parse(DateLayout, in.To)
		today, _ := time.Parse(DateLayout, Today(now, zoneOr(s.Loc)))
		switch {
		case t.Before(f):
			v.Add("to", FieldRange, "to is before from")
		case t.Sub(f) >= maxLeaveDays*24*time.Hour:
			v.Add("to", FieldRange, fmt.Sprintf("at most %d days at a time", maxLeaveDays))
		case f.Before(today.AddDate(0, 0, -maxLeaveBack)):
			v.Add("from", FieldRange, fmt.Sprintf("at most %d days back", maxLeaveBack))
		}
	}
	if err := v.Err(); err != nil {
		return Leave{}, false, err
	}
	l := Leave{ID: in.ID, CadreID: c.UserID, CadreName: c.Name, TownIDs: c.VillageTownIDs, VillageIDs: c.VillageIDs,
		Kind: in.Kind, From: in.From, To: in.To, Reason: strings.TrimSpace(in.Reason), State: LeavePending,
		Hash: in.hash(), CreatedAt: now, UpdatedAt: now, Version: 1}
	stored, err := s.Store.CreateLeave(ctx, l)
	if errors.Is(err, ErrDuplicate) {
		if stored.CadreID == l.CadreID && stored.Hash == l.Hash {
			return stored, true, nil
		}
		return Leave{}, false, idConflict()
	} else if err != nil {
		return Leave{}, false, fmt.Errorf("request leave: %w", err)
	}
	return stored, false, s.Audit.Record(ctx, c, "leave", l.ID, "create", first(l.TownIDs))
}

// Get returns a request the caller may see.
func (s LeaveService) Get(ctx context.Context, c Caller, id string) (Leave, error) {
	l, err := s.Store.GetLeave(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !canSeeLeave(c, l) {
		return Leave{}, NotFound("leave")
	}
	return l, err
}

// List lists the requests the caller may see.
func (s LeaveService) List(ctx context.Context, c Caller, f LeaveFilter, p Page) (List[Leave], error) {
	switch {
	case c.ReadsAll():
	case c.Role == RoleTownAdmin && c.TownID != "":
		f.TownIDs = []string{c.TownID}
	case c.Role == RoleTeamLeader:
		if f.CadreID != c.UserID {
			f.VillageIDs = c.VillageIDs
		}
	default:
		f.CadreID = c.UserID
	}
	if f.State != "" && !slices.Contains([]string{LeavePending, LeaveApproved, LeaveRefused, LeaveCancelled}, f.State) {
		var v Validator
		v.Add("state", FieldInvalid, "state must be pending, approved, refused or cancelled")
		return List[Leave]{}, v.Err()
	}
	return s.Store.ListLeaves(ctx, f, p)
}

// Decide approves or refuses a pending request. Deciding it again the same
// way (a resend) changes nothing and answers unchanged.
func (s LeaveService) Decide(ctx context.Context, c Caller, id, decision, comment string, version int) (Leave, bool, error) {
	l, err := s.Get(ctx, c, id)
	if err != nil {
		return Leave{}, false, err
	}
	if !canDecideLeave(c, l) {
		return Leave{}, false, Forbidden()
	}
	var v Validator
	to := map[string]string{DecisionApprove: LeaveApproved, "refuse": LeaveRefused}[decision]
	if to == "" {
		v.Add("decision", FieldInvalid, "decision must be approve or refuse")
	}
	comment = strings.TrimSpace(comment)
	if to == LeaveRefused && comment == "" {
		v.Add("comment", FieldRequired, "say why the leave is refused")
	}
	v.MaxLen("comment", comment, maxReviewComment)
	if err := v.Err(); err != nil {
		return Leave{}, false, err
	}
	if l.State == to {
		return l, true, nil
	}
	if l.State != LeavePending {
		return Leave{}, false, &Error{Kind: KindConflict, Code: "invalid_transition", Message: "the request was " + l.State + " already"}
	}
	return s.move(ctx, c, l, to, comment, version, "decide:"+decision)
}

// Cancel withdraws the caller's own request (pending or approved).
func (s LeaveService) Cancel(ctx context.Context, c Caller, id string, version int) (Leave, bool, error) {
	l, err := s.Get(ctx, c, id)
	if err != nil {
		return Leave{}, false, err
	}
	if l.CadreID != c.UserID {
		return Leave{}, false, Forbidden()
	}
	switch l.State {
	case LeaveCancelled:
		return l, true, nil
	case LeaveRefused:
		return Leave{}, false, &Error{Kind: KindConflict, Code: "invalid_transition", Message: "the request was refused already"}
	}
	return s.move(ctx, c, l, LeaveCancelled, "", version, "cancel")
}

func (s LeaveService) move(ctx context.Context, c Caller, l Leave, to, comment string, version int, action string) (Leave, bool, error) {
	if version != 0 && version != l.Version {
		return Leave{}, false, staleErr()
	}
	now := s.Now()
	l.State, l.Version, l.UpdatedAt = to, l.Version+1, now
	if to != LeaveCancelled {
		l.Comment, l.DecidedBy, l.DecidedAt = comment, c.UserID, &now
	}
	if err := s.Store.ReplaceLeave(ctx, l); errors.Is(err, ErrStale) {
		return Leave{}, false, staleErr()
	} else if err != nil {
		return Leave{}, false, fmt.Errorf("leave: %w", err)
	}
	if err := s.Audit.Record(ctx, c, "leave", l.ID, action, first(l.TownIDs)); err != nil {
		return l, false, err
	}
	if to != LeaveCancelled {
		title := map[string]string{LeaveApproved: "请假已批准", LeaveRefused: "请假未获批准"}[to]
		body := fmt.Sprintf("%s至%s：%s", l.From, l.To, l.Reason)
		if comment != "" {
			body += "（" + comment + "）"
		}
		notify(ctx, s.Notes, Notice{UserIDs: []string{l.CadreID}, Rule: RuleLeaveDecided, Item: l.ID, Title: title, Body: body,
			Data: map[string]string{"leaveId": l.ID, "state": to}})
	}
	return l, false, nil
}
