package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// version reads the version an edit is based on: If-Match ("3" or W/"3")
// or the body's version field. Zero means the client did not say.
func version(c *fiber.Ctx, body *int) (int, error) {
	if h := c.Get(fiber.HeaderIfMatch); h != "" {
		n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
		if err != nil || n < 1 {
			return 0, newError(domain.KindBadRequest, "bad_request", "If-Match must be the ETag this API returned, e.g. \"3\"")
		}
		return n, nil
	}
	if body != nil {
		return *body, nil
	}
	return 0, nil
}

func etag(c *fiber.Ctx, v int) { c.Set(fiber.HeaderETag, `"`+strconv.Itoa(v)+`"`) }

type problemJSON struct {
	ID          string    `json:"id"`
	VillageID   string    `json:"villageId"`
	TownID      string    `json:"townId"`
	CampaignID  string    `json:"campaignId,omitempty"`
	Aspect      string    `json:"aspect"`
	Description string    `json:"description"`
	Source      string    `json:"source"`
	Status      string    `json:"status"`
	Resolution  string    `json:"resolution,omitempty"`
	ResolvedAt  string    `json:"resolvedAt,omitempty"`
	PhotoIDs    []string  `json:"photoIds,omitempty"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int       `json:"version"`
}

func toProblemJSON(p domain.Problem) problemJSON { return problemJSON(p) }

type problemReq struct {
	CampaignID  *string   `json:"campaignId"`
	Aspect      *string   `json:"aspect"`
	Description *string   `json:"description"`
	Source      *string   `json:"source"`
	Status      *string   `json:"status"`
	Resolution  *string   `json:"resolution"`
	ResolvedAt  *string   `json:"resolvedAt"`
	PhotoIDs    *[]string `json:"photoIds"`
	Version     *int      `json:"version"`
}

func (r problemReq) input() domain.ProblemInput {
	return domain.ProblemInput{CampaignID: r.CampaignID, Aspect: r.Aspect, Description: r.Description, Source: r.Source,
		Status: r.Status, Resolution: r.Resolution, ResolvedAt: r.ResolvedAt, PhotoIDs: r.PhotoIDs}
}

func (s *server) createProblem(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	var req problemReq
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := s.svc.Ledger.CreateProblem(ctx(c), caller(c), vid, req.input())
	if err != nil {
		return err
	}
	etag(c, p.Version)
	return c.Status(fiber.StatusCreated).JSON(toProblemJSON(p))
}

func (s *server) listProblems(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Ledger.ListProblems(ctx(c), caller(c), domain.ProblemFilter{VillageID: vid, Status: c.Query("status"), Aspect: c.Query("aspect")}, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toProblemJSON))
}

func (s *server) getProblem(c *fiber.Ctx) error {
	id, err := pathID(c, "problem")
	if err != nil {
		return err
	}
	p, err := s.svc.Ledger.GetProblem(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	etag(c, p.Version)
	return c.JSON(toProblemJSON(p))
}

func (s *server) patchProblem(c *fiber.Ctx) error {
	id, err := pathID(c, "problem")
	if err != nil {
		return err
	}
	var req problemReq
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	p, err := s.svc.Ledger.UpdateProblem(ctx(c), caller(c), id, v, req.input())
	if err != nil {
		return err
	}
	etag(c, p.Version)
	return c.JSON(toProblemJSON(p))
}

type targetJSON struct {
	ID         string    `json:"id"`
	VillageID  string    `json:"villageId"`
	TownID     string    `json:"townId"`
	CampaignID string    `json:"campaignId,omitempty"`
	Domain     string    `json:"domain"`
	Task       string    `json:"task"`
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
	Year       int       `json:"year"`
	Due        string    `json:"due,omitempty"`
	Percent    int       `json:"percent"`
	ProgressAt string    `json:"progressAt,omitempty"`
	Status     string    `json:"status"`
	Overdue    bool      `json:"overdue"`
	CreatedBy  string    `json:"createdBy"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Version    int       `json:"version"`
}

func (s *server) toTargetJSON(t domain.Target) targetJSON {
	return targetJSON{ID: t.ID, VillageID: t.VillageID, TownID: t.TownID, CampaignID: t.CampaignID, Domain: t.Domain,
		Task: t.Task, Kind: t.Kind, Title: t.Title, Year: t.Year, Due: t.Due, Percent: t.Percent, ProgressAt: t.ProgressAt,
		Status: t.Status(), Overdue: t.Overdue(domain.Today(s.svc.Now(), s.cfg.Location)), CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

type targetReq struct {
	CampaignID *string `json:"campaignId"`
	Domain     *string `json:"domain"`
	Task       *string `json:"task"`
	Kind       *string `json:"kind"`
	Title      *string `json:"title"`
	Year       *int    `json:"year"`
	Due        *string `json:"due"`
	Version    *int    `json:"version"`
}

func (r targetReq) input() domain.TargetInput {
	return domain.TargetInput{CampaignID: r.CampaignID, Domain: r.Domain, Task: r.Task, Kind: r.Kind, Title: r.Title, Year: r.Year, Due: r.Due}
}

func (s *server) createTarget(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	var req targetReq
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.svc.Ledger.CreateTarget(ctx(c), caller(c), vid, req.input())
	if err != nil {
		return err
	}
	etag(c, t.Version)
	return c.Status(fiber.StatusCreated).JSON(s.toTargetJSON(t))
}

func (s *server) listTargets(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	f := domain.TargetFilter{VillageID: vid, Domain: c.Query("domain"), Kind: c.Query("kind")}
	if y := c.Query("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil {
			var v domain.Validator
			v.Add("year", domain.FieldInvalid, "year must be a number such as 2026")
			return queryErr(v)
		}
		f.Year = n
	}
	l, err := s.svc.Ledger.ListTargets(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, s.toTargetJSON))
}

func (s *server) getTarget(c *fiber.Ctx) error {
	id, err := pathID(c, "target")
	if err != nil {
		return err
	}
	t, err := s.svc.Ledger.GetTarget(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	etag(c, t.Version)
	return c.JSON(s.toTargetJSON(t))
}

func (s *server) patchTarget(c *fiber.Ctx) error {
	id, err := pathID(c, "target")
	if err != nil {
		return err
	}
	var req targetReq
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	t, err := s.svc.Ledger.UpdateTarget(ctx(c), caller(c), id, v, req.input())
	if err != nil {
		return err
	}
	etag(c, t.Version)
	return c.JSON(s.toTargetJSON(t))
}

type progressJSON struct {
	ID        string    `json:"id"`
	TargetID  string    `json:"targetId"`
	Date      string    `json:"date"`
	Percent   int       `json:"percent"`
	Note      string    `json:"note,omitempty"`
	By        string    `json:"by"`
	CreatedAt time.Time `json:"createdAt"`
}

func toProgressJSON(p domain.Progress) progressJSON {
	return progressJSON{ID: p.ID, TargetID: p.TargetID, Date: p.Date, Percent: p.Percent, Note: p.Note, By: p.By, CreatedAt: p.CreatedAt}
}

type progressReq struct {
	Date    string `json:"date"`
	Percent *int   `json:"percent"`
	Note    string `json:"note"`
}

type progressResultJSON struct {
	Progress progressJSON `json:"progress"`
	Target   targetJSON   `json:"target"`
}

func (s *server) addProgress(c *fiber.Ctx) error {
	id, err := pathID(c, "target")
	if err != nil {
		return err
	}
	var req progressReq
	if err := decode(c, &req); err != nil {
		return err
	}
	p, t, err := s.svc.Ledger.AddProgress(ctx(c), caller(c), id, domain.ProgressInput(req))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(progressResultJSON{Progress: toProgressJSON(p), Target: s.toTargetJSON(t)})
}

func (s *server) listProgress(c *fiber.Ctx) error {
	id, err := pathID(c, "target")
	if err != nil {
		return err
	}
	ps, err := s.svc.Ledger.ProgressOf(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toList(domain.List[domain.Progress]{Items: ps}, toProgressJSON))
}

type ledgerJSON struct {
	Village    villageJSON     `json:"village"`
	Selections []selectionJSON `json:"selections"`
	Problems   struct {
		Total      int `json:"total"`
		Open       int `json:"open"`
		InProgress int `json:"inProgress"`
		Resolved   int `json:"resolved"`
	} `json:"problems"`
	Targets struct {
		Total      int `json:"total"`
		NotStarted int `json:"notStarted"`
		InProgress int `json:"inProgress"`
		Done       int `json:"done"`
		Overdue    int `json:"overdue"`
	} `json:"targets"`
	Teams []teamJSON `json:"teams"`
}

func (s *server) ledger(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	l, err := s.svc.Ledger.Ledger(ctx(c), caller(c), vid)
	if err != nil {
		return err
	}
	out := ledgerJSON{Village: toVillageJSON(l.Village), Selections: []selectionJSON{}, Teams: []teamJSON{}}
	for _, sel := range l.Selections {
		out.Selections = append(out.Selections, toSelectionJSON(sel))
	}
	out.Problems.Total, out.Problems.Open, out.Problems.InProgress, out.Problems.Resolved = l.Problems.Total, l.Problems.Open, l.Problems.InProgress, l.Problems.Resolved
	out.Targets.Total, out.Targets.NotStarted, out.Targets.InProgress, out.Targets.Done, out.Targets.Overdue = l.Targets.Total, l.Targets.NotStarted, l.Targets.InProgress, l.Targets.Done, l.Targets.Overdue
	for _, t := range l.Teams {
		out.Teams = append(out.Teams, toTeamJSON(t))
	}
	return c.JSON(out)
}
