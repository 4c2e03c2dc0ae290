package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"zhucun/domain"
)

// loginView is the sign-in form.
type loginView struct {
	Phone, Error, Next string
	Expired            bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.sess.userID != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	v := loginView{Next: r.URL.Query().Get("next"), Expired: r.URL.Query().Get("expired") != ""}
	return c.render(w, rq, http.StatusOK, "login", "登录", "", v)
}

// login checks the phone and password as the API's sign-in does (the
// same lockout); an account with a second factor goes on to its code.
func (c *Console) login(w http.ResponseWriter, r *http.Request, rq *request) error {
	phone, password := strings.TrimSpace(r.PostFormValue("phone")), r.PostFormValue("password")
	next := localNext(r.PostFormValue("next"))
	u, err := c.svc.Auth.Login(rq.ctx, phone, password, c.addr(r), c.requestID(r))
	if err != nil {
		v := loginView{Phone: phone, Next: r.PostFormValue("next"), Error: "手机号或密码错误。"}
		status := http.StatusUnauthorized
		var de *domain.Error
		switch {
		case errors.As(err, &de) && de.Kind == domain.KindRateLimited:
			v.Error, status = "尝试次数过多，账号已暂时锁定，请稍后再试。", http.StatusTooManyRequests
		case errors.As(err, &de) && de.Kind == domain.KindInvalid:
			v.Error, status = "请输入手机号和密码。", http.StatusUnprocessableEntity
		case errors.As(err, &de) && de.Kind == domain.KindUnauthorized:
		default:
			return err
		}
		return c.render(w, rq, status, "login", "登录", "", v)
	}
	// A new session id at each step of the sign-in (no fixation).
	sess := c.sess.start(w, rq.sess, c.cfg.Secure)
	if c.svc.Auth.NeedsSecondFactor(u) {
		c.sess.update(sess, func(s *session) { s.pending, s.pendAt, s.next = u.ID, c.cfg.Now(), next })
		http.Redirect(w, r, "/login/factor", http.StatusSeeOther)
		return nil
	}
	c.sess.update(sess, func(s *session) { s.userID, s.factors = u.ID, domain.FactorPassword })
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (c *Console) pendingUser(rq *request) string {
	var id string
	c.sess.update(rq.sess, func(s *session) {
		if s.pending != "" && c.cfg.Now().Sub(s.pendAt) < pendingFor {
			id = s.pending
		}
	})
	return id
}

func (c *Console) factorPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.pendingUser(rq) == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	return c.render(w, rq, http.StatusOK, "factor", "动态口令", "", map[string]string{})
}

// factorLogin takes the code (or a recovery code) of the account whose
// password was right.
func (c *Console) factorLogin(w http.ResponseWriter, r *http.Request, rq *request) error {
	uid := c.pendingUser(rq)
	if uid == "" {
		http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
		return nil
	}
	code, recovery := strings.TrimSpace(r.PostFormValue("code")), strings.TrimSpace(r.PostFormValue("recovery"))
	if recovery != "" {
		code = ""
	}
	u, err := c.svc.Auth.SecondFactor(rq.ctx, uid, code, recovery, c.addr(r), c.requestID(r))
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindUnauthorized && de.Kind != domain.KindInvalid && de.Kind != domain.KindRateLimited {
			return err
		}
		msg := "动态口令错误或已过期。"
		switch {
		case de.Code == "second_factor_reused":
			msg = "这个动态口令已使用过，请等待下一个。"
		case de.Kind == domain.KindRateLimited:
			msg = "尝试次数过多，请稍后再试。"
		case de.Kind == domain.KindInvalid:
			msg = "请输入动态口令或恢复码。"
		}
		return c.render(w, rq, http.StatusUnauthorized, "factor", "动态口令", "", map[string]string{"Error": msg})
	}
	var next string
	c.sess.update(rq.sess, func(s *session) { next = s.next })
	sess := c.sess.start(w, rq.sess, c.cfg.Secure)
	c.sess.update(sess, func(s *session) { s.userID, s.factors = u.ID, domain.FactorsBoth })
	http.Redirect(w, r, localNext(next), http.StatusSeeOther)
	return nil
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.svc.Audit.Record(rq.ctx, rq.caller, "session", rq.caller.UserID, "logout", ""); err != nil {
		return err
	}
	c.sess.end(w, rq.sess, c.cfg.Secure)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// passwordView is the password form.
type passwordView struct {
	Reason string // first, expired or ""
	Errors []string
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := passwordView{Reason: c.svc.Auth.Policy.PasswordDue(rq.caller, c.cfg.Now())}
	return c.render(w, rq, http.StatusOK, "password", "修改密码", "", v)
}

// changePassword sets the account's own password, by the API's policy.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, rq *request) error {
	current, next, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	v := passwordView{Reason: c.svc.Auth.Policy.PasswordDue(rq.caller, c.cfg.Now())}
	if next != again {
		v.Errors = []string{"两次输入的新密码不一致。"}
		return c.render(w, rq, http.StatusUnprocessableEntity, "password", "修改密码", "", v)
	}
	err := c.svc.Auth.ChangePassword(rq.ctx, rq.caller, current, next)
	var de *domain.Error
	if errors.As(err, &de) && (de.Kind == domain.KindInvalid || de.Kind == domain.KindUnauthorized) {
		v.Errors = passwordErrors(de)
		return c.render(w, rq, http.StatusUnprocessableEntity, "password", "修改密码", "", v)
	} else if err != nil {
		return err
	}
	c.sess.endUser(rq.caller.UserID, rq.sess)
	c.flash(rq, "密码已修改。")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// passwordErrors says in Chinese what the password policy refused.
func passwordErrors(de *domain.Error) []string {
	words := map[string]string{
		"currentPassword": "当前密码不正确。",
		"password":        "新密码不符合要求：至少 8 位，包含大写字母、小写字母、数字、符号中的 3 类，不含手机号，且不能与最近 5 次的密码相同。",
	}
	var out []string
	for _, f := range de.Fields {
		if w, ok := words[f.Field]; ok {
			out = append(out, w)
		} else {
			out = append(out, f.Field+"："+f.Message)
		}
	}
	if len(out) == 0 {
		out = append(out, "密码未能修改："+de.Message)
	}
	return out
}

// enrolView is the second-factor enrolment.
type enrolView struct {
	Enrolled bool
	Secret   string
	QR       template.URL // a data: URL of the PNG we made
	Codes    []string
	Error    string
}

func (c *Console) enrolPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.render(w, rq, http.StatusOK, "enrol", "绑定动态口令", "", enrolView{Enrolled: rq.caller.SecondFactor})
}

// startEnrol checks the password again and shows the secret as a QR code.
func (c *Console) startEnrol(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := c.svc.Auth.StartTOTP(rq.ctx, rq.caller, r.PostFormValue("password"))
	var de *domain.Error
	if errors.As(err, &de) && (de.Kind == domain.KindInvalid || de.Kind == domain.KindConflict) {
		msg := "密码不正确。"
		if de.Kind == domain.KindConflict {
			msg = "已绑定动态口令。"
		}
		return c.render(w, rq, http.StatusUnprocessableEntity, "enrol", "绑定动态口令", "", enrolView{Error: msg, Enrolled: rq.caller.SecondFactor})
	} else if err != nil {
		return err
	}
	png, err := qrcode.Encode(e.URI, qrcode.Medium, 224)
	if err != nil {
		return err
	}
	v := enrolView{Secret: e.Secret, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	return c.render(w, rq, http.StatusOK, "enrol", "绑定动态口令", "", v)
}

// confirmEnrol takes the first code, shows the recovery codes once, and
// makes the session a two-factor one.
func (c *Console) confirmEnrol(w http.ResponseWriter, r *http.Request, rq *request) error {
	codes, err := c.svc.Auth.ConfirmTOTP(rq.ctx, rq.caller, strings.TrimSpace(r.PostFormValue("code")))
	var de *domain.Error
	if errors.As(err, &de) && (de.Kind == domain.KindInvalid || de.Kind == domain.KindUnauthorized || de.Kind == domain.KindConflict) {
		return c.render(w, rq, http.StatusUnprocessableEntity, "enrol", "绑定动态口令", "", enrolView{Error: "动态口令不正确，请重新扫码后输入新的口令。"})
	} else if err != nil {
		return err
	}
	sess := c.sess.start(w, rq.sess, c.cfg.Secure)
	c.sess.update(sess, func(s *session) { s.userID, s.factors = rq.caller.UserID, domain.FactorsBoth })
	rq.sess = sess
	return c.render(w, rq, http.StatusOK, "enrol", "绑定动态口令", "", enrolView{Enrolled: true, Codes: codes})
}
