package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Target kinds.
const (
	TargetCommon         = "common"         // 共性目标
	TargetDifferentiated = "differentiated" // 差异化目标
)

// Target statuses, derived from the latest progress.
const (
	TargetNotStarted = "not_started"
	TargetInProgress = "in_progress"
	TargetDone       = "done"
)

// Target is an annual target item of a village (整顿年度目标事项).
type Target struct {
	ID         string
	VillageID  string
	TownID     string
	CampaignID string
	Domain     string // a domains code
	Task       string // a tasks code of that domain
	Kind       string
	Title      string
	Year       int
	Due        string // YYYY-MM-DD
	Percent    int    // from the latest progress entry
	ProgressAt string // the date of the latest progress entry
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// Status is not_started, in_progress or done, from the latest progress.
func (t Target) Status() string {
	switch {
	case t.Percent >= 100:
		return TargetDone
	case t.Percent > 0:
		return TargetInProgress
	}
	return TargetNotStarted
}

// Overdue reports whether the target is past due and not done on the date today.
func (t Target) Overdue(today string) bool {
	return t.Due != "" && t.Due < today && t.Status() != TargetDone
}

// Progress is one dated report of a target's progress, kept as history.
type Progress struct {
	ID        string
	TargetID  string
	VillageID string
	TownID    string
	Date      string
	Percent   int
	Note      string
	By        string
	CreatedAt time.Time
}

// TargetFilter narrows a target listing.
type TargetFilter struct {
	Scope     Scope // villages
	VillageID string
	Year      int
	Domain    string
	Kind      string
}

// TargetStore keeps target items and their progress.
type TargetStore interface {
	InsertTarget(ctx context.Context, t Target) error
	// UpdateTarget replaces t if its stored version is t.Version-1; ErrStale otherwise.
	UpdateTarget(ctx context.Context, t Target) error
	GetTarget(ctx context.Context, id string) (Target, error)
	ListTargets(ctx context.Context, f TargetFilter, p Page) (List[Target], error)
	InsertProgress(ctx context.Context, p Progress) error
	// ProgressOf returns a target's progress, oldest first.
	ProgressOf(ctx context.Context, targetID string) ([]Progress, error)
}

// TargetInput creates or (nil fields left alone) changes a target.
type TargetInput struct {
	CampaignID *string
	Domain     *string
	Task       *string
	Kind       *string
	Title      *string
	Year       *int
	Due        *string
}

func (s LedgerService) checkTarget(ctx context.Context, t *Target, in TargetInput) error {
	var v Validator
	set(&t.CampaignID, in.CampaignID)
	set(&t.Domain, in.Domain)
	set(&t.Task, in.Task)
	set(&t.Kind, in.Kind)
	set(&t.Title, in.Title)
	set(&t.Due, in.Due)
	if in.Year != nil {
		t.Year = *in.Year
	}
	if v.Required("title", t.Title) {
		v.MaxLen("title", t.Title, 500)
	}
	if t.Kind != TargetCommon && t.Kind != TargetDifferentiated {
		v.Add("kind", FieldInvalid, "kind must be common or differentiated")
	}
	if t.Year < 2000 || t.Year > 2100 {
		v.Add("year", FieldRange, "year must be from 2000 to 2100")
	}
	checkDate(&v, "due", t.Due, false)
	if v.Required("domain", t.Domain) {
		if err := checkCodes(ctx, s.Catalogues, &v, "domain", CatDomains, []string{t.Domain}); err != nil {
			return err
		}
	}
	if v.Required("task", t.Task) {
		task, err := s.Catalogues.CatalogueItem(ctx, CatTasks, t.Task)
		switch {
		case errors.Is(err, ErrNotFound) || err == nil && !task.Active:
			v.Add("task", FieldUnknown, fmt.Sprintf("no such active tasks code: %q", t.Task))
		case err != nil:
			return err
		case task.Domain != t.Domain:
			v.Add("task", FieldInvalid, fmt.Sprintf("task %q belongs to domain %q", t.Task, task.Domain))
		}
	}
	if t.CampaignID != "" {
		if _, err := s.Campaigns.GetSelection(ctx, t.CampaignID, t.VillageID); errors.Is(err, ErrNotFound) {
			v.Add("campaignId", FieldUnknown, "the village is not selected in this campaign")
		} else if err != nil {
			return err
		}
	}
	return v.Err()
}

// CreateTarget adds a target item to a village.
func (s LedgerService) CreateTarget(ctx context.Context, c Caller, villageID string, in TargetInput) (Target, error) {
	vil, err := s.village(ctx, c, villageID)
	if err != nil {
		return Target{}, err
	}
	if !canWriteVillage(c, vil.ID, vil.TownID) {
		return Target{}, Forbidden()
	}
	t := Target{VillageID: vil.ID, TownID: vil.TownID}
	if err := s.checkTarget(ctx, &t, in); err != nil {
		return Target{}, err
	}
	now := s.Now()
	t.ID, t.CreatedBy, t.CreatedAt, t.UpdatedAt, t.Version = s.IDs.New(now), c.UserID, now, now, 1
	if err := s.Targets.InsertTarget(ctx, t); err != nil {
		return Target{}, fmt.Errorf("create target: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "target", t.ID, "create", t.TownID)
}

// GetTarget returns a target of a village in the caller's scope.
func (s LedgerService) GetTarget(ctx context.Context, c Caller, id string) (Target, error) {
	t, err := s.Targets.GetTarget(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !c.CanSeeVillage(t.VillageID, t.TownID) {
		return Target{}, NotFound("target")
	}
	return t, err
}

// ListTargets lists the targets of a village (or of every village in scope).
func (s LedgerService) ListTargets(ctx context.Context, c Caller, f TargetFilter, p Page) (List[Target], error) {
	if f.VillageID != "" {
		if _, err := s.village(ctx, c, f.VillageID); err != nil {
			return List[Target]{}, err
		}
	}
	f.Scope = c.VillageScope()
	if f.Scope.Empty() {
		return List[Target]{}, nil
	}
	return s.Targets.ListTargets(ctx, f, p)
}

// UpdateTarget changes a target item; version as for UpdateProblem.
func (s LedgerService) UpdateTarget(ctx context.Context, c Caller, id string, version int, in TargetInput) (Target, error) {
	t, err := s.GetTarget(ctx, c, id)
	if err != nil {
		return Target{}, err
	}
	if !canWriteVillage(c, t.VillageID, t.TownID) {
		return Target{}, Forbidden()
	}
	if version != 0 && version != t.Version {
		return Target{}, staleErr()
	}
	if err := s.checkTarget(ctx, &t, in); err != nil {
		return Target{}, err
	}
	return s.saveTarget(ctx, c, t, "update")
}

func (s LedgerService) saveTarget(ctx context.Context, c Caller, t Target, action string) (Target, error) {
	t.UpdatedAt = s.Now()
	t.Version++
	if err := s.Targets.UpdateTarget(ctx, t); errors.Is(err, ErrStale) {
		return Target{}, staleErr()
	} else if err != nil {
		return Target{}, fmt.Errorf("%s target: %w", action, err)
	}
	return t, s.Audit.Record(ctx, c, "target", t.ID, action, t.TownID)
}

// ProgressInput reports a target's progress.
type ProgressInput struct {
	Date    string
	Percent *int
	Note    string
}

// AddProgress records a dated progress report of a target and updates the
// target's percentage from the latest report (by date, then by entry).
func (s LedgerService) AddProgress(ctx context.Context, c Caller, targetID string, in ProgressInput) (Progress, Target, error) {
	t, err := s.GetTarget(ctx, c, targetID)
	if err != nil {
		return Progress{}, Target{}, err
	}
	if !canWriteVillage(c, t.VillageID, t.TownID) {
		return Progress{}, Target{}, Forbidden()
	}
	var v Validator
	checkDate(&v, "date", in.Date, true)
	if ValidDate(in.Date) && in.Date > Today(s.Now(), s.Loc) {
		v.Add("date", FieldRange, "date is in the future")
	}
	switch {
	case in.Percent == nil:
		v.Add("percent", FieldRequired, "percent is required")
	case *in.Percent < 0 || *in.Percent > 100:
		v.Add("percent", FieldRange, "percent must be from 0 to 100")
	}
	in.Note = strings.TrimSpace(in.Note)
	v.MaxLen("note", in.Note, 4000)
	if err := v.Err(); err != nil {
		return Progress{}, Target{}, err
	}
	now := s.Now()
	pr := Progress{ID: s.IDs.New(now), TargetID: t.ID, VillageID: t.VillageID, TownID: t.TownID, Date: in.Date,
		Percent: *in.Percent, Note: in.Note, By: c.UserID, CreatedAt: now}
	if err := s.Targets.InsertProgress(ctx, pr); err != nil {
		return Progress{}, Target{}, fmt.Errorf("add progress: %w", err)
	}
	// The history is the truth; the target carries its latest entry.
	hist, err := s.Targets.ProgressOf(ctx, t.ID)
	if err != nil {
		return pr, Target{}, fmt.Errorf("add progress: %w", err)
	}
	latest := pr
	for _, h := range hist {
		if h.Date > latest.Date || h.Date == latest.Date && h.ID > latest.ID {
			latest = h
		}
	}
	for range 3 {
		t.Percent, t.ProgressAt = latest.Percent, latest.Date
		saved, err := s.saveTarget(ctx, c, t, "progress")
		if err == nil {
			return pr, saved, nil
		}
		if !errors.Is(err, ErrStale) {
			return pr, Target{}, err
		}
		// Someone changed the target meanwhile: reread and apply again.
		if t, err = s.Targets.GetTarget(ctx, targetID); err != nil {
			return pr, Target{}, fmt.Errorf("add progress: %w", err)
		}
	}
	return pr, Target{}, staleErr()
}

// ProgressOf lists a target's progress history, oldest first.
func (s LedgerService) ProgressOf(ctx context.Context, c Caller, targetID string) ([]Progress, error) {
	if _, err := s.GetTarget(ctx, c, targetID); err != nil {
		return nil, err
	}
	return s.Targets.ProgressOf(ctx, targetID)
}
