package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Review states of a field record: filed records are submitted; a
// reviewer approves one, or returns it with a comment; the author's edit
// of a returned (or approved) record submits it again.
const (
	ReviewSubmitted = "submitted"
	ReviewApproved  = "approved"
	ReviewReturned  = "returned"
)

// ReviewStates lists the review states.
var ReviewStates = []string{ReviewSubmitted, ReviewApproved, ReviewReturned}

// Review decisions.
const (
	DecisionApprove = "approve"
	DecisionReturn  = "return"
)

// ReviewEvent is one step of a record's review: a decision, or the
// author's resubmission by an edit.
type ReviewEvent struct {
	State   string
	By      string
	ByName  string
	At      time.Time
	Comment string
}

// maxReviewHistory bounds the review steps a record keeps.
const maxReviewHistory = 50

// ReviewState is the record's review state (submitted when never reviewed).
func (r Record) ReviewState() string {
	if r.Review == "" {
		return ReviewSubmitted
	}
	return r.Review
}

// ReviewComment is the comment of the decision the record stands in
// (the reason it was returned), or "".
func (r Record) ReviewComment() string {
	if n := len(r.ReviewHistory); n > 0 && r.ReviewHistory[n-1].State == r.ReviewState() {
		return r.ReviewHistory[n-1].Comment
	}
	return ""
}

// Reviewable reports whether records of a type are reviewed.
func Reviewable(t RecordType) bool {
	return slices.Contains([]RecordType{TypeReport, TypeDispute, TypeProject, TypeProjectUpdate, TypeFund, TypePhoto}, t)
}

// withReviewEvent returns the history with one step added, bounded.
func withReviewEvent(h []ReviewEvent, e ReviewEvent) []ReviewEvent {
	out := append(slices.Clone(h), e)
	return out[max(0, len(out)-maxReviewHistory):]
}

// resubmit puts an edited record back to submitted when it had been
// approved or returned, with the step in its history.
func resubmit(stored Record, next *Record, c Caller, now time.Time) {
	next.Review, next.ReviewHistory = stored.Review, stored.ReviewHistory
	if st := stored.ReviewState(); st != ReviewSubmitted {
		next.Review = ReviewSubmitted
		next.ReviewHistory = withReviewEvent(stored.ReviewHistory, ReviewEvent{State: ReviewSubmitted, By: c.UserID, ByName: c.Name, At: now, Comment: "edited after " + st})
	}
}

// CanReview reports whether the caller reviews a village's records: an
// admin anywhere, a town admin in its town, a team leader in its villages.
func CanReview(c Caller, villageID, townID string) bool {
	switch c.Role {
	case RoleAdmin:
		return true
	case RoleTownAdmin:
		return c.TownID != "" && c.TownID == townID
	case RoleTeamLeader:
		return slices.Contains(c.VillageIDs, villageID)
	}
	return false
}

// ReviewItem is one decision of a review request.
type ReviewItem struct {
	ID       string
	Decision string // approve or return
	Comment  string // required to return
	Version  int    // 0: any, else must be the stored one
}

// ReviewResult is the outcome of one item: the record as stored after it,
// unchanged when it already stood so (a resend), or the item's error.
type ReviewResult struct {
	Record    Record
	Unchanged bool
	Err       error
}

// ReviewService records review decisions on field records.
type ReviewService struct {
	Records RecordStore
	Audit   Auditor
	Locks   PeriodLocks // nil: no locks
	Notes   Notifier    // nil: no reminders
	Now     Clock
	Loc     *time.Location
}

// Review limits.
const (
	MaxReviewItems   = 200
	maxReviewComment = 1000
)

// Review applies each decision on its own: one refused item never sinks
// the rest.
func (s ReviewService) Review(ctx context.Context, c Caller, items []ReviewItem) ([]ReviewResult, error) {
	if len(items) == 0 || len(items) > MaxReviewItems {
		var v Validator
		v.Add("items", FieldRange, fmt.Sprintf("send from 1 to %d items", MaxReviewItems))
		return nil, v.Err()
	}
	if !slices.Contains([]Role{RoleAdmin, RoleTownAdmin, RoleTeamLeader}, c.Role) {
		return nil, Forbidden()
	}
	out := make([]ReviewResult, len(items))
	for i, it := range items {
		r, same, err := s.one(ctx, c, it)
		out[i] = ReviewResult{Record: r, Unchanged: same, Err: err}
	}
	return out, nil
}

func (s ReviewService) one(ctx context.Context, c Caller, it ReviewItem) (Record, bool, error) {
	var v Validator
	state := map[string]string{DecisionApprove: ReviewApproved, DecisionReturn: ReviewReturned}[it.Decision]
	if state == "" {
		v.Add("decision", FieldInvalid, "decision must be approve or return")
	}
	comment := strings.TrimSpace(it.Comment)
	if it.Decision == DecisionReturn && comment == "" {
		v.Add("comment", FieldRequired, "say why the record is returned")
	}
	v.MaxLen("comment", comment, maxReviewComment)
	if !ValidID(it.ID) {
		v.Add("id", FieldInvalid, "id must be a record's id")
	}
	if err := v.Err(); err != nil {
		return Record{}, false, err
	}
	stored, err := s.Records.GetRecord(ctx, it.ID)
	if errors.Is(err, ErrNotFound) || err == nil && (stored.Deleted || !c.CanSeeVillage(stored.VillageID, stored.TownID)) {
		return Record{}, false, NotFound("record")
	} else if err != nil {
		return Record{}, false, fmt.Errorf("review: %w", err)
	}
	if !Reviewable(stored.Type) {
		return Record{}, false, NotFound("record")
	}
	if !CanReview(c, stored.VillageID, stored.TownID) {
		return Record{}, false, Forbidden()
	}
	if stored.CreatedBy == c.UserID {
		return Record{}, false, &Error{Kind: KindForbidden, Code: "own_record", Message: "nobody reviews their own record"}
	}
	if stored.ReviewState() == state && stored.ReviewComment() == comment {
		return stored, true, nil // a resend: it stands so already
	}
	if it.Version != 0 && it.Version != stored.Version {
		return Record{}, false, staleErr()
	}
	now := s.Now()
	next := stored
	next.Review = state
	next.ReviewHistory = withReviewEvent(stored.ReviewHistory, ReviewEvent{State: state, By: c.UserID, ByName: c.Name, At: now, Comment: comment})
	next.Version, next.UpdatedAt = stored.Version+1, now
	delta := StatDelta(&stored, next, s.Loc)
	// A locked period's records are not reviewed either: a return there
	// would ask for an edit the lock refuses.
	var days []string
	if !spansMonths(stored.Type) {
		days = []string{eventDay(stored, s.Loc)}
	}
	if err := checkLocks(ctx, s.Locks, stored, days, delta); err != nil {
		return Record{}, false, err
	}
	entry := s.Audit.Entry(c, string(stored.Type), stored.ID, "review:"+it.Decision, stored.TownID)
	saved, err := s.Records.ReplaceRecord(ctx, RecordWrite{Record: next, Audit: &entry, Delta: delta})
	if errors.Is(err, ErrStale) {
		return Record{}, false, staleErr()
	} else if err != nil {
		return Record{}, false, fmt.Errorf("review: %w", err)
	}
	if state == ReviewReturned {
		notify(ctx, s.Notes, Notice{UserIDs: []string{stored.CreatedBy}, Rule: RuleRecordReturned, Item: stored.ID,
			Title: "记录被退回", Body: c.Name + "退回：" + comment,
			Data: map[string]string{"recordId": stored.ID, "type": string(stored.Type), "villageId": stored.VillageID}})
	} else {
		settled(ctx, s.Notes, RuleRecordReturned, stored.ID)
	}
	return saved, false, nil
}
