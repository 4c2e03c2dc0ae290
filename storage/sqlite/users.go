package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"zhucun/domain"
)

// InsertUser adds an account; ErrDuplicate when the phone is taken.
func (s *Store) InsertUser(ctx context.Context, u domain.User) error {
	if err := s.putUser(ctx, u, true); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UpdateUser replaces an account.
func (s *Store) UpdateUser(ctx context.Context, u domain.User) error {
	if err := s.putUser(ctx, u, false); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// putUser writes an account and its town and village memberships.
func (s *Store) putUser(ctx context.Context, u domain.User, insert bool) error {
	doc, err := encode(u)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		if insert {
			if _, err := tx.exec("INSERT INTO users (id, phone, role, name, doc) VALUES (?, ?, ?, ?, ?)",
				u.ID, u.Phone, string(u.Role), u.Name, doc); err != nil {
				return err
			}
		} else {
			res, err := tx.exec("UPDATE users SET phone = ?, role = ?, name = ?, doc = ? WHERE id = ?",
				u.Phone, string(u.Role), u.Name, doc, u.ID)
			if err != nil {
				return err
			}
			if err := changed(res); err != nil {
				return err
			}
			if _, err := tx.exec("DELETE FROM user_towns WHERE user_id = ?", u.ID); err != nil {
				return err
			}
			if _, err := tx.exec("DELETE FROM user_villages WHERE user_id = ?", u.ID); err != nil {
				return err
			}
		}
		for _, t := range u.TownIDs {
			if _, err := tx.exec("INSERT OR IGNORE INTO user_towns (town_id, user_id) VALUES (?, ?)", t, u.ID); err != nil {
				return err
			}
		}
		for _, v := range u.VillageIDs {
			if _, err := tx.exec("INSERT OR IGNORE INTO user_villages (village_id, user_id) VALUES (?, ?)", v, u.ID); err != nil {
				return err
			}
		}
		tx.onCommit(s.ledgerChanged)
		return nil
	})
}

// userTownCond matches accounts that belong to one of the towns given.
const userTownCond = "id IN (SELECT user_id FROM user_towns WHERE town_id"

// GetUser returns an account inside the scope (its id, or one of its towns).
func (s *Store) GetUser(ctx context.Context, id string, sc domain.Scope) (domain.User, error) {
	u, err := getDoc[domain.User](ctx, s, "get user", "SELECT doc FROM users WHERE id = ?", id)
	if err != nil {
		return domain.User{}, err
	}
	if !sc.Matches(u.ID, u.TownIDs...) {
		return domain.User{}, fmt.Errorf("get user: %w", domain.ErrNotFound)
	}
	return u, nil
}

// UserByPhone returns the account with this phone.
func (s *Store) UserByPhone(ctx context.Context, phone string) (domain.User, error) {
	return getDoc[domain.User](ctx, s, "user by phone", "SELECT doc FROM users WHERE phone = ?", phone)
}

// ListUsers lists accounts in id order.
func (s *Store) ListUsers(ctx context.Context, f domain.UserFilter, p domain.Page) (domain.List[domain.User], error) {
	w := &where{}
	if !f.Scope.All {
		var or []string
		if len(f.Scope.IDs) > 0 {
			or = append(or, "id IN ("+marks(len(f.Scope.IDs))+")")
			for _, v := range f.Scope.IDs {
				w.args = append(w.args, v)
			}
		}
		if len(f.Scope.TownIDs) > 0 {
			or = append(or, userTownCond+" IN ("+marks(len(f.Scope.TownIDs))+"))")
			for _, v := range f.Scope.TownIDs {
				w.args = append(w.args, v)
			}
		}
		if len(or) == 0 {
			w.raw("0")
		} else {
			w.parts = append(w.parts, "("+joinOr(or)+")")
		}
	}
	w.eq("role", string(f.Role))
	if f.TownID != "" {
		w.raw(userTownCond+" = ?)", f.TownID)
	}
	if f.VillageID != "" {
		w.raw("id IN (SELECT user_id FROM user_villages WHERE village_id = ?)", f.VillageID)
	}
	w.contains("name", f.NameContains)
	return page(ctx, s, "users", "id", w, p, func(u domain.User) string { return u.ID })
}

func joinOr(parts []string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		out += " OR " + p
	}
	return out
}

// CountUsers counts the accounts.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// InsertRefreshToken stores a refresh token (by its hash).
func (s *Store) InsertRefreshToken(ctx context.Context, t domain.RefreshToken) error {
	err := s.write(ctx, func(tx *wtx) error {
		factors := t.Factors
		if factors == "" {
			factors = domain.FactorPassword
		}
		_, err := tx.exec("INSERT INTO refresh_tokens (hash, family, user_id, created_at, expires_at, factors) VALUES (?, ?, ?, ?, ?, ?)",
			t.Hash, t.Family, t.UserID, ms(t.CreatedAt), ms(t.ExpiresAt), factors)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// GetRefreshToken returns a refresh token by its hash.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (domain.RefreshToken, error) {
	t := domain.RefreshToken{Hash: hash}
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var created, expires int64
		err := db.QueryRowContext(ctx, "SELECT family, user_id, created_at, expires_at, factors FROM refresh_tokens WHERE hash = ?", hash).
			Scan(&t.Family, &t.UserID, &created, &expires, &t.Factors)
		t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
		return err
	})
	if err != nil {
		return domain.RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	}
	return t, nil
}

// marker inserts a row that records a fact decided once; ErrDuplicate when
// it was decided already.
func (s *Store) marker(ctx context.Context, q string, args ...any) error {
	return s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(q, args...)
		return err
	})
}

// ClaimRefreshToken marks a token used; ErrDuplicate if it already was.
func (s *Store) ClaimRefreshToken(ctx context.Context, hash string, at time.Time) error {
	if err := s.marker(ctx, "INSERT INTO refresh_used (hash, at) VALUES (?, ?)", hash, ms(at)); err != nil {
		return fmt.Errorf("claim refresh token: %w", err)
	}
	return nil
}

// RevokeFamily revokes every token of a family; revoking twice is fine.
func (s *Store) RevokeFamily(ctx context.Context, family string, at time.Time) error {
	if err := s.marker(ctx, "INSERT OR IGNORE INTO revoked_families (family, at) VALUES (?, ?)", family, ms(at)); err != nil {
		return fmt.Errorf("revoke family: %w", err)
	}
	return nil
}

// FamilyRevoked reports whether a family was revoked.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	var one int
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT 1 FROM revoked_families WHERE family = ?", family).Scan(&one)
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("family revoked: %w", err)
}

// WeChatUser returns the account bound to an openid, or ErrNotFound.
func (s *Store) WeChatUser(ctx context.Context, openID string) (string, error) {
	var id string
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT user_id FROM wechat_bindings WHERE open_id = ?", openID).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("wechat user: %w", err)
	}
	return id, nil
}

// BindWeChat binds an openid to an account; ErrDuplicate if it is bound.
func (s *Store) BindWeChat(ctx context.Context, openID, userID string, at time.Time) error {
	if err := s.marker(ctx, "INSERT INTO wechat_bindings (open_id, user_id, at) VALUES (?, ?, ?)", openID, userID, ms(at)); err != nil {
		return fmt.Errorf("bind wechat: %w", err)
	}
	return nil
}

// insertAudit adds an audit entry within a write.
func insertAudit(tx *wtx, seal *domain.AuditSeal, e domain.AuditEntry) error {
	if e.Outcome == "" {
		e.Outcome = domain.OutcomeSuccess
	}
	// At the chain's end: the writer alone appends, one transaction at a time.
	var seq int64
	var prev string
	if err := tx.queryRow("SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit)").Scan(&seq, &prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	seal.Seal(seq, prev, &e)
	_, err := tx.exec(`INSERT INTO audit (id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome, seq, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ms(e.At), e.UserID, string(e.Role), e.Entity, e.EntityID, e.Action, e.RequestID, e.TownID, e.Addr, e.Outcome, e.Seq, e.Hash)
	return err
}

// AppendAudit adds an audit entry.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEntry) error {
	if err := s.write(ctx, func(tx *wtx) error { return insertAudit(tx, s.seal, e) }); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// ListAudit lists audit entries in id (time) order.
func (s *Store) ListAudit(ctx context.Context, f domain.AuditFilter, p domain.Page) (domain.List[domain.AuditEntry], error) {
	limit := p.Limit
	if limit <= 0 || limit > domain.MaxPageLimit {
		limit = domain.DefaultPageLimit
	}
	w := (&where{}).eq("entity", f.Entity).eq("entity_id", f.EntityID).eq("user_id", f.UserID).eq("action", f.Action).eq("outcome", f.Outcome)
	if !f.From.IsZero() {
		w.raw("at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		w.raw("at < ?", ms(f.To))
	}
	if p.After != "" {
		w.raw("id > ?", p.After)
	}
	var items []domain.AuditEntry
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, `SELECT id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome, seq, hash
			FROM audit`+w.sql()+" ORDER BY id LIMIT ?", append(w.args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows, true)
			if err != nil {
				return err
			}
			items = append(items, e)
		}
		return rows.Err()
	})
	if err != nil {
		return domain.List[domain.AuditEntry]{}, fmt.Errorf("list audit: %w", err)
	}
	out := domain.List[domain.AuditEntry]{Items: items}
	if out.Items == nil {
		out.Items = []domain.AuditEntry{}
	}
	if len(items) > limit {
		out.Items, out.Next = items[:limit], items[limit-1].ID
	}
	return out, nil
}
