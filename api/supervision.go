package api

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// Review roles, approvals and leave (the supervision loop).
var (
	reviewers   = []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin, domain.RoleTeamLeader}
	leaveAskers = []domain.Role{domain.RoleCadre, domain.RoleTeamLeader}
)

type reviewEventJSON struct {
	State   string    `json:"state"`
	By      string    `json:"by"`
	ByName  string    `json:"byName,omitempty"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
}

// reviewJSON is where a record stands in review, as every record shows it.
type reviewJSON struct {
	State   string            `json:"state"`
	Comment string            `json:"comment,omitempty"`
	History []reviewEventJSON `json:"history"`
}

func toReviewJSON(r domain.Record) reviewJSON {
	out := reviewJSON{State: r.ReviewState(), Comment: r.ReviewComment(), History: make([]reviewEventJSON, len(r.ReviewHistory))}
	for i, e := range r.ReviewHistory {
		out.History[i] = reviewEventJSON(e)
	}
	return out
}

type reviewReq struct {
	Items []struct {
		ID       string `json:"id"`
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
		Version  int    `json:"version"`
	} `json:"items"`
}

type reviewResultJSON struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Version int         `json:"version,omitempty"`
	Review  *reviewJSON `json:"review,omitempty"`
	Problem *Problem    `json:"problem,omitempty"`
}

// Review result statuses beside the sync ones: reviewed, unchanged (it
// stood so already: a resend), and forbidden.
const (
	reviewDone      = "reviewed"
	reviewUnchanged = "unchanged"
	reviewForbidden = "forbidden"
)

// reviews applies review decisions, each on its own, answering per item
// as /sync does.
func (s *server) reviews(c *fiber.Ctx) error {
	var req reviewReq
	if err := decode(c, &req); err != nil {
		return err
	}
	items := make([]domain.ReviewItem, len(req.Items))
	for i, it := range req.Items {
		items[i] = domain.ReviewItem{ID: it.ID, Decision: it.Decision, Comment: it.Comment, Version: it.Version}
	}
	res, err := s.svc.Reviews.Review(ctx(c), caller(c), items)
	if err != nil {
		return err
	}
	out := struct {
		Results []reviewResultJSON `json:"results"`
	}{Results: make([]reviewResultJSON, len(res))}
	for i, r := range res {
		o := reviewResultJSON{ID: items[i].ID}
		switch {
		case r.Err != nil:
			sr := s.syncFailed(c, syncResult{}, r.Err)
			o.Status, o.Problem = sr.Status, sr.Problem
			if sr.Problem.Status == fiber.StatusForbidden {
				o.Status = reviewForbidden
			}
		default:
			rv := toReviewJSON(r.Record)
			o.Status, o.Version, o.Review = reviewDone, r.Record.Version, &rv
			if r.Unchanged {
				o.Status = reviewUnchanged
			}
		}
		out.Results[i] = o
	}
	return c.JSON(out)
}

type approvalEventJSON struct {
	Action  string    `json:"action"`
	State   string    `json:"state"`
	By      string    `json:"by"`
	ByName  string    `json:"byName,omitempty"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
}

type approvalJSON struct {
	Level        string              `json:"level"`
	ScopeID      string              `json:"scopeId"`
	TownID       string              `json:"townId"`
	Period       string              `json:"period"`
	State        string              `json:"state"`
	Locked       bool                `json:"locked"`
	LockedBy     string              `json:"lockedBy,omitempty"`
	LockedByName string              `json:"lockedByName,omitempty"`
	LockedAt     *time.Time          `json:"lockedAt,omitempty"`
	Version      int                 `json:"version"`
	History      []approvalEventJSON `json:"history"`
}

func toApprovalJSON(a domain.Approval) approvalJSON {
	out := approvalJSON{Level: a.Level, ScopeID: a.ScopeID, TownID: a.TownID, Period: a.Period, State: a.State,
		Locked: a.State == domain.ApprovalApproved, LockedBy: a.LockedBy, LockedByName: a.LockedByName, LockedAt: a.LockedAt,
		Version: a.Version, History: make([]approvalEventJSON, len(a.History))}
	for i, e := range a.History {
		out.History[i] = approvalEventJSON(e)
	}
	return out
}

// approvalPath reads :level/:scopeId/:period.
func approvalPath(c *fiber.Ctx) (level, scopeID, period string, err error) {
	level, scopeID, period = c.Params("level"), c.Params("scopeId"), c.Params("period")
	if level != domain.ApprovalVillage && level != domain.ApprovalTown || !domain.ValidID(scopeID) {
		return "", "", "", domain.NotFound("approval")
	}
	return level, scopeID, period, nil
}

func (s *server) getApproval(c *fiber.Ctx) error {
	level, id, period, err := approvalPath(c)
	if err != nil {
		return err
	}
	a, err := s.svc.Approvals.Get(ctx(c), caller(c), level, id, period)
	if err != nil {
		return err
	}
	etag(c, a.Version)
	return c.JSON(toApprovalJSON(a))
}

func (s *server) actOnApproval(c *fiber.Ctx) error {
	level, id, period, err := approvalPath(c)
	if err != nil {
		return err
	}
	var req struct {
		Comment string `json:"comment"`
		Version *int   `json:"version"`
	}
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	a, _, err := s.svc.Approvals.Act(ctx(c), caller(c), level, id, period, c.Params("action"), req.Comment, v)
	if err != nil {
		return err
	}
	etag(c, a.Version)
	return c.JSON(toApprovalJSON(a))
}

func (s *server) listApprovals(c *fiber.Ctx) error {
	var v domain.Validator
	f := domain.ApprovalFilter{Level: c.Query("level"), Period: c.Query("period"), State: c.Query("state")}
	if f.Level != "" && f.Level != domain.ApprovalVillage && f.Level != domain.ApprovalTown {
		v.Add("level", domain.FieldInvalid, "level must be village or town")
	}
	for _, name := range []string{"villageId", "townId"} {
		if id := c.Query(name); id != "" && !domain.ValidID(id) {
			v.Add(name, domain.FieldInvalid, name+" must be an id")
		}
	}
	if err := queryErr(v); err != nil {
		return err
	}
	f.ScopeID = c.Query("villageId")
	if t := c.Query("townId"); t != "" {
		f.TownIDs = []string{t}
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Approvals.List(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toApprovalJSON))
}

func (s *server) finalizeAssessment(c *fiber.Ctx) error {
	v, err := version(c, nil)
	if err != nil {
		return err
	}
	a, _, err := s.svc.Assessments.Finalize(ctx(c), caller(c), c.Params("villageId"), c.Params("period"), v)
	if err != nil {
		return err
	}
	etag(c, a.Version)
	return c.JSON(toAssessmentJSON(a))
}

type leaveJSON struct {
	ID         string     `json:"id"`
	CadreID    string     `json:"cadreId"`
	CadreName  string     `json:"cadreName"`
	TownIDs    []string   `json:"townIds"`
	VillageIDs []string   `json:"villageIds"`
	Kind       string     `json:"kind"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	Reason     string     `json:"reason"`
	State      string     `json:"state"`
	Comment    string     `json:"comment,omitempty"`
	DecidedBy  string     `json:"decidedBy,omitempty"`
	DecidedAt  *time.Time `json:"decidedAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	Version    int        `json:"version"`
}

func toLeaveJSON(l domain.Leave) leaveJSON {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return leaveJSON{ID: l.ID, CadreID: l.CadreID, CadreName: l.CadreName, TownIDs: nz(l.TownIDs), VillageIDs: nz(l.VillageIDs),
		Kind: l.Kind, From: l.From, To: l.To, Reason: l.Reason, State: l.State, Comment: l.Comment, DecidedBy: l.DecidedBy,
		DecidedAt: l.DecidedAt, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Version: l.Version}
}

func (s *server) requestLeave(c *fiber.Ctx) error {
	var req struct {
		ID     string `json:"id"`
		Kind   string `json:"kind"`
		From   string `json:"from"`
		To     string `json:"to"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	l, dup, err := s.svc.Leaves.Request(ctx(c), caller(c), domain.LeaveInput{ID: req.ID, Kind: req.Kind, From: req.From, To: req.To, Reason: req.Reason})
	if err != nil {
		return err
	}
	etag(c, l.Version)
	if dup {
		return c.JSON(toLeaveJSON(l))
	}
	return c.Status(fiber.StatusCreated).JSON(toLeaveJSON(l))
}

func (s *server) listLeaves(c *fiber.Ctx) error {
	var v domain.Validator
	f := domain.LeaveFilter{CadreID: c.Query("cadreId"), State: c.Query("state"), From: c.Query("from"), To: c.Query("to")}
	if f.CadreID != "" && !domain.ValidID(f.CadreID) {
		v.Add("cadreId", domain.FieldInvalid, "cadreId must be an account's id")
	}
	for name, d := range map[string]string{"from": f.From, "to": f.To} {
		if d != "" && !domain.ValidDate(d) {
			v.Add(name, domain.FieldInvalid, fmt.Sprintf("%s must be a date, YYYY-MM-DD", name))
		}
	}
	if err := queryErr(v); err != nil {
		return err
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Leaves.List(ctx(c), caller(c), f, p)
	if err != nil {
		return asQueryErr(err)
	}
	return c.JSON(toList(l, toLeaveJSON))
}

func (s *server) getLeave(c *fiber.Ctx) error {
	id, err := pathID(c, "leave")
	if err != nil {
		return err
	}
	l, err := s.svc.Leaves.Get(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	etag(c, l.Version)
	return c.JSON(toLeaveJSON(l))
}

func (s *server) decideLeave(c *fiber.Ctx) error {
	id, err := pathID(c, "leave")
	if err != nil {
		return err
	}
	var req struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
		Version  *int   `json:"version"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	l, _, err := s.svc.Leaves.Decide(ctx(c), caller(c), id, req.Decision, req.Comment, v)
	if err != nil {
		return err
	}
	etag(c, l.Version)
	return c.JSON(toLeaveJSON(l))
}

func (s *server) cancelLeave(c *fiber.Ctx) error {
	id, err := pathID(c, "leave")
	if err != nil {
		return err
	}
	v, err := version(c, nil)
	if err != nil {
		return err
	}
	l, _, err := s.svc.Leaves.Cancel(ctx(c), caller(c), id, v)
	if err != nil {
		return err
	}
	etag(c, l.Version)
	return c.JSON(toLeaveJSON(l))
}
