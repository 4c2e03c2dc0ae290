package web

import (
	"net/http"
	"strings"

	"zhucun/domain"
)

// feedbackView is 投诉建议: the form, and the messages the caller may see
// (its own; all of them for the department, which answers).
type feedbackView struct {
	Items   []domain.Feedback
	Answers bool
	Error   string
	Kind    string
	Topic   string
	Text    string
	ID      string // the new message's id: a resent form makes no second
}

func (c *Console) feedbackPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.renderFeedback(w, rq, http.StatusOK, feedbackView{Kind: domain.FeedbackSuggestion, Topic: domain.FeedbackSystem})
}

func (c *Console) renderFeedback(w http.ResponseWriter, rq *request, status int, v feedbackView) error {
	l, err := c.svc.Feedback.List(rq.ctx, rq.caller, domain.FeedbackFilter{}, domain.Page{Limit: 100})
	if err != nil {
		return err
	}
	v.Items, v.Answers = l.Items, rq.caller.Role == domain.RoleAdmin
	if v.ID == "" {
		v.ID = domain.NewID(c.cfg.Now())
	}
	return c.render(w, rq, status, "feedback", "投诉建议", "feedback", v)
}

// sendFeedback sends a complaint or suggestion; the form's id makes a
// resend (a double click, a reload) answer the one already sent.
func (c *Console) sendFeedback(w http.ResponseWriter, r *http.Request, rq *request) error {
	in := domain.FeedbackInput{ID: r.PostFormValue("id"), Kind: r.PostFormValue("kind"), Topic: r.PostFormValue("topic"), Text: strings.TrimSpace(r.PostFormValue("text"))}
	_, _, err := c.svc.Feedback.Send(rq.ctx, rq.caller, in)
	if de, ok := err.(*domain.Error); ok && de.Kind == domain.KindInvalid {
		v := feedbackView{Kind: in.Kind, Topic: in.Topic, Text: in.Text, ID: in.ID, Error: "请填写内容（不超过 2000 字），并选择类别。"}
		return c.renderFeedback(w, rq, http.StatusUnprocessableEntity, v)
	} else if err != nil {
		return err
	}
	c.flash(rq, "已提交，组织部答复后会显示在这里。")
	http.Redirect(w, r, "/feedback", http.StatusSeeOther)
	return nil
}

// answerFeedback is the department's answer.
func (c *Console) answerFeedback(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, _, err := c.svc.Feedback.Answer(rq.ctx, rq.caller, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("answer"))); err != nil {
		return err
	}
	c.flash(rq, "已答复。")
	http.Redirect(w, r, "/feedback", http.StatusSeeOther)
	return nil
}
