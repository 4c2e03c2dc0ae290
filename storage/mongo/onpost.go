package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var _ domain.OnPostStore = (*Store)(nil)

const colPlans = "onpost_plans"

type onpostRow struct {
	ID        string    `bson:"_id"` // cadre/week
	CadreID   string    `bson:"cadreId"`
	Week      string    `bson:"week"`
	Days      []string  `bson:"days"`
	TownIDs   []string  `bson:"townIds"`
	UpdatedBy string    `bson:"updatedBy"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// PutPlan creates or replaces a cadre's plan for a week.
func (s *Store) PutPlan(ctx context.Context, p domain.OnPostPlan) error {
	row := onpostRow{ID: p.CadreID + "/" + p.Week, CadreID: p.CadreID, Week: p.Week, Days: p.Days, TownIDs: p.TownIDs,
		UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt}
	defer s.ledgerChanged()
	err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colPlans).ReplaceOne(ctx, bson.D{{Key: "_id", Value: row.ID}}, row, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("put plan: %w", err)
	}
	return nil
}

// Plans returns the plans of these cadres for a week.
func (s *Store) Plans(ctx context.Context, week string, cadreIDs []string) ([]domain.OnPostPlan, error) {
	if len(cadreIDs) == 0 {
		return nil, nil
	}
	rows, err := findAll[onpostRow](ctx, s, colPlans, bson.D{{Key: "week", Value: week}, {Key: "cadreId", Value: bson.D{{Key: "$in", Value: cadreIDs}}}}, nil)
	if err != nil {
		return nil, err
	}
	return convAll(rows, func(r onpostRow) domain.OnPostPlan {
		return domain.OnPostPlan{CadreID: r.CadreID, Week: r.Week, Days: r.Days, TownIDs: r.TownIDs, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
	}), nil
}
