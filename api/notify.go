package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type notificationJSON struct {
	ID     string            `json:"id"`
	Rule   string            `json:"rule"`
	Item   string            `json:"item,omitempty"`
	Title  string            `json:"title"`
	Body   string            `json:"body"`
	Data   map[string]string `json:"data"`
	At     time.Time         `json:"at"`
	Read   bool              `json:"read"`
	ReadAt *time.Time        `json:"readAt,omitempty"`
	Push   string            `json:"push,omitempty"`
}

func toNotificationJSON(n domain.Notification) notificationJSON {
	data := n.Data
	if data == nil {
		data = map[string]string{}
	}
	return notificationJSON{ID: n.ID, Rule: n.Rule, Item: n.Item, Title: n.Title, Body: n.Body, Data: data, At: n.DeliverAt,
		Read: n.ReadAt != nil, ReadAt: n.ReadAt, Push: n.Push}
}

// notifications answers a page of the caller's inbox and its unread count.
func (s *server) notifications(c *fiber.Ctx) error {
	var v domain.Validator
	unread := false
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		v.Add("unread", domain.FieldInvalid, "unread must be true or false")
	}
	if err := queryErr(v); err != nil {
		return err
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	in, err := s.svc.Notify.Inbox(ctx(c), caller(c), unread, p)
	if err != nil {
		return err
	}
	l := toList(in.List, toNotificationJSON)
	return c.JSON(struct {
		listJSON[notificationJSON]
		Unread int64 `json:"unread"`
	}{l, in.Unread})
}

func (s *server) unreadCount(c *fiber.Ctx) error {
	n, err := s.svc.Notify.Unread(ctx(c), caller(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unread": n})
}

func (s *server) markRead(c *fiber.Ctx) error {
	var req struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.All == (req.IDs != nil) {
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: "ids", Code: domain.FieldRequired, Message: "give ids, or all: true"})
	}
	ids := req.IDs
	if req.All {
		ids = nil
	}
	marked, left, err := s.svc.Notify.MarkRead(ctx(c), caller(c), ids)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"marked": marked, "unread": left})
}

type subscriptionJSON struct {
	Rule       string `json:"rule"`
	TemplateID string `json:"templateId"`
	Remaining  int    `json:"remaining"`
}

func sendSubscriptions(c *fiber.Ctx, subs []domain.Subscription) error {
	out := make([]subscriptionJSON, len(subs))
	for i, s := range subs {
		out[i] = subscriptionJSON(s)
	}
	return c.JSON(fiber.Map{"templates": out})
}

func (s *server) subscriptions(c *fiber.Ctx) error {
	subs, err := s.svc.Notify.Subscriptions(ctx(c), caller(c))
	if err != nil {
		return err
	}
	return sendSubscriptions(c, subs)
}

func (s *server) subscribe(c *fiber.Ctx) error {
	var req struct {
		Accepted []string `json:"accepted"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	subs, err := s.svc.Notify.Subscribe(ctx(c), caller(c), req.Accepted)
	if err != nil {
		return err
	}
	return sendSubscriptions(c, subs)
}
