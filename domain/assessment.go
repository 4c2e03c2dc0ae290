package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Lights (红黄绿三色亮灯).
const (
	LightGreen  = "green"
	LightYellow = "yellow"
	LightRed    = "red"
)

// Assessment is a village's half-year assessment (每半年全覆盖评估):
// scores per indicator, and the light its total maps to.
type Assessment struct {
	VillageID  string
	TownID     string
	Period     string // a half-year: 2026S1
	Scores     []IndicatorScore
	Assessors  []string
	AssessedOn string // YYYY-MM-DD
	Notes      string
	Total      float64
	Light      string
	By         string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
	// Final: finalised on an approved half-year; it no longer changes.
	Final       bool
	FinalizedBy string
	FinalizedAt *time.Time
}

// IndicatorScore is the points given for one indicator (for a penalty,
// the points deducted).
type IndicatorScore struct {
	Indicator string
	Score     float64
	Note      string
}

// AssessmentStore keeps assessments, one per village and half-year.
type AssessmentStore interface {
	// PutAssessment stores a if the stored version is a.Version-1 (none for 1): ErrStale otherwise.
	PutAssessment(ctx context.Context, a Assessment) error
	GetAssessment(ctx context.Context, villageID, period string) (Assessment, error)
	// Assessments lists every assessment (a small set).
	Assessments(ctx context.Context) ([]Assessment, error)
}

// LightThresholds map an assessment's total to its light.
type LightThresholds struct {
	Green  float64 // this total or more is green
	Yellow float64 // this or more (below Green) is yellow; below is red
}

// LightOf maps a total to its light.
func (t LightThresholds) LightOf(total float64) string {
	switch {
	case total >= t.Green:
		return LightGreen
	case total >= t.Yellow:
		return LightYellow
	}
	return LightRed
}

// AssessmentService scores villages.
type AssessmentService struct {
	Store      AssessmentStore
	Org        OrgStore
	Catalogues CatalogueStore
	Audit      Auditor
	Now        Clock
	Thresholds LightThresholds
	// Loc is the campaign's time zone (assessedOn is a date in it); nil means UTC.
	Loc *time.Location
	// Approvals says whether a town's half-year is approved (Finalize needs it).
	Approvals interface {
		HalfApproved(ctx context.Context, townID, period string) (bool, error)
	}
}

// AssessmentInput is a PUT of an assessment.
type AssessmentInput struct {
	Scores     []IndicatorScore
	Assessors  []string
	AssessedOn string
	Notes      string
	Version    int // 0: any (creates or replaces), else must be the stored one
}

var halfRE = regexp.MustCompile(`^\d{4}S[12]$`)

// Put scores a village for a half-year: every active common indicator must
// be scored, each score within 0 and the indicator's maximum. Admins, and
// town admins for their town.
func (s AssessmentService) Put(ctx context.Context, c Caller, villageID, period string, in AssessmentInput) (Assessment, bool, error) {
	vil, err := visibleVillage(ctx, s.Org, c, villageID)
	if err != nil {
		return Assessment{}, false, err
	}
	if !canWriteTown(c, vil.TownID) {
		return Assessment{}, false, Forbidden()
	}
	var v Validator
	if !halfRE.MatchString(period) {
		v.Add("period", FieldInvalid, "an assessment is for a half-year, like 2026S1")
	}
	items, err := s.Catalogues.Catalogue(ctx, CatIndicators)
	if err != nil {
		return Assessment{}, false, fmt.Errorf("assessment: %w", err)
	}
	byCode := map[string]CatalogueItem{}
	for _, it := range items {
		if it.Active {
			byCode[it.Code] = it
		}
	}
	total, seen := 0.0, map[string]bool{}
	if len(in.Scores) > 100 {
		v.Add("scores", FieldRange, "at most 100 scores")
	}
	for i, sc := range in.Scores {
		f := fmt.Sprintf("scores[%d]", i)
		it, ok := byCode[sc.Indicator]
		switch {
		case !ok:
			v.Add(f+".indicator", FieldUnknown, "no such active indicator: "+sc.Indicator)
			continue
		case seen[sc.Indicator]:
			v.Add(f+".indicator", FieldInvalid, "scored twice: "+sc.Indicator)
			continue
		case math.IsNaN(sc.Score) || sc.Score < 0 || sc.Score > float64(it.MaxScore):
			v.Add(f+".score", FieldRange, fmt.Sprintf("%s is scored from 0 to %d", sc.Indicator, it.MaxScore))
			continue
		}
		v.MaxLen(f+".note", sc.Note, 1000)
		seen[sc.Indicator] = true
		if it.Group == IndicatorPenalty {
			total -= sc.Score
		} else {
			total += sc.Score
		}
	}
	for _, it := range items {
		if it.Active && it.Group == IndicatorCommon && !seen[it.Code] {
			v.Add("scores", FieldRequired, "every common indicator is scored; missing: "+it.Code)
		}
	}
	if len(in.Assessors) == 0 {
		v.Add("assessors", FieldRequired, "name the assessors")
	}
	fieldCheck{v: &v}.list("assessors", in.Assessors, 20, maxShort)
	checkDate(&v, "assessedOn", in.AssessedOn, true)
	if ValidDate(in.AssessedOn) && in.AssessedOn > Today(s.Now(), zoneOr(s.Loc)) {
		v.Add("assessedOn", FieldRange, "assessedOn is in the future")
	}
	v.MaxLen("notes", in.Notes, maxText)
	if err := v.Err(); err != nil {
		return Assessment{}, false, err
	}
	now := s.Now()
	old, err := s.Store.GetAssessment(ctx, vil.ID, period)
	created := errors.Is(err, ErrNotFound)
	if err != nil && !created {
		return Assessment{}, false, fmt.Errorf("assessment: %w", err)
	}
	if in.Version != 0 && (created || in.Version != old.Version) {
		return Assessment{}, false, staleErr()
	}
	if old.Final {
		return Assessment{}, false, finalErr()
	}
	a := Assessment{VillageID: vil.ID, TownID: vil.TownID, Period: period, Scores: in.Scores, Assessors: in.Assessors,
		AssessedOn: in.AssessedOn, Notes: strings.TrimSpace(in.Notes), Total: math.Round(total*10) / 10, By: c.UserID,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	a.Light = s.Thresholds.LightOf(a.Total)
	if !created {
		a.CreatedAt, a.Version = old.CreatedAt, old.Version+1
	}
	if err := s.Store.PutAssessment(ctx, a); errors.Is(err, ErrStale) {
		return Assessment{}, false, staleErr()
	} else if err != nil {
		return Assessment{}, false, fmt.Errorf("assessment: %w", err)
	}
	action := "update"
	if created {
		action = "create"
	}
	return a, created, s.Audit.Record(ctx, c, "assessment", vil.ID+"/"+period, action, vil.TownID)
}

func finalErr() error {
	return &Error{Kind: KindConflict, Code: "assessment_final", Message: "the assessment is final and no longer changes"}
}

// Finalize makes a village's assessment of a half-year final: only once
// the town's half-year is approved (locked), by an admin or the town's admin.
func (s AssessmentService) Finalize(ctx context.Context, c Caller, villageID, period string, version int) (Assessment, bool, error) {
	a, err := s.Get(ctx, c, villageID, period)
	if err != nil {
		return Assessment{}, false, err
	}
	if !canWriteTown(c, a.TownID) {
		return Assessment{}, false, Forbidden()
	}
	if a.Final {
		return a, true, nil
	}
	if version != 0 && version != a.Version {
		return Assessment{}, false, staleErr()
	}
	ok, err := s.Approvals.HalfApproved(ctx, a.TownID, period)
	if err != nil {
		return Assessment{}, false, fmt.Errorf("finalize assessment: %w", err)
	}
	if !ok {
		return Assessment{}, false, &Error{Kind: KindConflict, Code: "half_year_not_approved",
			Message: "an assessment is finalised only on an approved half-year: the department approves the town's " + period + " first"}
	}
	now := s.Now()
	a.Final, a.FinalizedBy, a.FinalizedAt, a.UpdatedAt, a.Version = true, c.UserID, &now, now, a.Version+1
	if err := s.Store.PutAssessment(ctx, a); errors.Is(err, ErrStale) {
		return Assessment{}, false, staleErr()
	} else if err != nil {
		return Assessment{}, false, fmt.Errorf("finalize assessment: %w", err)
	}
	return a, false, s.Audit.Record(ctx, c, "assessment", a.VillageID+"/"+period, "finalize", a.TownID)
}

// Get returns a village's assessment of a half-year.
func (s AssessmentService) Get(ctx context.Context, c Caller, villageID, period string) (Assessment, error) {
	if _, err := visibleVillage(ctx, s.Org, c, villageID); err != nil {
		return Assessment{}, err
	}
	a, err := s.Store.GetAssessment(ctx, villageID, period)
	if errors.Is(err, ErrNotFound) {
		return Assessment{}, NotFound("assessment")
	}
	return a, err
}

// Light reasons between assessments.
const (
	ReasonNoOnPost        = "no_onpost_7_days"
	ReasonTargetsOverdue  = "targets_overdue"
	ReasonDisputesOpen    = "disputes_open_30_days"
	ReasonProblemsPending = "problems_unresolved"
)

// LightReason is one live signal behind a provisional light.
type LightReason struct {
	Code  string
	Count int64
}

// Light sources: what a light rests on.
const (
	LightFinal       = "final"       // a final assessment
	LightDraft       = "draft"       // an assessment not yet final
	LightProvisional = "provisional" // live signals
)

// VillageLight is a village's light: its latest assessment's up to a
// date (final or draft), else a provisional one from live signals (none:
// green; one: yellow; two or more: red), each reason listed.
type VillageLight struct {
	Light       string
	Source      string // final, draft or provisional
	Period      string // the assessment's half-year
	Total       float64
	Reasons     []LightReason
	Provisional string // the live light, shown beside an assessment's
}

// lightWindows are the two reads a village's light on a day needs: the
// week up to the day, and every day up to 30 days before it.
func lightWindows(day string) (week Period, openTo string) {
	d, _ := time.Parse(DateLayout, day)
	return Period{From: d.AddDate(0, 0, -6).Format(DateLayout), To: day}, d.AddDate(0, 0, -30).Format(DateLayout)
}

// lightOf works out a village's light on a day.
func lightOf(ctx context.Context, stats StatsStore, snap LedgerSnapshot, assessments []Assessment, vil Village, day string) (VillageLight, error) {
	weekP, openTo := lightWindows(day)
	week, err := stats.PeriodCounts(ctx, StatsVillage(vil.ID), weekP)
	if err != nil {
		return VillageLight{}, err
	}
	open, err := stats.CumulativeCounts(ctx, StatsVillage(vil.ID), openTo)
	if err != nil {
		return VillageLight{}, err
	}
	return lightFrom(snap, assessments, vil, day, week, open), nil
}

// lightFrom is a village's light on a day from its counts of the week up
// to it and of every day to 30 days before it (lightWindows).
func lightFrom(snap LedgerSnapshot, assessments []Assessment, vil Village, day string, week, open Counts) VillageLight {
	var out VillageLight
	if week[MOnPostDays] == 0 {
		out.Reasons = append(out.Reasons, LightReason{Code: ReasonNoOnPost})
	}
	l := ledgerCounts(villageStats(vil.ID), Period{From: day[:4] + "-01-01", To: day}, snap, time.UTC)
	if l.targetsOverdue > 0 {
		out.Reasons = append(out.Reasons, LightReason{Code: ReasonTargetsOverdue, Count: l.targetsOverdue})
	}
	// Open disputes identified 30 days or more before the day.
	old := open[MDisputesOpen]
	if old > 0 {
		out.Reasons = append(out.Reasons, LightReason{Code: ReasonDisputesOpen, Count: old})
	}
	var pending int64
	for _, p := range snap.Problems {
		if p.VillageID == vil.ID && p.Status != StatusResolved {
			pending++
		}
	}
	if pending > 0 {
		out.Reasons = append(out.Reasons, LightReason{Code: ReasonProblemsPending, Count: pending})
	}
	switch len(out.Reasons) {
	case 0:
		out.Provisional = LightGreen
	case 1:
		out.Provisional = LightYellow
	default:
		out.Provisional = LightRed
	}
	out.Light, out.Source = out.Provisional, LightProvisional
	// The latest assessment of a half-year that has begun by the day.
	var best *Assessment
	for i := range assessments {
		a := &assessments[i]
		if a.VillageID != vil.ID {
			continue
		}
		p, err := ParsePeriod(a.Period)
		if err != nil || p.From > day {
			continue
		}
		if best == nil || a.Period > best.Period {
			best = a
		}
	}
	if best != nil {
		out.Light, out.Source, out.Period, out.Total = best.Light, LightDraft, best.Period, best.Total
		if best.Final {
			out.Source = LightFinal
		}
	}
	slices.SortFunc(out.Reasons, func(a, b LightReason) int { return strings.Compare(a.Code, b.Code) })
	return out
}
