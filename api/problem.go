package api

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"zhucun/domain"
)

// Problem is an RFC 9457 problem details body, with zhucun's stable machine
// code and the request id as extension members.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code"`
	RequestID string              `json:"requestId"`
	Instance  string              `json:"instance,omitempty"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	Rows      []domain.RowError   `json:"rows,omitempty"`
	// Lock is the locked period a write was refused for (period_locked).
	Lock *lockJSON `json:"lock,omitempty"`
	// WeChat sign-in of an unbound account.
	BindTicket      string `json:"bind_ticket,omitempty"`
	TicketExpiresIn int    `json:"ticket_expires_in,omitempty"`
	// FactorTicket is the ticket a password sign-in that wants a code
	// gives, to send with the code (second_factor_required).
	FactorTicket string `json:"factor_ticket,omitempty"`
	// Reason says why a password change is due: first or expired.
	Reason string `json:"reason,omitempty"`
}

// lockJSON says which approved period holds a refused write, who locked
// it and when, and how to ask for an exception.
type lockJSON struct {
	Level        string    `json:"level"`
	ScopeID      string    `json:"scopeId"`
	TownID       string    `json:"townId"`
	Period       string    `json:"period"`
	LockedBy     string    `json:"lockedBy"`
	LockedByName string    `json:"lockedByName"`
	LockedAt     time.Time `json:"lockedAt"`
	// Exception is how to ask for one: an admin unlocks with a reason.
	Exception string `json:"exception"`
	Unlock    string `json:"unlock"`
}

func toLockJSON(l domain.PeriodLock) *lockJSON {
	return &lockJSON{Level: l.Level, ScopeID: l.ScopeID, TownID: l.TownID, Period: l.Period, LockedBy: l.LockedBy,
		LockedByName: l.LockedByName, LockedAt: l.LockedAt,
		Exception: "请联系区委组织部（管理员）说明理由申请解锁；解锁后修改，重新审核通过后再次锁定",
		Unlock:    "POST /api/v1/approvals/" + l.Level + "/" + l.ScopeID + "/" + l.Period + "/unlock"}
}

func (l *lockJSON) zhDetail() string {
	what := "本村 " + l.Period + " 月份"
	if l.Level == domain.ApprovalTown {
		what = "本镇街 " + l.Period + " 半年"
	}
	return what + "的数据已由" + l.LockedByName + "于" + l.LockedAt.In(zhZone).Format("2006-01-02 15:04") + "审核锁定，不能新增、修改或删除；" + l.Exception
}

// zhZone is the campaign's zone for times in Chinese messages.
var zhZone = time.FixedZone("CST", 8*3600)

// problemTypeBase prefixes each code to make the problem's type URI.
const problemTypeBase = "https://zhucun.example/problems/"

// kindStatus is the one table from error kind to HTTP status.
var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:      fiber.StatusUnprocessableEntity,
	domain.KindBadRequest:   fiber.StatusBadRequest,
	domain.KindUnauthorized: fiber.StatusUnauthorized,
	domain.KindForbidden:    fiber.StatusForbidden,
	domain.KindNotFound:     fiber.StatusNotFound,
	domain.KindConflict:     fiber.StatusConflict,
	domain.KindPrecondition: fiber.StatusPreconditionFailed,
	domain.KindRateLimited:  fiber.StatusTooManyRequests,
	domain.KindUnavailable:  fiber.StatusServiceUnavailable,
}

// fiberCodes names the errors Fiber itself raises.
var fiberCodes = map[int]string{
	fiber.StatusBadRequest:            "bad_request",
	fiber.StatusNotFound:              "route_not_found",
	fiber.StatusMethodNotAllowed:      "method_not_allowed",
	fiber.StatusRequestEntityTooLarge: "body_too_large",
	fiber.StatusUnsupportedMediaType:  "unsupported_media_type",
	fiber.StatusRequestTimeout:        "request_timeout",
	fiber.StatusTooManyRequests:       "too_many_requests",
}

// errorHandler is the app's one place that turns errors into responses.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	p := s.problem(c, err)
	if p.Status == fiber.StatusForbidden {
		s.auditDenied(c, "")
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentLanguage, lang(wantsEnglish(c)))
	b, merr := c.App().Config().JSONEncoder(p)
	if merr != nil {
		slog.Error("encode problem", "err", merr)
		return c.SendStatus(fiber.StatusInternalServerError)
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(b)
}

// auditDenied records a request (or, with item, one item of a batch) the
// caller's role may not make: every denial is in the audit trail.
func (s *server) auditDenied(c *fiber.Ctx, item string) {
	cl := caller(c)
	what := c.Method() + " " + routeLabel(c)
	if item != "" {
		what += " " + item
	}
	if err := s.svc.Audit.Refusal(ctx(c), cl, "route", what, "deny", domain.OutcomeDenied, cl.TownID); err != nil {
		s.log.Error("audit a denial", "err", err, "requestId", requestID(c))
	}
}

// problem turns an error into its problem details (and sets the headers
// that go with it, such as Retry-After).
func (s *server) problem(c *fiber.Ctx, err error) Problem {
	p := Problem{RequestID: requestID(c), Instance: c.Path()}
	var (
		derr *domain.Error
		ierr *domain.ImportError
		ferr *fiber.Error
		en   = wantsEnglish(c)
	)
	switch {
	case errors.As(err, &ierr):
		p.Status, p.Code, p.Rows = fiber.StatusUnprocessableEntity, "import_invalid", ierr.Rows
		p.Detail = message(en, p.Code, ierr.Error())
		for i := range p.Rows {
			p.Rows[i].Message = fieldMessage(en, p.Rows[i].Field, p.Rows[i].Code, p.Rows[i].Message)
		}
	case errors.As(err, &derr):
		p.Status, p.Code = kindStatus[derr.Kind], derr.Code
		if p.Status == 0 {
			p.Status = fiber.StatusInternalServerError
		}
		p.Detail = message(en, derr.Code, derr.Message)
		p.Errors = localizeFields(en, derr.Fields)
		if derr.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(derr.RetryAfter.Seconds()+0.999)))
		}
		if derr.Lock != nil {
			p.Lock = toLockJSON(*derr.Lock)
			if !en {
				p.Detail = p.Lock.zhDetail()
			}
		}
		if derr.Code == "wechat_unbound" {
			if t, terr := s.bindTicket(derr.Data["openid"]); terr == nil {
				p.BindTicket, p.TicketExpiresIn = t, int(s.cfg.TicketTTL.Seconds())
			}
		}
		if t := derr.Data["ticket"]; derr.Code == "second_factor_required" && t != "" {
			p.FactorTicket, p.TicketExpiresIn = t, int(factorTTL.Seconds())
		}
		if derr.Code == "password_change_required" {
			p.Reason = derr.Data["reason"]
		}
		if p.Status == fiber.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="zhucun"`)
		}
	case errors.Is(err, domain.ErrNotFound):
		p.Status, p.Code = fiber.StatusNotFound, "not_found"
		p.Detail = message(en, p.Code, "not found")
	case errors.Is(err, domain.ErrDuplicate):
		p.Status, p.Code = fiber.StatusConflict, "already_exists"
		p.Detail = message(en, p.Code, "already exists")
	case errors.Is(err, domain.ErrUnavailable):
		p.Status, p.Code = fiber.StatusServiceUnavailable, "unavailable"
		p.Detail = message(en, p.Code, "a backing service did not answer; try again")
		c.Set(fiber.HeaderRetryAfter, "2")
		s.log.Error("unavailable", "err", err, "requestId", p.RequestID)
	case errors.As(err, &ferr):
		p.Status = ferr.Code
		p.Code = fiberCodes[ferr.Code]
		if p.Code == "" {
			p.Code = strings.ReplaceAll(strings.ToLower(utils.StatusMessage(ferr.Code)), " ", "_")
		}
		p.Detail = message(en, p.Code, ferr.Message)
		if ferr.Code >= 500 {
			s.log.Error("server error", "err", err, "requestId", p.RequestID)
			p.Detail = message(en, "internal_error", "internal error")
		}
	default:
		p.Status, p.Code = fiber.StatusInternalServerError, "internal_error"
		p.Detail = message(en, p.Code, "internal error")
		s.log.Error("internal error", "err", err, "requestId", p.RequestID, "path", c.Path())
	}
	p.Type = problemTypeBase + p.Code
	p.Title = utils.StatusMessage(p.Status)
	if p.Status >= 500 {
		// Nothing internal leaks: no error text, no rows, no fields.
		p.Errors, p.Rows = nil, nil
	}
	return p
}

// wantsEnglish reports whether Accept-Language ranks English above
// Chinese. Chinese is the default.
func wantsEnglish(c *fiber.Ctx) bool {
	return preferEnglish(c.Get(fiber.HeaderAcceptLanguage))
}

func preferEnglish(header string) bool {
	bestEN, bestZH := -1.0, -1.0
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		q -= float64(i) * 1e-6 // earlier wins a tie
		tag = strings.ToLower(strings.TrimSpace(tag))
		switch {
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			bestEN = max(bestEN, q)
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			bestZH = max(bestZH, q)
		}
	}
	return bestEN > 0 && bestEN > bestZH
}

func lang(en bool) string {
	if en {
		return "en"
	}
	return "zh-CN"
}

// newError makes a coded domain error for conditions the HTTP layer finds.
func newError(kind domain.Kind, code, msg string, fields ...domain.FieldError) error {
	return &domain.Error{Kind: kind, Code: code, Message: msg, Fields: fields}
}
