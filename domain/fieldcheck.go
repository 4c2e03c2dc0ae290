package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FieldCheck is a record of an unannounced field check (四不两直实地调研):
// quarterly, by the organisation department or a town.
type FieldCheck struct {
	ID        string // the client's UUID
	VillageID string
	TownID    string
	Date      string // YYYY-MM-DD
	Quarter   string // 2026Q1, from the date
	Checkers  []string
	Findings  string
	Issues    []string
	Rating    string // good, fair, poor
	PhotoIDs  []string
	CreatedBy string
	CreatedAt time.Time
}

// FieldCheckRatings are a check's overall findings.
var FieldCheckRatings = []string{"good", "fair", "poor"}

// FieldCheckFilter narrows a listing.
type FieldCheckFilter struct {
	Scope     Scope // villages
	VillageID string
	TownID    string
	Quarter   string
}

// FieldCheckStore keeps field checks.
type FieldCheckStore interface {
	// InsertFieldCheck adds a check; ErrDuplicate with the stored one when its id exists.
	InsertFieldCheck(ctx context.Context, fc FieldCheck) (FieldCheck, error)
	ListFieldChecks(ctx context.Context, f FieldCheckFilter, p Page) (List[FieldCheck], error)
}

// FieldCheckService records and lists field checks.
type FieldCheckService struct {
	Store   FieldCheckStore
	Org     OrgStore
	Photos  PhotoIndex
	Records RecordStore
	Audit   Auditor
	Now     Clock
	Loc     *time.Location
}

// Create records a check. A resend with the same id and content answers
// the stored one (duplicate true); other content is 409. Admins, and town
// admins in their town.
func (s FieldCheckService) Create(ctx context.Context, c Caller, fc FieldCheck) (FieldCheck, bool, error) {
	var v Validator
	if !ValidID(fc.ID) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	if !v.Required("villageId", fc.VillageID) {
		return FieldCheck{}, false, v.Err()
	}
	vil, err := visibleVillage(ctx, s.Org, c, fc.VillageID)
	if err != nil {
		return FieldCheck{}, false, err
	}
	if !canWriteTown(c, vil.TownID) {
		return FieldCheck{}, false, Forbidden()
	}
	checkDate(&v, "date", fc.Date, true)
	if ValidDate(fc.Date) && fc.Date > Today(s.Now(), s.Loc) {
		v.Add("date", FieldRange, "date is in the future")
	}
	f := fieldCheck{v: &v}
	if len(fc.Checkers) == 0 {
		v.Add("checkers", FieldRequired, "name who checked")
	}
	f.list("checkers", fc.Checkers, 20, maxShort)
	f.text("findings", fc.Findings, maxText, true)
	f.list("issues", fc.Issues, maxList, maxText)
	f.oneOf("rating", fc.Rating, FieldCheckRatings, true)
	f.photos(fc.PhotoIDs)
	if v.OK() {
		if _, err := CheckPhotoRefs(ctx, s.Photos, s.Records, &v, "photoIds", vil.ID, fc.PhotoIDs); err != nil {
			return FieldCheck{}, false, err
		}
	}
	if err := v.Err(); err != nil {
		return FieldCheck{}, false, err
	}
	d, _ := time.Parse(DateLayout, fc.Date)
	fc.Quarter = fmt.Sprintf("%04dQ%d", d.Year(), (int(d.Month())+2)/3)
	fc.TownID, fc.CreatedBy, fc.CreatedAt = vil.TownID, c.UserID, s.Now()
	fc.Findings = strings.TrimSpace(fc.Findings)
	stored, err := s.Store.InsertFieldCheck(ctx, fc)
	if errors.Is(err, ErrDuplicate) {
		if sameCheck(stored, fc) {
			return stored, true, nil
		}
		return FieldCheck{}, false, idConflict()
	} else if err != nil {
		return FieldCheck{}, false, fmt.Errorf("create field check: %w", err)
	}
	return stored, false, s.Audit.Record(ctx, c, "field_check", fc.ID, "create", fc.TownID)
}

func sameCheck(a, b FieldCheck) bool {
	return a.VillageID == b.VillageID && a.Date == b.Date && slices.Equal(a.Checkers, b.Checkers) && a.Findings == b.Findings &&
		slices.Equal(a.Issues, b.Issues) && a.Rating == b.Rating && slices.Equal(a.PhotoIDs, b.PhotoIDs)
}

// List lists the checks in the caller's scope.
func (s FieldCheckService) List(ctx context.Context, c Caller, f FieldCheckFilter, p Page) (List[FieldCheck], error) {
	if f.Quarter != "" && !periodQuarterRE.MatchString(f.Quarter) {
		var v Validator
		v.Add("quarter", FieldInvalid, "quarter is like 2026Q1")
		return List[FieldCheck]{}, v.Err()
	}
	if f.Scope = c.VillageScope(); f.Scope.Empty() {
		return List[FieldCheck]{}, nil
	}
	return s.Store.ListFieldChecks(ctx, f, p)
}

// MonthlyProgress is a village's month (每月汇总进展情况): its counts, its
// targets' progress, the problems resolved in the month and its photos.
type MonthlyProgress struct {
	Village          Village
	Period           Period
	Metrics          map[string]any
	Targets          []TargetProgress
	ProblemsResolved []Problem
}

// TargetProgress is a target's state at the month's end.
type TargetProgress struct {
	Target  Target
	Percent int // the latest progress on or before the month's end
	Status  string
	Overdue bool
}

// Monthly answers a village's monthly progress summary.
func (s StatsService) Monthly(ctx context.Context, c Caller, villageID, month, basis string) (MonthlyProgress, error) {
	vil, err := visibleVillage(ctx, s.Org, c, villageID)
	if err != nil {
		return MonthlyProgress{}, err
	}
	p, err := ParsePeriod(month)
	if err != nil || !periodMonthRE.MatchString(month) {
		var v Validator
		v.Add("month", FieldInvalid, "month is like 202603")
		return MonthlyProgress{}, v.Err()
	}
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return MonthlyProgress{}, err
	}
	sum, err := s.summary(ctx, villageStats(vil.ID).On(basis), p, snap)
	if err != nil {
		return MonthlyProgress{}, err
	}
	out := MonthlyProgress{Village: vil, Period: p, Metrics: sum.Metrics}
	latest := latestProgress(snap.Progress, p.To)
	for _, t := range snap.Targets {
		if t.VillageID != vil.ID || fmt.Sprintf("%04d", t.Year) != p.From[:4] {
			continue
		}
		asOf := t
		asOf.Percent = latest[t.ID].Percent
		st := asOf.Status()
		out.Targets = append(out.Targets, TargetProgress{Target: t, Percent: asOf.Percent, Status: st,
			Overdue: st != TargetDone && t.Due != "" && t.Due < p.To})
	}
	slices.SortFunc(out.Targets, func(a, b TargetProgress) int { return strings.Compare(a.Target.ID, b.Target.ID) })
	for _, pb := range snap.Problems {
		if pb.VillageID == vil.ID && pb.Status == StatusResolved && pb.ResolvedAt >= p.From && pb.ResolvedAt <= p.To {
			out.ProblemsResolved = append(out.ProblemsResolved, pb)
		}
	}
	return out, nil
}
