package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Feedback (投诉建议): every account may send a complaint or a suggestion
// about the system or the work, as the 2026 rules for government apps ask
// (国办函〔2026〕12号), and the organisation department answers it. The
// sender sees its own and the answers; the department sees them all.

// Feedback kinds and topics.
const (
	FeedbackComplaint  = "complaint"  // 投诉
	FeedbackSuggestion = "suggestion" // 建议
	FeedbackSystem     = "system"     // about zhucun itself
	FeedbackWork       = "work"       // about the campaign's work
)

// Feedback states.
const (
	FeedbackOpen     = "open"
	FeedbackAnswered = "answered"
)

// Feedback limits.
const (
	maxFeedbackText   = 2000
	maxFeedbackAnswer = 2000
)

// Feedback is one complaint or suggestion and its answer.
type Feedback struct {
	ID         string // the client's UUID: a resend never makes a second
	Kind       string
	Topic      string
	Text       string
	UserID     string
	UserName   string
	Role       Role
	State      string
	Answer     string
	AnsweredBy string
	AnswerName string
	AnsweredAt *time.Time
	Hash       string // what was sent, so a resend is told from another message
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// FeedbackFilter narrows a listing; empty fields match everything.
type FeedbackFilter struct {
	UserID string
	State  string
}

// FeedbackStore keeps complaints and suggestions.
type FeedbackStore interface {
	// CreateFeedback stores a new one; ErrDuplicate with the stored one when the id exists.
	CreateFeedback(ctx context.Context, f Feedback) (Feedback, error)
	// ReplaceFeedback stores f if the stored version is f.Version-1: ErrStale otherwise.
	ReplaceFeedback(ctx context.Context, f Feedback) error
	GetFeedback(ctx context.Context, id string) (Feedback, error)
	// ListFeedback lists newest first (by id, the client's UUIDv7), after the page's cursor.
	ListFeedback(ctx context.Context, f FeedbackFilter, p Page) (List[Feedback], error)
}

// FeedbackInput is a complaint or suggestion as sent.
type FeedbackInput struct {
	ID    string
	Kind  string
	Topic string
	Text  string
}

func (in FeedbackInput) hash() string {
	h := sha256.Sum256([]byte(in.Kind + "\x00" + in.Topic + "\x00" + in.Text))
	return hex.EncodeToString(h[:])
}

// FeedbackService takes complaints and suggestions and their answers.
type FeedbackService struct {
	Store FeedbackStore
	Audit Auditor
	Now   Clock
}

// answersFeedback reports whether the caller answers feedback: the
// organisation department (the campaign administrator).
func answersFeedback(c Caller) bool { return c.Is(RoleAdmin) }

// Send stores a complaint or suggestion of the caller; a resend of the
// same one answers the stored one and true.
func (s FeedbackService) Send(ctx context.Context, c Caller, in FeedbackInput) (Feedback, bool, error) {
	var v Validator
	if !ValidID(in.ID) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	in.Text = strings.TrimSpace(in.Text)
	fc := fieldCheck{v: &v}
	fc.oneOf("kind", in.Kind, []string{FeedbackComplaint, FeedbackSuggestion}, true)
	if in.Topic == "" {
		in.Topic = FeedbackWork
	}
	fc.oneOf("topic", in.Topic, []string{FeedbackSystem, FeedbackWork}, true)
	if v.Required("text", in.Text) {
		v.MaxLen("text", in.Text, maxFeedbackText)
	}
	if err := v.Err(); err != nil {
		return Feedback{}, false, err
	}
	now := s.Now()
	f := Feedback{ID: in.ID, Kind: in.Kind, Topic: in.Topic, Text: in.Text, UserID: c.UserID, UserName: c.Name, Role: c.Role,
		State: FeedbackOpen, Hash: in.hash(), CreatedAt: now, UpdatedAt: now, Version: 1}
	stored, err := s.Store.CreateFeedback(ctx, f)
	if errors.Is(err, ErrDuplicate) {
		if stored.UserID == f.UserID && stored.Hash == f.Hash {
			return stored, true, nil
		}
		return Feedback{}, false, idConflict()
	} else if err != nil {
		return Feedback{}, false, fmt.Errorf("send feedback: %w", err)
	}
	return stored, false, s.Audit.Record(ctx, c, "feedback", f.ID, "create", "")
}

// Get returns one the caller may see: its own, or any to the department.
func (s FeedbackService) Get(ctx context.Context, c Caller, id string) (Feedback, error) {
	f, err := s.Store.GetFeedback(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && f.UserID != c.UserID && !answersFeedback(c) {
		return Feedback{}, NotFound("feedback")
	}
	return f, err
}

// List lists what the caller may see: its own, or all to the department.
func (s FeedbackService) List(ctx context.Context, c Caller, f FeedbackFilter, p Page) (List[Feedback], error) {
	if f.State != "" && f.State != FeedbackOpen && f.State != FeedbackAnswered {
		return List[Feedback]{}, &Error{Kind: KindInvalid, Code: "invalid_query", Message: "state must be open or answered",
			Fields: []FieldError{{Field: "state", Code: FieldInvalid, Message: "state must be open or answered"}}}
	}
	if !answersFeedback(c) {
		f.UserID = c.UserID
	}
	return s.Store.ListFeedback(ctx, f, p)
}

// Answer gives the department's answer (a later one replaces it); a
// resend of the same answer changes nothing and answers true.
func (s FeedbackService) Answer(ctx context.Context, c Caller, id, answer string) (Feedback, bool, error) {
	if !answersFeedback(c) {
		return Feedback{}, false, forbiddenBecause("the organisation department (admin) answers complaints and suggestions")
	}
	answer = strings.TrimSpace(answer)
	var v Validator
	if v.Required("answer", answer) {
		v.MaxLen("answer", answer, maxFeedbackAnswer)
	}
	if err := v.Err(); err != nil {
		return Feedback{}, false, err
	}
	f, err := s.Get(ctx, c, id)
	if err != nil {
		return Feedback{}, false, err
	}
	if f.State == FeedbackAnswered && f.Answer == answer {
		return f, true, nil
	}
	now := s.Now()
	f.State, f.Answer, f.AnsweredBy, f.AnswerName, f.AnsweredAt = FeedbackAnswered, answer, c.UserID, c.Name, &now
	f.UpdatedAt = now
	f.Version++
	if err := s.Store.ReplaceFeedback(ctx, f); errors.Is(err, ErrStale) {
		return Feedback{}, false, &Error{Kind: KindConflict, Code: "version_mismatch", Message: "answered by someone else meanwhile; read it again"}
	} else if err != nil {
		return Feedback{}, false, fmt.Errorf("answer feedback: %w", err)
	}
	return f, false, s.Audit.Record(ctx, c, "feedback", f.ID, "answer", "")
}
