package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type userJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Phone      string   `json:"phone"`
	Role       string   `json:"role"`
	TownID     string   `json:"townId,omitempty"`
	VillageIDs []string `json:"villageIds"`
	Disabled   bool     `json:"disabled"`
	UnitID     string   `json:"unitId,omitempty"`
	BirthYear  int      `json:"birthYear,omitempty"`
	AgeTier    string   `json:"ageTier,omitempty"`
	// SecondFactor says whether a TOTP factor is enrolled.
	SecondFactor bool      `json:"secondFactor"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// meJSON is the caller's own account, with what it must do before anything else.
type meJSON struct {
	userJSON
	// PasswordChange is "first" or "expired" when a new password is due.
	PasswordChange string `json:"passwordChange,omitempty"`
	// SecondFactorRequired says the role signs in with a second factor.
	SecondFactorRequired bool `json:"secondFactorRequired"`
}

func (s *server) meFor(u domain.User, cl domain.Caller) meJSON {
	cl.MustChangePassword, cl.PasswordChangedAt = u.Security.MustChangePassword, u.Security.PasswordChangedAt
	if cl.PasswordChangedAt.IsZero() {
		cl.PasswordChangedAt = u.CreatedAt
	}
	return meJSON{userJSON: toUserJSON(u), PasswordChange: s.svc.Auth.Policy.PasswordDue(cl, s.svc.Now()),
		SecondFactorRequired: s.svc.Auth.RoleNeedsSecondFactor(u.Role)}
}

// userFor is an account as a caller sees it: the phone number whole only
// when whole says so (domain.PhoneWhole for one account; lists mask it).
func userFor(u domain.User, whole bool) userJSON {
	out := toUserJSON(u)
	if !whole {
		out.Phone = domain.MaskPhone(u.Phone)
	}
	return out
}

func toUserJSON(u domain.User) userJSON {
	ids := u.VillageIDs
	if ids == nil {
		ids = []string{}
	}
	return userJSON{ID: u.ID, Name: u.Name, Phone: u.Phone, Role: string(u.Role), TownID: u.TownID,
		VillageIDs: ids, Disabled: u.Disabled, UnitID: u.UnitID, BirthYear: u.BirthYear, SecondFactor: u.Security.TOTPSecret != "",
		AgeTier: string(domain.TierOf(u.AgeTier, u.BirthYear, time.Now().Year())), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type userReq struct {
	Name       *string   `json:"name"`
	Phone      *string   `json:"phone"`
	Password   *string   `json:"password"`
	Role       *string   `json:"role"`
	TownID     *string   `json:"townId"`
	VillageIDs *[]string `json:"villageIds"`
	Disabled   *bool     `json:"disabled"`
	UnitID     *string   `json:"unitId"`
	BirthYear  *int      `json:"birthYear"`
	AgeTier    *string   `json:"ageTier"`
}

func (s *server) createUser(c *fiber.Ctx) error {
	var req userReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Disabled != nil {
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: "disabled", Code: "unknown_field", Message: "disabled is set with PATCH"})
	}
	in := domain.UserInput{Name: deref(req.Name), Phone: deref(req.Phone), Password: deref(req.Password),
		Role: domain.Role(deref(req.Role)), TownID: deref(req.TownID)}
	if req.VillageIDs != nil {
		in.VillageIDs = *req.VillageIDs
	}
	in.UnitID, in.AgeTier = deref(req.UnitID), domain.AgeTier(deref(req.AgeTier))
	if req.BirthYear != nil {
		in.BirthYear = *req.BirthYear
	}
	u, err := s.svc.Users.Create(ctx(c), caller(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(userFor(u, domain.PhoneWhole(caller(c), u)))
}

func (s *server) listUsers(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	var v domain.Validator
	f := domain.UserFilter{TownID: c.Query("townId"), VillageID: c.Query("villageId"), NameContains: c.Query("q")}
	if r := c.Query("role"); r != "" {
		f.Role = domain.Role(r)
		if !f.Role.Valid() {
			v.Add("role", domain.FieldInvalid, "role must be one of admin, leader, town_admin, team_leader, cadre")
		}
	}
	if err := queryErr(v); err != nil {
		return err
	}
	l, err := s.svc.Users.List(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	cl := caller(c)
	// Reading accounts in bulk is a read of personal data: audited.
	if err := s.svc.Audit.Record(ctx(c), cl, "user", "", "list", cl.TownID); err != nil {
		return err
	}
	return c.JSON(toList(l, func(u domain.User) userJSON { return userFor(u, u.ID == cl.UserID) }))
}

func (s *server) getUser(c *fiber.Ctx) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	u, err := s.svc.Users.Get(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(userFor(u, domain.PhoneWhole(caller(c), u)))
}

func (s *server) patchUser(c *fiber.Ctx) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	var req userReq
	if err := decode(c, &req); err != nil {
		return err
	}
	p := domain.UserPatch{Name: req.Name, Phone: req.Phone, Password: req.Password, TownID: req.TownID,
		VillageIDs: req.VillageIDs, Disabled: req.Disabled, UnitID: req.UnitID, BirthYear: req.BirthYear}
	if req.AgeTier != nil {
		t := domain.AgeTier(*req.AgeTier)
		p.AgeTier = &t
	}
	if req.Role != nil {
		r := domain.Role(*req.Role)
		p.Role = &r
	}
	u, err := s.svc.Users.Update(ctx(c), caller(c), id, p)
	if err != nil {
		return err
	}
	return c.JSON(userFor(u, domain.PhoneWhole(caller(c), u)))
}

func (s *server) me(c *fiber.Ctx) error {
	cl := caller(c)
	u, err := s.svc.Users.Get(ctx(c), cl, cl.UserID)
	if err != nil {
		return err
	}
	return c.JSON(s.meFor(u, cl))
}

type auditJSON struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	UserID    string    `json:"userId"`
	Role      string    `json:"role,omitempty"`
	Entity    string    `json:"entity"`
	EntityID  string    `json:"entityId"`
	Action    string    `json:"action"`
	RequestID string    `json:"requestId,omitempty"`
	TownID    string    `json:"townId,omitempty"`
	Addr      string    `json:"addr,omitempty"`
	Outcome   string    `json:"outcome"`
}

func toAuditJSON(e domain.AuditEntry) auditJSON {
	return auditJSON{ID: e.ID, At: e.At, UserID: e.UserID, Role: string(e.Role), Entity: e.Entity,
		EntityID: e.EntityID, Action: e.Action, RequestID: e.RequestID, TownID: e.TownID, Addr: e.Addr, Outcome: e.Outcome}
}

func (s *server) listAudit(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Audit.List(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toAuditJSON))
}

// maxAuditExport bounds one export of the trail; narrow by from and to for more.
const maxAuditExport = 100000

// exportAudit answers the entries the filter matches as CSV, oldest first,
// with each entry's place and seal so that a kept copy can be checked.
func (s *server) exportAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	cl := caller(c)
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"时间", "账号", "角色", "对象类型", "对象", "操作", "结果", "地址", "请求", "镇街", "序号", "封印", "id"})
	page, n := domain.Page{Limit: domain.MaxPageLimit}, 0
	for {
		l, err := s.svc.Audit.List(ctx(c), cl, f, page)
		if err != nil {
			return err
		}
		for _, e := range l.Items {
			if n++; n > maxAuditExport {
				return &domain.Error{Kind: domain.KindInvalid, Code: "export_too_large",
					Message: fmt.Sprintf("more than %d entries: narrow the export with from and to", maxAuditExport)}
			}
			_ = w.Write([]string{e.At.UTC().Format(time.RFC3339Nano), e.UserID, string(e.Role), domain.SafeCell(e.Entity), domain.SafeCell(e.EntityID),
				domain.SafeCell(e.Action), e.Outcome, e.Addr, domain.SafeCell(e.RequestID), e.TownID, strconv.FormatInt(e.Seq, 10), e.Hash, e.ID})
		}
		if l.Next == "" {
			break
		}
		page.After = l.Next
	}
	w.Flush()
	if err := s.auditExport(c, "audit.csv", ""); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	return c.SendStream(&buf, buf.Len())
}

// auditFilter reads the audit trail's filter from the query.
func auditFilter(c *fiber.Ctx) (domain.AuditFilter, error) {
	var v domain.Validator
	f := domain.AuditFilter{Entity: c.Query("entity"), EntityID: c.Query("entityId"), UserID: c.Query("userId"),
		Action: c.Query("action"), Outcome: c.Query("outcome"), From: parseTime(c, &v, "from"), To: parseTime(c, &v, "to")}
	if o := f.Outcome; o != "" && o != domain.OutcomeSuccess && o != domain.OutcomeFailure && o != domain.OutcomeDenied {
		v.Add("outcome", domain.FieldInvalid, "outcome must be success, failure or denied")
	}
	return f, queryErr(v)
}
