package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// feedbackJSON is a complaint or suggestion (投诉建议) and its answer.
type feedbackJSON struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Topic      string     `json:"topic"`
	Text       string     `json:"text"`
	UserID     string     `json:"userId"`
	UserName   string     `json:"userName"`
	Role       string     `json:"role"`
	State      string     `json:"state"`
	Answer     string     `json:"answer,omitempty"`
	AnsweredBy string     `json:"answeredBy,omitempty"`
	AnswerName string     `json:"answeredByName,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	Version    int        `json:"version"`
}

func toFeedbackJSON(f domain.Feedback) feedbackJSON {
	return feedbackJSON{ID: f.ID, Kind: f.Kind, Topic: f.Topic, Text: f.Text, UserID: f.UserID, UserName: f.UserName, Role: string(f.Role),
		State: f.State, Answer: f.Answer, AnsweredBy: f.AnsweredBy, AnswerName: f.AnswerName, AnsweredAt: f.AnsweredAt,
		CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, Version: f.Version}
}

type feedbackReq struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Topic string `json:"topic"`
	Text  string `json:"text"`
}

func (s *server) sendFeedback(c *fiber.Ctx) error {
	var req feedbackReq
	if err := decode(c, &req); err != nil {
		return err
	}
	f, dup, err := s.svc.Feedback.Send(ctx(c), caller(c), domain.FeedbackInput{ID: req.ID, Kind: req.Kind, Topic: req.Topic, Text: req.Text})
	if err != nil {
		return err
	}
	if dup {
		return c.JSON(toFeedbackJSON(f))
	}
	return c.Status(fiber.StatusCreated).JSON(toFeedbackJSON(f))
}

func (s *server) listFeedback(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Feedback.List(ctx(c), caller(c), domain.FeedbackFilter{State: c.Query("state")}, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toFeedbackJSON))
}

func (s *server) getFeedback(c *fiber.Ctx) error {
	id, err := pathID(c, "feedback")
	if err != nil {
		return err
	}
	f, err := s.svc.Feedback.Get(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toFeedbackJSON(f))
}

type answerReq struct {
	Answer string `json:"answer"`
}

func (s *server) answerFeedback(c *fiber.Ctx) error {
	id, err := pathID(c, "feedback")
	if err != nil {
		return err
	}
	var req answerReq
	if err := decode(c, &req); err != nil {
		return err
	}
	f, _, err := s.svc.Feedback.Answer(ctx(c), caller(c), id, req.Answer)
	if err != nil {
		return err
	}
	return c.JSON(toFeedbackJSON(f))
}
