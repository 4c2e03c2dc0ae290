package mongo

import (
	"context"
	"fmt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"time"

	"zhucun/domain"
)

var _ domain.AssessmentStore = (*Store)(nil)

const colAssessments = "assessments"

type scoreRow struct {
	Indicator string  `bson:"indicator"`
	Score     float64 `bson:"score"`
	Note      string  `bson:"note,omitempty"`
}

type assessmentRow struct {
	ID         string     `bson:"_id"` // village|period
	VillageID  string     `bson:"villageId"`
	TownID     string     `bson:"townId"`
	Period     string     `bson:"period"`
	Scores     []scoreRow `bson:"scores"`
	Assessors  []string   `bson:"assessors"`
	AssessedOn string     `bson:"assessedOn"`
	Notes      string     `bson:"notes,omitempty"`
	Total      float64    `bson:"total"`
	Light      string     `bson:"light"`
	By         string     `bson:"by"`
	CreatedAt  time.Time  `bson:"createdAt"`
	UpdatedAt  time.Time  `bson:"updatedAt"`
	Version    int        `bson:"version"`
	Final      bool       `bson:"final,omitempty"`
	FinalBy    string     `bson:"finalizedBy,omitempty"`
	FinalAt    *time.Time `bson:"finalizedAt,omitempty"`
}

func toAssessmentRow(a domain.Assessment) assessmentRow {
	row := assessmentRow{ID: a.VillageID + "|" + a.Period, VillageID: a.VillageID, TownID: a.TownID, Period: a.Period,
		Assessors: a.Assessors, AssessedOn: a.AssessedOn, Notes: a.Notes, Total: a.Total, Light: a.Light, By: a.By,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version, Final: a.Final, FinalBy: a.FinalizedBy, FinalAt: a.FinalizedAt}
	for _, s := range a.Scores {
		row.Scores = append(row.Scores, scoreRow(s))
	}
	return row
}

func toAssessment(r assessmentRow) domain.Assessment {
	a := domain.Assessment{VillageID: r.VillageID, TownID: r.TownID, Period: r.Period, Assessors: r.Assessors,
		AssessedOn: r.AssessedOn, Notes: r.Notes, Total: r.Total, Light: r.Light, By: r.By,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version, Final: r.Final, FinalizedBy: r.FinalBy}
	if r.FinalAt != nil {
		t := r.FinalAt.UTC()
		a.FinalizedAt = &t
	}
	for _, s := range r.Scores {
		a.Scores = append(a.Scores, domain.IndicatorScore(s))
	}
	return a
}

// PutAssessment creates (version 1) or replaces the stored version-1.
func (s *Store) PutAssessment(ctx context.Context, a domain.Assessment) error {
	row := toAssessmentRow(a)
	if err := s.putVersioned(ctx, colAssessments, row.ID, a.Version, row); err != nil {
		return fmt.Errorf("put assessment: %w", err)
	}
	return nil
}

// GetAssessment returns a village's assessment of a half-year.
func (s *Store) GetAssessment(ctx context.Context, villageID, period string) (domain.Assessment, error) {
	r, err := findOne[assessmentRow](ctx, s, colAssessments, bson.D{{Key: "_id", Value: villageID + "|" + period}})
	if err != nil {
		return domain.Assessment{}, fmt.Errorf("get assessment: %w", err)
	}
	return toAssessment(r), nil
}

// Assessments lists every assessment.
func (s *Store) Assessments(ctx context.Context) ([]domain.Assessment, error) {
	rows, err := findAll[assessmentRow](ctx, s, colAssessments, bson.D{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, fmt.Errorf("assessments: %w", err)
	}
	return convAll(rows, toAssessment), nil
}
