package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

const colFeedback = "feedback"

// feedbackRow is a complaint or suggestion, with what lists filter by.
type feedbackRow struct {
	ID      string          `bson:"_id"`
	UserID  string          `bson:"userId"`
	State   string          `bson:"state"`
	Version int             `bson:"version"`
	Doc     domain.Feedback `bson:"doc"`
}

func (r feedbackRow) id() string { return r.ID }

func toFeedbackRow(f domain.Feedback) feedbackRow {
	return feedbackRow{ID: f.ID, UserID: f.UserID, State: f.State, Version: f.Version, Doc: f}
}

func toFeedback(r feedbackRow) domain.Feedback {
	f := r.Doc
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	if f.AnsweredAt != nil {
		t := f.AnsweredAt.UTC()
		f.AnsweredAt = &t
	}
	return f
}

// CreateFeedback stores a new one; ErrDuplicate with the stored one when the id exists.
func (s *Store) CreateFeedback(ctx context.Context, f domain.Feedback) (domain.Feedback, error) {
	err := insert(ctx, s, colFeedback, toFeedbackRow(f))
	if errors.Is(translate(err), domain.ErrDuplicate) {
		stored, gerr := s.GetFeedback(ctx, f.ID)
		if gerr != nil {
			return domain.Feedback{}, gerr
		}
		return stored, fmt.Errorf("create feedback: %w", domain.ErrDuplicate)
	} else if err != nil {
		return domain.Feedback{}, fmt.Errorf("create feedback: %w", translate(err))
	}
	return f, nil
}

// ReplaceFeedback stores f if the stored version is f.Version-1.
func (s *Store) ReplaceFeedback(ctx context.Context, f domain.Feedback) error {
	if err := s.putVersioned(ctx, colFeedback, f.ID, f.Version, toFeedbackRow(f)); err != nil {
		return fmt.Errorf("replace feedback: %w", err)
	}
	return nil
}

// GetFeedback returns one.
func (s *Store) GetFeedback(ctx context.Context, id string) (domain.Feedback, error) {
	row, err := findOne[feedbackRow](ctx, s, colFeedback, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Feedback{}, fmt.Errorf("get feedback: %w", translate(err))
	}
	return toFeedback(row), nil
}

// ListFeedback lists newest first (by id), after the page's cursor.
func (s *Store) ListFeedback(ctx context.Context, f domain.FeedbackFilter, p domain.Page) (domain.List[domain.Feedback], error) {
	filter := bson.D{}
	if f.UserID != "" {
		filter = append(filter, bson.E{Key: "userId", Value: f.UserID})
	}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: f.State})
	}
	return findPageDesc(ctx, s, colFeedback, filter, p, toFeedback)
}
