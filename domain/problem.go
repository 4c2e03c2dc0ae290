package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrStale means an edit named a version that is no longer current.
var ErrStale = errors.New("stale version")

func staleErr() error {
	return &Error{Kind: KindPrecondition, Code: "version_mismatch",
		Message: "the record was changed by someone else; fetch it again and reapply your change", Err: ErrStale}
}

// canWriteVillage reports whether the caller may change the records of a
// village: admins, its town's admin, and the cadres assigned to it.
func canWriteVillage(c Caller, villageID, townID string) bool {
	switch {
	case c.Role == RoleAdmin:
		return true
	case c.Role == RoleTownAdmin:
		return c.TownID == townID
	case c.Role.VillageLevel():
		return slices.Contains(c.VillageIDs, villageID)
	}
	return false
}

// Problem statuses.
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusResolved   = "resolved"
)

// ProblemSources are where a problem came to light.
var ProblemSources = []string{"evaluation", "petition", "discipline", "political_legal", "field_check", "team", "other"}

// Problem is one entry of a village's problem list (问题清单).
type Problem struct {
	ID          string
	VillageID   string
	TownID      string
	CampaignID  string
	Aspect      string // a problem-aspects code
	Description string
	Source      string
	Status      string
	Resolution  string
	ResolvedAt  string // YYYY-MM-DD
	PhotoIDs    []string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int
}

// ProblemFilter narrows a problem listing.
type ProblemFilter struct {
	Scope     Scope // villages
	VillageID string
	Status    string
	Aspect    string
}

// ProblemStore keeps problem lists.
type ProblemStore interface {
	InsertProblem(ctx context.Context, p Problem) error
	// UpdateProblem replaces p if its stored version is p.Version-1; ErrStale otherwise.
	UpdateProblem(ctx context.Context, p Problem) error
	GetProblem(ctx context.Context, id string) (Problem, error)
	ListProblems(ctx context.Context, f ProblemFilter, p Page) (List[Problem], error)
}

// LedgerService keeps the rectification ledger of selected villages:
// problem lists and target items.
type LedgerService struct {
	IDs        IDs // ids of what it creates; nil: NewID
	Problems   ProblemStore
	Targets    TargetStore
	Teams      TeamStore
	Campaigns  CampaignStore
	Org        OrgStore
	Catalogues CatalogueStore
	Audit      Auditor
	Now        Clock
	Loc        *time.Location // the campaign's time zone, for dates
	// Photos and Records, when set, refuse photo ids of another village's photos.
	Photos  PhotoIndex
	Records RecordStore
}

// village returns a village in the caller's scope.
func (s LedgerService) village(ctx context.Context, c Caller, id string) (Village, error) {
	return visibleVillage(ctx, s.Org, c, id)
}

// visibleVillage returns a village in the caller's scope; any other is 404.
func visibleVillage(ctx context.Context, org OrgStore, c Caller, id string) (Village, error) {
	v, err := org.GetVillage(ctx, id, c.VillageScope())
	if errors.Is(err, ErrNotFound) {
		return Village{}, NotFound("village")
	}
	return v, err
}

// visibleTown returns a town in the caller's scope; any other is 404.
func visibleTown(ctx context.Context, org OrgStore, c Caller, id string) (Town, error) {
	t, err := org.GetTown(ctx, id, c.TownScope())
	if errors.Is(err, ErrNotFound) {
		return Town{}, NotFound("town")
	}
	return t, err
}

// ProblemInput creates or (nil fields left alone) changes a problem.
type ProblemInput struct {
	CampaignID  *string
	Aspect      *string
	Description *string
	Source      *string
	Status      *string
	Resolution  *string
	ResolvedAt  *string
	PhotoIDs    *[]string
}

func set(dst *string, src *string) {
	if src != nil {
		*dst = strings.TrimSpace(*src)
	}
}

func (s LedgerService) checkProblem(ctx context.Context, p *Problem, in ProblemInput, prevStatus string) error {
	var v Validator
	set(&p.CampaignID, in.CampaignID)
	set(&p.Aspect, in.Aspect)
	set(&p.Description, in.Description)
	set(&p.Source, in.Source)
	set(&p.Status, in.Status)
	set(&p.Resolution, in.Resolution)
	set(&p.ResolvedAt, in.ResolvedAt)
	if in.PhotoIDs != nil {
		p.PhotoIDs = *in.PhotoIDs
	}
	fieldCheck{v: &v}.photos(p.PhotoIDs)
	if v.OK() {
		if _, err := CheckPhotoRefs(ctx, s.Photos, s.Records, &v, "photoIds", p.VillageID, p.PhotoIDs); err != nil {
			return err
		}
	}
	if v.Required("aspect", p.Aspect) {
		if err := checkCodes(ctx, s.Catalogues, &v, "aspect", CatProblemAspects, []string{p.Aspect}); err != nil {
			return err
		}
	}
	if v.Required("description", p.Description) {
		v.MaxLen("description", p.Description, 4000)
	}
	if !slices.Contains(ProblemSources, p.Source) {
		v.Add("source", FieldInvalid, "source must be one of "+strings.Join(ProblemSources, ", "))
	}
	if p.CampaignID != "" {
		if _, err := s.Campaigns.GetSelection(ctx, p.CampaignID, p.VillageID); errors.Is(err, ErrNotFound) {
			v.Add("campaignId", FieldUnknown, "the village is not selected in this campaign")
		} else if err != nil {
			return err
		}
	}
	switch p.Status {
	case StatusOpen, StatusInProgress:
		if in.Status != nil && prevStatus == StatusResolved {
			// Reopened: the resolution no longer holds.
			p.Resolution, p.ResolvedAt = "", ""
		}
		if in.Resolution != nil && p.Resolution != "" || in.ResolvedAt != nil && p.ResolvedAt != "" {
			v.Add("status", FieldInvalid, "only a resolved problem has a resolution")
		}
	case StatusResolved:
		if v.Required("resolution", p.Resolution) {
			v.MaxLen("resolution", p.Resolution, 4000)
		}
		checkDate(&v, "resolvedAt", p.ResolvedAt, true)
		if ValidDate(p.ResolvedAt) && p.ResolvedAt > Today(s.Now(), s.Loc) {
			v.Add("resolvedAt", FieldRange, "resolvedAt is in the future")
		}
	default:
		v.Add("status", FieldInvalid, "status must be open, in_progress or resolved")
	}
	return v.Err()
}

// CreateProblem adds a problem to a village's list.
func (s LedgerService) CreateProblem(ctx context.Context, c Caller, villageID string, in ProblemInput) (Problem, error) {
	vil, err := s.village(ctx, c, villageID)
	if err != nil {
		return Problem{}, err
	}
	if !canWriteVillage(c, vil.ID, vil.TownID) {
		return Problem{}, Forbidden()
	}
	p := Problem{VillageID: vil.ID, TownID: vil.TownID, Status: StatusOpen}
	if err := s.checkProblem(ctx, &p, in, ""); err != nil {
		return Problem{}, err
	}
	now := s.Now()
	p.ID, p.CreatedBy, p.CreatedAt, p.UpdatedAt, p.Version = s.IDs.New(now), c.UserID, now, now, 1
	if err := s.Problems.InsertProblem(ctx, p); err != nil {
		return Problem{}, fmt.Errorf("create problem: %w", err)
	}
	return p, s.Audit.Record(ctx, c, "problem", p.ID, "create", p.TownID)
}

// GetProblem returns a problem of a village in the caller's scope.
func (s LedgerService) GetProblem(ctx context.Context, c Caller, id string) (Problem, error) {
	p, err := s.Problems.GetProblem(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !c.CanSeeVillage(p.VillageID, p.TownID) {
		return Problem{}, NotFound("problem")
	}
	return p, err
}

// ListProblems lists the problems of a village (or, with an empty
// villageID, of every village in scope).
func (s LedgerService) ListProblems(ctx context.Context, c Caller, f ProblemFilter, p Page) (List[Problem], error) {
	if f.VillageID != "" {
		if _, err := s.village(ctx, c, f.VillageID); err != nil {
			return List[Problem]{}, err
		}
	}
	var v Validator
	if f.Status != "" && !slices.Contains([]string{StatusOpen, StatusInProgress, StatusResolved}, f.Status) {
		v.Add("status", FieldInvalid, "status must be open, in_progress or resolved")
	}
	if err := v.Err(); err != nil {
		return List[Problem]{}, err
	}
	f.Scope = c.VillageScope()
	if f.Scope.Empty() {
		return List[Problem]{}, nil
	}
	return s.Problems.ListProblems(ctx, f, p)
}

// UpdateProblem changes a problem. version, when not zero, must be the
// current version (optimistic concurrency: 412 otherwise).
func (s LedgerService) UpdateProblem(ctx context.Context, c Caller, id string, version int, in ProblemInput) (Problem, error) {
	p, err := s.GetProblem(ctx, c, id)
	if err != nil {
		return Problem{}, err
	}
	if !canWriteVillage(c, p.VillageID, p.TownID) {
		return Problem{}, Forbidden()
	}
	if version != 0 && version != p.Version {
		return Problem{}, staleErr()
	}
	if err := s.checkProblem(ctx, &p, in, p.Status); err != nil {
		return Problem{}, err
	}
	p.UpdatedAt = s.Now()
	p.Version++
	if err := s.Problems.UpdateProblem(ctx, p); errors.Is(err, ErrStale) {
		return Problem{}, staleErr()
	} else if err != nil {
		return Problem{}, fmt.Errorf("update problem: %w", err)
	}
	return p, s.Audit.Record(ctx, c, "problem", p.ID, "update", p.TownID)
}
