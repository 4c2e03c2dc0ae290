package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"zhucun/domain"
)

// startChain seals, once, the audit entries written before the chain
// (schema version 1), in their id order, and marks the chain started:
// from then on an entry outside the chain is one inserted around the store.
func (s *Store) startChain(ctx context.Context) error {
	err := s.write(ctx, func(tx *wtx) error {
		var started int64
		switch err := tx.queryRow("SELECT started_at FROM audit_chain WHERE id = 1").Scan(&started); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		rows, err := tx.query("SELECT id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome FROM audit WHERE seq IS NULL ORDER BY id")
		if err != nil {
			return err
		}
		var legacy []domain.AuditEntry
		for rows.Next() {
			e, err := scanAudit(rows, false)
			if err != nil {
				rows.Close()
				return err
			}
			legacy = append(legacy, e)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var seq int64
		prev := ""
		for _, e := range legacy {
			s.seal.Seal(seq, prev, &e)
			if _, err := tx.exec("UPDATE audit SET seq = ?, hash = ? WHERE id = ?", e.Seq, e.Hash, e.ID); err != nil {
				return err
			}
			seq, prev = e.Seq, e.Hash
		}
		_, err = tx.exec("INSERT INTO audit_chain (id, started_at) VALUES (1, unixepoch('subsec') * 1000)")
		return err
	})
	if err != nil {
		return fmt.Errorf("start the audit chain: %w", err)
	}
	return nil
}

// scanAudit reads an entry (with its place and seal when chained).
func scanAudit(sc interface{ Scan(...any) error }, chained bool) (domain.AuditEntry, error) {
	var e domain.AuditEntry
	var at int64
	var role string
	dst := []any{&e.ID, &at, &e.UserID, &role, &e.Entity, &e.EntityID, &e.Action, &e.RequestID, &e.TownID, &e.Addr, &e.Outcome}
	var seq sql.NullInt64
	if chained {
		dst = append(dst, &seq, &e.Hash)
	}
	if err := sc.Scan(dst...); err != nil {
		return domain.AuditEntry{}, err
	}
	e.At, e.Role, e.Seq = fromMS(at), domain.Role(role), seq.Int64
	return e, nil
}

// AuditChain calls f with every entry in chain order, those outside it first.
func (s *Store) AuditChain(ctx context.Context, f func(domain.AuditEntry) error) error {
	// A whole trail is read at once: more time than one call gets.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome, seq, hash
		FROM audit ORDER BY seq, id`)
	if err != nil {
		return fmt.Errorf("audit chain: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows, true)
		if err != nil {
			return fmt.Errorf("audit chain: %w", err)
		}
		if err := f(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit chain: %w", translate(err))
	}
	return nil
}

// AuditHead is where the stored chain begins after prunes.
func (s *Store) AuditHead(ctx context.Context) (domain.AuditHead, error) {
	var h domain.AuditHead
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var doc string
		if err := db.QueryRowContext(ctx, "SELECT head FROM audit_chain WHERE id = 1").Scan(&doc); errors.Is(err, sql.ErrNoRows) || err == nil && doc == "" {
			return nil
		} else if err != nil {
			return err
		}
		return json.Unmarshal([]byte(doc), &h)
	})
	if err != nil {
		return domain.AuditHead{}, fmt.Errorf("audit head: %w", translate(err))
	}
	return h, nil
}

// AuditLast is the chain's last entry.
func (s *Store) AuditLast(ctx context.Context) (domain.AuditEntry, error) {
	var e domain.AuditEntry
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var err error
		e, err = scanAudit(db.QueryRowContext(ctx, `SELECT id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome, seq, hash
			FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`), true)
		return err
	})
	if err != nil {
		return domain.AuditEntry{}, fmt.Errorf("audit last: %w", translate(err))
	}
	return e, nil
}

// PruneAudit removes the entries the head covers and keeps the head, in
// one transaction.
func (s *Store) PruneAudit(ctx context.Context, h domain.AuditHead) (int64, error) {
	doc, err := encode(h)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("DELETE FROM audit WHERE seq IS NOT NULL AND seq <= ?", h.Seq)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.exec("UPDATE audit_chain SET head = ? WHERE id = 1", doc)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return n, nil
}
