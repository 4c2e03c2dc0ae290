package sqlite

import (
	"context"
	"errors"

	"zhucun/domain"
)

// CreateFeedback stores a new one; ErrDuplicate with the stored one when the id exists.
func (s *Store) CreateFeedback(ctx context.Context, f domain.Feedback) (domain.Feedback, error) {
	err := s.versioned(ctx, "create feedback", f, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT INTO feedback (id, user_id, state, doc) VALUES (?, ?, ?, ?)", f.ID, f.UserID, f.State, doc)
		return err
	}, "", "", nil, 0, nil)
	if errors.Is(err, domain.ErrDuplicate) {
		stored, gerr := s.GetFeedback(ctx, f.ID)
		if gerr != nil {
			return domain.Feedback{}, gerr
		}
		return stored, err
	}
	return f, err
}

// ReplaceFeedback stores f if the stored version is f.Version-1.
func (s *Store) ReplaceFeedback(ctx context.Context, f domain.Feedback) error {
	return s.versioned(ctx, "replace feedback", f, nil, "feedback", "id = ?", []any{f.ID}, f.Version, func(tx *wtx) error {
		_, err := tx.exec("UPDATE feedback SET state = ? WHERE id = ?", f.State, f.ID)
		return err
	})
}

// GetFeedback returns one.
func (s *Store) GetFeedback(ctx context.Context, id string) (domain.Feedback, error) {
	return getDoc[domain.Feedback](ctx, s, "get feedback", "SELECT doc FROM feedback WHERE id = ?", id)
}

// ListFeedback lists newest first (by id), after the page's cursor.
func (s *Store) ListFeedback(ctx context.Context, f domain.FeedbackFilter, p domain.Page) (domain.List[domain.Feedback], error) {
	w := (&where{}).eq("user_id", f.UserID).eq("state", f.State)
	return pageDesc(ctx, s, "feedback", "id", w, p, func(x domain.Feedback) string { return x.ID })
}
