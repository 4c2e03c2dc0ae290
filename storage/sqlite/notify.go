package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"zhucun/domain"
)

var _ domain.NotificationStore = (*Store)(nil)

// AddNotification stores n unless one with its key exists.
func (s *Store) AddNotification(ctx context.Context, n domain.Notification) (bool, error) {
	doc, err := encode(n)
	if err != nil {
		return false, fmt.Errorf("add notification: %w", err)
	}
	var added bool
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`INSERT INTO notifications (id, key, user_id, rule, item, deliver_at, push, push_next, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			n.ID, n.Key, n.UserID, n.Rule, n.Item, ms(n.DeliverAt), n.Push, ms(n.PushNext), doc)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		added = k == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add notification: %w", err)
	}
	return added, nil
}

// Notifications lists a user's delivered notices, newest first.
func (s *Store) Notifications(ctx context.Context, userID string, now time.Time, unread bool, p domain.Page) (domain.List[domain.Notification], error) {
	w := (&where{}).raw("user_id = ?", userID).raw("deliver_at <= ?", ms(now))
	if unread {
		w.raw("read_at IS NULL")
	}
	return pageDesc(ctx, s, "notifications", "id", w, p, func(x domain.Notification) string { return x.ID })
}

// UnreadCount counts a user's delivered notices not read.
func (s *Store) UnreadCount(ctx context.Context, userID string, now time.Time) (int64, error) {
	var n int64
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT count(*) FROM notifications WHERE user_id = ? AND deliver_at <= ? AND read_at IS NULL",
			userID, ms(now)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("unread count: %w", err)
	}
	return n, nil
}

// MarkRead marks a user's delivered notices read (ids nil: all).
func (s *Store) MarkRead(ctx context.Context, userID string, ids []string, at, now time.Time) (int64, error) {
	w := (&where{}).raw("user_id = ?", userID).raw("deliver_at <= ?", ms(now)).raw("read_at IS NULL")
	if ids != nil {
		w.in("id", ids)
	}
	var n int64
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("UPDATE notifications SET read_at = ?, doc = json_set(doc, '$.ReadAt', ?)"+w.sql(),
			append([]any{ms(at), at.UTC().Format(time.RFC3339Nano)}, w.args...)...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	return n, nil
}

// DropQueued removes a rule's undelivered notices of an item and stops the
// pushes of the delivered ones.
func (s *Store) DropQueued(ctx context.Context, rule, item string, now time.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec("DELETE FROM notifications WHERE rule = ? AND item = ? AND deliver_at > ?", rule, item, ms(now)); err != nil {
			return err
		}
		_, err := tx.exec(`UPDATE notifications SET push = ?, doc = json_set(doc, '$.Push', ?) WHERE rule = ? AND item = ? AND push = ?`,
			domain.PushDropped, domain.PushDropped, rule, item, domain.PushPending)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop queued notifications: %w", err)
	}
	return nil
}

// DuePushes lists notices whose push is pending and due.
func (s *Store) DuePushes(ctx context.Context, now time.Time, limit int) ([]domain.Notification, error) {
	return allDocs[domain.Notification](ctx, s, "due pushes",
		"SELECT doc FROM notifications WHERE push = 'pending' AND push_next <= ? ORDER BY push_next, id LIMIT ?", ms(now), limit)
}

// SetPush stores a notice's push state.
func (s *Store) SetPush(ctx context.Context, n domain.Notification) error {
	doc, err := encode(n)
	if err != nil {
		return fmt.Errorf("set push: %w", err)
	}
	// The read mark is the table's: a read between the load and here stays.
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE notifications SET push = ?, push_next = ?,
			doc = CASE WHEN read_at IS NULL THEN ? ELSE json_set(?, '$.ReadAt', json_extract(doc, '$.ReadAt')) END WHERE id = ?`,
			n.Push, ms(n.PushNext), doc, doc, n.ID)
		if err != nil {
			return err
		}
		return changed(res)
	})
	if err != nil {
		return fmt.Errorf("set push: %w", err)
	}
	return nil
}

// AddGrants adds one grant per template.
func (s *Store) AddGrants(ctx context.Context, userID string, templateIDs []string) error {
	err := s.write(ctx, func(tx *wtx) error {
		for _, t := range templateIDs {
			if _, err := tx.exec(`INSERT INTO wechat_grants (user_id, template_id, n) VALUES (?, ?, 1)
				ON CONFLICT (user_id, template_id) DO UPDATE SET n = n + 1`, userID, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add grants: %w", err)
	}
	return nil
}

// UseGrant takes one grant; false if none is left.
func (s *Store) UseGrant(ctx context.Context, userID, templateID string) (bool, error) {
	var used bool
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("UPDATE wechat_grants SET n = n - 1 WHERE user_id = ? AND template_id = ? AND n > 0", userID, templateID)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		used = k == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("use grant: %w", err)
	}
	return used, nil
}

// ClearGrants forgets a user's grants of a template.
func (s *Store) ClearGrants(ctx context.Context, userID, templateID string) error {
	if err := s.marker(ctx, "DELETE FROM wechat_grants WHERE user_id = ? AND template_id = ?", userID, templateID); err != nil {
		return fmt.Errorf("clear grants: %w", err)
	}
	return nil
}

// Grants are a user's grants left per template.
func (s *Store) Grants(ctx context.Context, userID string) (map[string]int, error) {
	out := map[string]int{}
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, "SELECT template_id, n FROM wechat_grants WHERE user_id = ? AND n > 0", userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t string
			var n int
			if err := rows.Scan(&t, &n); err != nil {
				return err
			}
			out[t] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	return out, nil
}

// WeChatOpenID is the openid bound to an account.
func (s *Store) WeChatOpenID(ctx context.Context, userID string) (string, error) {
	var id string
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT open_id FROM wechat_bindings WHERE user_id = ? ORDER BY at DESC LIMIT 1", userID).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("wechat openid: %w", err)
	}
	return id, nil
}

// CountReview counts the live records of these villages in a review state.
func (s *Store) CountReview(ctx context.Context, villageIDs []string, state string) (int64, error) {
	if len(villageIDs) == 0 {
		return 0, nil
	}
	w := (&where{}).in("village_id", villageIDs).raw("deleted = 0").raw("review = ?", state)
	var n int64
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		return db.QueryRowContext(ctx, "SELECT count(*) FROM records"+w.sql(), w.args...).Scan(&n)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("count review: %w", err)
	}
	return n, nil
}
