// Package web is the console of the organisation department and the
// leaders: server-rendered Chinese pages (html/template) with a little of
// our own JavaScript, charts and the map drawn as SVG, every asset served
// from the binary. It calls the domain services with the signed-in
// account's scope, as the API does, so each number on a page is the API's
// for the same scope, period and basis.
//
// Sessions are cookies (HttpOnly, SameSite=Strict, Secure under TLS) held
// in memory with an idle timeout; every form carries the session's CSRF
// token. Sign-in is the API's: the same lockout, the same second factor,
// the same first password change.
package web

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"zhucun/domain"
)

//go:embed templates static
var assets embed.FS

// Config tunes the console.
type Config struct {
	// Secure marks the session cookie Secure (served over TLS).
	Secure bool
	// Idle is the idle timeout of a session; 0 means DefaultIdle.
	Idle time.Duration
	// Now is the clock; nil means time.Now.
	Now domain.Clock
	// Loc is the campaign's time zone; nil means UTC.
	Loc    *time.Location
	Logger *slog.Logger
	// Timeout bounds the domain calls of one page; 0 means 10 s.
	Timeout time.Duration
	// AddrHeader and RequestIDHeader, when set, name the headers the
	// server in front sets to the client's address and the request id.
	AddrHeader, RequestIDHeader string
}

// Services are the domain services the pages call.
type Services struct {
	Auth        domain.AuthService
	Users       domain.UserService
	Org         domain.OrgService
	Stats       domain.StatsService
	Campaigns   domain.CampaignService
	Teams       domain.TeamService
	Ledger      domain.LedgerService
	Field       domain.FieldService
	Reviews     domain.ReviewService
	Photos      domain.PhotoService
	Assessments domain.AssessmentService
	Exports     domain.ExportService
	Feedback    domain.FeedbackService
	Audit       domain.Auditor
	Approvals   domain.ApprovalService
	FieldChecks domain.FieldCheckService
}

// Console is the console's HTTP handler.
type Console struct {
	cfg   Config
	svc   Services
	log   *slog.Logger
	sess  *sessions
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New builds the console.
func New(cfg Config, svc Services) (*Console, error) {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	c := &Console{cfg: cfg, svc: svc, log: cfg.Logger, sess: newSessions(cfg.Idle, cfg.Now), mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", base, err)
		}
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(assets, "static") // the directory is embedded above
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", c.staticHeaders(http.FileServerFS(static))))
	c.public("GET /login", c.loginPage)
	c.public("POST /login", c.login)
	c.public("GET /login/factor", c.factorPage)
	c.public("POST /login/factor", c.factorLogin)

	c.setup("POST /logout", c.logout)
	c.setup("GET /password", c.passwordPage)
	c.setup("POST /password", c.changePassword)
	c.setup("GET /factor", c.enrolPage)
	c.setup("POST /factor", c.startEnrol)
	c.setup("POST /factor/confirm", c.confirmEnrol)

	c.page("GET /{$}", campaignRoles, c.overview)
	c.page("GET /towns/{id}", campaignRoles, c.townPage)
	c.page("GET /villages/{id}", campaignRoles, c.villagePage)
	c.page("GET /export/ledger.xlsx", []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin}, c.ledgerDownload)
	c.page("GET /round", department, c.round)
	c.page("GET /teams", department, c.teams)
	c.page("GET /approvals", reviewers, c.approvals)
	c.page("POST /approvals", []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin}, c.act)
	c.page("GET /field-checks", department, c.fieldChecks)
	c.page("GET /assessments", department, c.assessments)
	c.page("GET /accounts", []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin}, c.accounts)
	c.page("GET /reviews", reviewers, c.reviewQueue)
	c.page("POST /reviews", reviewers, c.review)
	c.page("GET /photos/{id}", campaignRoles, c.photo)
	c.page("GET /feedback", domain.Roles, c.feedbackPage)
	c.page("POST /feedback", domain.Roles, c.sendFeedback)
	c.page("POST /feedback/{id}/answer", []domain.Role{domain.RoleAdmin}, c.answerFeedback)
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.problem(w, r, nil, http.StatusNotFound, "页面不存在", "没有这个页面。")
	})
}

var (
	campaignRoles = domain.CampaignRoles
	reviewers     = []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin, domain.RoleTeamLeader}
	department    = []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin}
)

// ServeHTTP serves a console request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) staticHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// request is what a page handler gets: the session and, once signed in,
// the caller.
type request struct {
	sess   *session
	caller domain.Caller
	ctx    context.Context
}

type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

func (c *Console) addr(r *http.Request) string {
	if c.cfg.AddrHeader != "" {
		if a := r.Header.Get(c.cfg.AddrHeader); a != "" {
			return a
		}
	}
	return r.RemoteAddr
}

func (c *Console) requestID(r *http.Request) string {
	if c.cfg.RequestIDHeader != "" {
		if id := r.Header.Get(c.cfg.RequestIDHeader); id != "" {
			return id
		}
	}
	return "console-" + randomToken()[:12]
}

// run calls a handler with a deadline, checking the CSRF token of a
// POST, and renders what it returns as an error.
func (c *Console) run(w http.ResponseWriter, r *http.Request, rq *request, h handler) {
	ctx, cancel := context.WithTimeout(r.Context(), c.cfg.Timeout)
	defer cancel()
	rq.ctx = ctx
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !validCSRF(rq.sess, r) || !sameOrigin(r) {
			c.log.Warn("console: a form without its CSRF token, or from another site, refused", "path", r.URL.Path,
				"token", r.PostFormValue("_csrf") != "", "origin", r.Header.Get("Origin"), "host", r.Host, "request_id", c.requestID(r))
			c.problem(w, r, rq, http.StatusForbidden, "表单已失效", "表单缺少有效的安全令牌（CSRF）。请返回、刷新页面后重新提交。")
			return
		}
	}
	if err := h(w, r, rq); err != nil {
		c.fail(w, r, rq, err)
	}
}

// sameOrigin refuses a POST whose Origin names another site. A browser
// sends "null" where the referrer policy hides the origin; the token
// decides then.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// public registers a page that needs no sign-in; it still has a session,
// for the form's CSRF token.
func (c *Console) public(pattern string, h handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sess, _ := c.sess.get(r)
		if sess == nil {
			sess = c.sess.start(w, nil, c.cfg.Secure)
		}
		c.run(w, r, &request{sess: sess}, h)
	})
}

// signedIn loads the caller of a signed-in session, or sends the browser
// to the sign-in page.
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request) (*request, bool) {
	sess, expired := c.sess.get(r)
	if sess == nil || sess.userID == "" {
		to := "/login"
		if expired {
			to += "?expired=1"
		}
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			sep := "?"
			if expired {
				sep = "&"
			}
			to += sep + "next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.cfg.Timeout)
	defer cancel()
	cl, err := c.svc.Users.Caller(ctx, sess.userID, c.requestID(r))
	if err != nil {
		c.sess.end(w, sess, c.cfg.Secure)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, false
	}
	cl.Addr = c.addr(r)
	return &request{sess: sess, caller: cl}, true
}

// setup registers a page open while the password change is due or the
// second factor is missing: the password and factor pages, sign-out.
func (c *Console) setup(pattern string, h handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if rq, ok := c.signedIn(w, r); ok {
			c.run(w, r, rq, h)
		}
	})
}

// page registers a page of the given roles; it first sends the account to
// change its password or enrol its factor when it must.
func (c *Console) page(pattern string, roles []domain.Role, h handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rq, ok := c.signedIn(w, r)
		if !ok {
			return
		}
		cl := rq.caller
		if c.svc.Auth.Policy.PasswordDue(cl, c.cfg.Now()) != "" {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		if cl.SecondFactor || c.svc.Auth.RoleNeedsSecondFactor(cl.Role) {
			if !cl.SecondFactor {
				http.Redirect(w, r, "/factor", http.StatusSeeOther)
				return
			}
			if rq.sess.factors != domain.FactorsBoth {
				// Enrolled since this session began with the password only.
				c.sess.end(w, rq.sess, c.cfg.Secure)
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
		}
		if !slices.Contains(roles, cl.Role) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, "/feedback", http.StatusSeeOther)
				return
			}
			c.problem(w, r, rq, http.StatusForbidden, "无权访问", "您的角色不能使用这个页面。")
			return
		}
		c.run(w, r, rq, h)
	})
}

// view is what every page template gets.
type view struct {
	Title  string
	Caller domain.Caller
	CSRF   string
	Flash  string
	Nav    string // the current menu item
	Data   any
	// Signed reports a signed-in page (the menu is shown).
	Signed bool
}

func (c *Console) render(w http.ResponseWriter, rq *request, status int, page, title, nav string, data any) error {
	t := c.pages[page]
	if t == nil {
		return fmt.Errorf("console: no page %s", page)
	}
	v := view{Title: title, Nav: nav, Data: data}
	if rq != nil && rq.sess != nil {
		v.CSRF = rq.sess.csrf
		c.sess.update(rq.sess, func(s *session) { v.Flash, s.flash = s.flash, "" })
		v.Caller, v.Signed = rq.caller, rq.sess.userID != "" && rq.caller.UserID != ""
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("console: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// problem renders an error page.
func (c *Console) problem(w http.ResponseWriter, r *http.Request, rq *request, status int, title, msg string) {
	if err := c.render(w, rq, status, "problem", title, "", map[string]any{"Status": status, "Message": msg}); err != nil {
		c.log.Error("console: error page", "err", err, "path", r.URL.Path)
	}
}

// fail renders a handler's error: the domain's kinds as their pages.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Kind {
		case domain.KindNotFound:
			c.problem(w, r, rq, http.StatusNotFound, "找不到", "没有这一项，或它不在您的范围内。")
			return
		case domain.KindForbidden:
			c.problem(w, r, rq, http.StatusForbidden, "无权操作", "您的角色或范围不允许这样做。")
			return
		case domain.KindInvalid:
			c.problem(w, r, rq, http.StatusUnprocessableEntity, "输入有误", fieldMessages(de))
			return
		case domain.KindConflict, domain.KindPrecondition:
			c.problem(w, r, rq, http.StatusConflict, "状态已变化", "这一项已被他人修改或状态不允许，请刷新后再试。")
			return
		case domain.KindRateLimited:
			c.problem(w, r, rq, http.StatusTooManyRequests, "操作过于频繁", "尝试次数过多，请稍后再试。")
			return
		}
	}
	c.log.Error("console", "err", err, "path", r.URL.Path, "request_id", c.requestID(r))
	c.problem(w, r, rq, http.StatusInternalServerError, "服务暂时不可用", "处理请求时出错，请稍后再试。")
}

// fieldNames and fieldCodes put a validation error in Chinese.
var (
	fieldNames = map[string]string{"comment": "意见", "text": "内容", "answer": "答复", "kind": "类别", "topic": "关于",
		"period": "时段", "decision": "审核决定", "id": "记录", "from": "开始日期", "to": "结束日期", "version": "版本"}
	fieldCodes = map[string]string{domain.FieldRequired: "必须填写", domain.FieldInvalid: "格式不正确", domain.FieldUnknown: "不存在或不在您的范围内",
		domain.FieldTaken: "已被占用", domain.FieldRange: "超出允许的范围"}
)

// fieldMessages is a validation error in Chinese: each field and what is
// wrong with it.
func fieldMessages(de *domain.Error) string {
	if len(de.Fields) == 0 {
		return "提交的内容不符合要求，请检查后重试。"
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, cmp.Or(fieldNames[f.Field], f.Field)+"："+cmp.Or(fieldCodes[f.Code], "不符合要求"))
	}
	return strings.Join(out, "；") + "。"
}

// flash keeps a message for the next page.
func (c *Console) flash(rq *request, msg string) {
	c.sess.update(rq.sess, func(s *session) { s.flash = msg })
}

// localNext is a redirect target on this site only.
func localNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
