package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var _ domain.NotificationStore = (*Store)(nil)

const (
	colNotifications = "notifications"
	colGrants        = "wechat_grants"
)

// notificationRow is one notice; "key" is unique (once per item and day).
type notificationRow struct {
	ID        string            `bson:"_id"`
	Key       string            `bson:"key"`
	UserID    string            `bson:"userId"`
	Rule      string            `bson:"rule"`
	Item      string            `bson:"item"`
	Title     string            `bson:"title"`
	Body      string            `bson:"body"`
	Data      map[string]string `bson:"data,omitempty"`
	Day       string            `bson:"day"`
	DeliverAt time.Time         `bson:"deliverAt"`
	CreatedAt time.Time         `bson:"createdAt"`
	ReadAt    *time.Time        `bson:"readAt"`
	Push      string            `bson:"push"`
	PushTries int               `bson:"pushTries"`
	PushNext  time.Time         `bson:"pushNext"`
	PushError string            `bson:"pushError,omitempty"`
}

func (r notificationRow) id() string { return r.ID }

func toNotificationRow(n domain.Notification) notificationRow {
	return notificationRow(n)
}

func toNotification(r notificationRow) domain.Notification {
	n := domain.Notification(r)
	n.DeliverAt, n.CreatedAt, n.PushNext = n.DeliverAt.UTC(), n.CreatedAt.UTC(), n.PushNext.UTC()
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		n.ReadAt = &t
	}
	return n
}

// AddNotification stores n unless one with its key exists.
func (s *Store) AddNotification(ctx context.Context, n domain.Notification) (bool, error) {
	err := insert(ctx, s, colNotifications, toNotificationRow(n))
	if errors.Is(translate(err), domain.ErrDuplicate) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("add notification: %w", translate(err))
	}
	return true, nil
}

func inbox(userID string, now time.Time, unread bool) bson.D {
	f := bson.D{{Key: "userId", Value: userID}, {Key: "deliverAt", Value: bson.D{{Key: "$lte", Value: now}}}}
	if unread {
		f = append(f, bson.E{Key: "readAt", Value: nil})
	}
	return f
}

// Notifications lists a user's delivered notices, newest first.
func (s *Store) Notifications(ctx context.Context, userID string, now time.Time, unread bool, p domain.Page) (domain.List[domain.Notification], error) {
	f := inbox(userID, now, unread)
	return findPageDesc(ctx, s, colNotifications, f, p, toNotification)
}

// UnreadCount counts a user's delivered notices not read.
func (s *Store) UnreadCount(ctx context.Context, userID string, now time.Time) (int64, error) {
	var n int64
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.db.Collection(colNotifications).CountDocuments(ctx, inbox(userID, now, true))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("unread count: %w", translate(err))
	}
	return n, nil
}

// MarkRead marks a user's delivered notices read (ids nil: all).
func (s *Store) MarkRead(ctx context.Context, userID string, ids []string, at, now time.Time) (int64, error) {
	f := inbox(userID, now, true)
	if ids != nil {
		f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	var n int64
	err := s.write(ctx, func(ctx context.Context) error {
		res, err := s.db.Collection(colNotifications).UpdateMany(ctx, f, bson.D{{Key: "$set", Value: bson.D{{Key: "readAt", Value: at}}}})
		if err != nil {
			return err
		}
		n = res.ModifiedCount
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
	err := s.write(ctx, func(ctx context.Context) error {
		c := s.db.Collection(colNotifications)
		if _, err := c.DeleteMany(ctx, bson.D{{Key: "rule", Value: rule}, {Key: "item", Value: item}, {Key: "deliverAt", Value: bson.D{{Key: "$gt", Value: now}}}}); err != nil {
			return err
		}
		_, err := c.UpdateMany(ctx, bson.D{{Key: "rule", Value: rule}, {Key: "item", Value: item}, {Key: "push", Value: domain.PushPending}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "push", Value: domain.PushDropped}}}})
		return err
	})
	if err != nil {
		return fmt.Errorf("drop queued notifications: %w", err)
	}
	return nil
}

// DuePushes lists notices whose push is pending and due.
func (s *Store) DuePushes(ctx context.Context, now time.Time, limit int) ([]domain.Notification, error) {
	rows, err := findAllLimit[notificationRow](ctx, s, colNotifications, bson.D{{Key: "push", Value: domain.PushPending},
		{Key: "pushNext", Value: bson.D{{Key: "$lte", Value: now}}}}, bson.D{{Key: "pushNext", Value: 1}, {Key: "_id", Value: 1}}, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", translate(err))
	}
	return convAll(rows, toNotification), nil
}

// SetPush stores a notice's push state (the read mark stays as stored).
func (s *Store) SetPush(ctx context.Context, n domain.Notification) error {
	n0, err := matchedBy(ctx, s.write, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return s.db.Collection(colNotifications).UpdateOne(ctx, bson.D{{Key: "_id", Value: n.ID}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "push", Value: n.Push}, {Key: "pushTries", Value: n.PushTries}, {Key: "pushNext", Value: n.PushNext}, {Key: "pushError", Value: n.PushError}}}})
	})
	if err != nil {
		return fmt.Errorf("set push: %w", err)
	}
	if n0 == 0 {
		return fmt.Errorf("set push: %w", domain.ErrNotFound)
	}
	return nil
}

type grantRow struct {
	ID         string `bson:"_id"` // user|template
	UserID     string `bson:"userId"`
	TemplateID string `bson:"templateId"`
	N          int    `bson:"n"`
}

// AddGrants adds one grant per template.
func (s *Store) AddGrants(ctx context.Context, userID string, templateIDs []string) error {
	err := s.write(ctx, func(ctx context.Context) error {
		for _, t := range templateIDs {
			_, err := s.db.Collection(colGrants).UpdateOne(ctx, bson.D{{Key: "_id", Value: userID + "|" + t}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "userId", Value: userID}, {Key: "templateId", Value: t}}}},
				options.UpdateOne().SetUpsert(true))
			if err != nil {
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
	n, err := matchedBy(ctx, s.write, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return s.db.Collection(colGrants).UpdateOne(ctx, bson.D{{Key: "_id", Value: userID + "|" + templateID}, {Key: "n", Value: bson.D{{Key: "$gt", Value: 0}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: -1}}}})
	})
	if err != nil {
		return false, fmt.Errorf("use grant: %w", err)
	}
	return n == 1, nil
}

// ClearGrants forgets a user's grants of a template.
func (s *Store) ClearGrants(ctx context.Context, userID, templateID string) error {
	err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colGrants).DeleteOne(ctx, bson.D{{Key: "_id", Value: userID + "|" + templateID}})
		return err
	})
	if err != nil {
		return fmt.Errorf("clear grants: %w", err)
	}
	return nil
}

// Grants are a user's grants left per template.
func (s *Store) Grants(ctx context.Context, userID string) (map[string]int, error) {
	rows, err := findAll[grantRow](ctx, s, colGrants, bson.D{{Key: "userId", Value: userID}, {Key: "n", Value: bson.D{{Key: "$gt", Value: 0}}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("grants: %w", translate(err))
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.TemplateID] = r.N
	}
	return out, nil
}

// WeChatOpenID is the openid bound to an account.
func (s *Store) WeChatOpenID(ctx context.Context, userID string) (string, error) {
	rows, err := findAllLimit[markerRow](ctx, s, colWeChat, bson.D{{Key: "userId", Value: userID}}, bson.D{{Key: "at", Value: -1}}, 1)
	if err != nil {
		return "", fmt.Errorf("wechat openid: %w", translate(err))
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("wechat openid: %w", domain.ErrNotFound)
	}
	return rows[0].ID, nil
}

// CountReview counts the live records of these villages in a review state.
func (s *Store) CountReview(ctx context.Context, villageIDs []string, state string) (int64, error) {
	if len(villageIDs) == 0 {
		return 0, nil
	}
	f := bson.D{{Key: "villageId", Value: bson.D{{Key: "$in", Value: villageIDs}}}, {Key: "deleted", Value: false}}
	if state == domain.ReviewSubmitted { // also the records written before reviews
		f = append(f, bson.E{Key: "review", Value: bson.D{{Key: "$nin", Value: bson.A{domain.ReviewApproved, domain.ReviewReturned}}}})
	} else {
		f = append(f, bson.E{Key: "review", Value: state})
	}
	var n int64
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.db.Collection(colRecords).CountDocuments(ctx, f)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count review: %w", translate(err))
	}
	return n, nil
}
