package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

var _ domain.FieldCheckStore = (*Store)(nil)

const colFieldChecks = "field_checks"

type fieldCheckRow struct {
	ID        string    `bson:"_id"`
	VillageID string    `bson:"villageId"`
	TownID    string    `bson:"townId"`
	Date      string    `bson:"date"`
	Quarter   string    `bson:"quarter"`
	Checkers  []string  `bson:"checkers"`
	Findings  string    `bson:"findings"`
	Issues    []string  `bson:"issues,omitempty"`
	Rating    string    `bson:"rating"`
	PhotoIDs  []string  `bson:"photoIds,omitempty"`
	CreatedBy string    `bson:"createdBy"`
	CreatedAt time.Time `bson:"createdAt"`
}

func toFieldCheck(r fieldCheckRow) domain.FieldCheck {
	fc := domain.FieldCheck(r)
	fc.CreatedAt = fc.CreatedAt.UTC()
	return fc
}

// InsertFieldCheck adds a check, or answers ErrDuplicate with the stored one.
func (s *Store) InsertFieldCheck(ctx context.Context, fc domain.FieldCheck) (domain.FieldCheck, error) {
	err := insert(ctx, s, colFieldChecks, fieldCheckRow(fc))
	if errors.Is(err, domain.ErrDuplicate) {
		r, gerr := findOne[fieldCheckRow](ctx, s, colFieldChecks, bson.D{{Key: "_id", Value: fc.ID}})
		if gerr != nil {
			return domain.FieldCheck{}, fmt.Errorf("insert field check: %w", gerr)
		}
		return toFieldCheck(r), fmt.Errorf("insert field check: %w", domain.ErrDuplicate)
	} else if err != nil {
		return domain.FieldCheck{}, fmt.Errorf("insert field check: %w", err)
	}
	return fc, nil
}

// ListFieldChecks lists checks in the scope.
func (s *Store) ListFieldChecks(ctx context.Context, f domain.FieldCheckFilter, p domain.Page) (domain.List[domain.FieldCheck], error) {
	filter := villageScope(f.Scope)
	if f.VillageID != "" {
		filter = and(filter, bson.D{{Key: "villageId", Value: f.VillageID}})
	}
	if f.TownID != "" {
		filter = and(filter, bson.D{{Key: "townId", Value: f.TownID}})
	}
	if f.Quarter != "" {
		filter = and(filter, bson.D{{Key: "quarter", Value: f.Quarter}})
	}
	return findPage(ctx, s, colFieldChecks, filter, p, toFieldCheck)
}
