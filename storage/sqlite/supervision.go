package sqlite

import (
	"context"
	"errors"
	"fmt"

	"zhucun/domain"
)

var (
	_ domain.ApprovalStore = (*Store)(nil)
	_ domain.LeaveStore    = (*Store)(nil)
	_ domain.FeedbackStore = (*Store)(nil)
)

// PutApproval stores a if the stored version is a.Version-1 (none for 1).
func (s *Store) PutApproval(ctx context.Context, a domain.Approval) error {
	var insert func(tx *wtx, doc string) error
	if a.Version == 1 {
		insert = func(tx *wtx, doc string) error {
			_, err := tx.exec("INSERT INTO approvals (key, level, scope_id, town_id, period, state, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
				a.Key(), a.Level, a.ScopeID, a.TownID, a.Period, a.State, doc)
			if errors.Is(translate(err), domain.ErrDuplicate) {
				return domain.ErrStale
			}
			return err
		}
	}
	return s.versioned(ctx, "put approval", a, insert, "approvals", "key = ?", []any{a.Key()}, a.Version, func(tx *wtx) error {
		_, err := tx.exec("UPDATE approvals SET state = ? WHERE key = ?", a.State, a.Key())
		return err
	})
}

// GetApproval returns one period's approval.
func (s *Store) GetApproval(ctx context.Context, level, scopeID, period string) (domain.Approval, error) {
	return getDoc[domain.Approval](ctx, s, "get approval", "SELECT doc FROM approvals WHERE key = ?", domain.ApprovalKey(level, scopeID, period))
}

// ListApprovals lists approvals in key order.
func (s *Store) ListApprovals(ctx context.Context, f domain.ApprovalFilter, p domain.Page) (domain.List[domain.Approval], error) {
	w := (&where{}).eq("level", f.Level).eq("scope_id", f.ScopeID).eq("period", f.Period).eq("state", f.State)
	if f.TownIDs != nil {
		w.in("town_id", f.TownIDs)
	}
	return page(ctx, s, "approvals", "key", w, p, func(a domain.Approval) string { return a.Key() })
}

// LockedApprovals lists every approved period.
func (s *Store) LockedApprovals(ctx context.Context) ([]domain.Approval, error) {
	return allDocs[domain.Approval](ctx, s, "locked approvals", "SELECT doc FROM approvals WHERE state = ? ORDER BY key", domain.ApprovalApproved)
}

// CreateLeave stores a new request; ErrDuplicate with the stored one when the id exists.
func (s *Store) CreateLeave(ctx context.Context, l domain.Leave) (domain.Leave, error) {
	err := s.versioned(ctx, "create leave", l, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT INTO leaves (id, cadre_id, state, from_day, to_day, doc) VALUES (?, ?, ?, ?, ?, ?)",
			l.ID, l.CadreID, l.State, l.From, l.To, doc)
		tx.onCommit(s.ledgerChanged)
		return err
	}, "", "", nil, 0, nil)
	if errors.Is(err, domain.ErrDuplicate) {
		stored, gerr := s.GetLeave(ctx, l.ID)
		if gerr != nil {
			return domain.Leave{}, gerr
		}
		return stored, err
	}
	return l, err
}

// ReplaceLeave stores l if the stored version is l.Version-1.
func (s *Store) ReplaceLeave(ctx context.Context, l domain.Leave) error {
	return s.versioned(ctx, "replace leave", l, nil, "leaves", "id = ?", []any{l.ID}, l.Version, func(tx *wtx) error {
		_, err := tx.exec("UPDATE leaves SET state = ? WHERE id = ?", l.State, l.ID)
		tx.onCommit(s.ledgerChanged)
		return err
	})
}

// GetLeave returns a request.
func (s *Store) GetLeave(ctx context.Context, id string) (domain.Leave, error) {
	return getDoc[domain.Leave](ctx, s, "get leave", "SELECT doc FROM leaves WHERE id = ?", id)
}

// ListLeaves lists requests newest first (by id), after the page's cursor.
func (s *Store) ListLeaves(ctx context.Context, f domain.LeaveFilter, p domain.Page) (domain.List[domain.Leave], error) {
	w := (&where{}).eq("cadre_id", f.CadreID).eq("state", f.State)
	if f.TownIDs != nil {
		w.raw("EXISTS (SELECT 1 FROM json_each(doc, '$.TownIDs') WHERE value IN ("+marks(len(f.TownIDs))+"))", anys(f.TownIDs)...)
		if len(f.TownIDs) == 0 {
			w.raw("0")
		}
	}
	if f.VillageIDs != nil {
		w.raw("EXISTS (SELECT 1 FROM json_each(doc, '$.VillageIDs') WHERE value IN ("+marks(len(f.VillageIDs))+"))", anys(f.VillageIDs)...)
		if len(f.VillageIDs) == 0 {
			w.raw("0")
		}
	}
	if f.From != "" {
		w.raw("to_day >= ?", f.From)
	}
	if f.To != "" {
		w.raw("from_day <= ?", f.To)
	}
	return pageDesc(ctx, s, "leaves", "id", w, p, func(x domain.Leave) string { return x.ID })
}

// ApprovedLeaves lists the approved requests overlapping from–to.
func (s *Store) ApprovedLeaves(ctx context.Context, from, to string) ([]domain.Leave, error) {
	out, err := allDocs[domain.Leave](ctx, s, "approved leaves",
		"SELECT doc FROM leaves WHERE state = ? AND to_day >= ? AND from_day <= ? ORDER BY id", domain.LeaveApproved, from, to)
	if err != nil {
		return nil, fmt.Errorf("approved leaves: %w", err)
	}
	return out, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
