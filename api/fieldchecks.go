package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type fieldCheckJSON struct {
	ID        string    `json:"id"`
	VillageID string    `json:"villageId"`
	TownID    string    `json:"townId"`
	Date      string    `json:"date"`
	Quarter   string    `json:"quarter"`
	Checkers  []string  `json:"checkers"`
	Findings  string    `json:"findings"`
	Issues    []string  `json:"issues"`
	Rating    string    `json:"rating"`
	PhotoIDs  []string  `json:"photoIds"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

func toFieldCheckJSON(fc domain.FieldCheck) fieldCheckJSON {
	out := fieldCheckJSON(fc)
	if out.Issues == nil {
		out.Issues = []string{}
	}
	if out.PhotoIDs == nil {
		out.PhotoIDs = []string{}
	}
	return out
}

func (s *server) createFieldCheck(c *fiber.Ctx) error {
	var req struct {
		ID        string   `json:"id"`
		VillageID string   `json:"villageId"`
		Date      string   `json:"date"`
		Checkers  []string `json:"checkers"`
		Findings  string   `json:"findings"`
		Issues    []string `json:"issues"`
		Rating    string   `json:"rating"`
		PhotoIDs  []string `json:"photoIds"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	fc, dup, err := s.svc.FieldChecks.Create(ctx(c), caller(c), domain.FieldCheck{ID: req.ID, VillageID: req.VillageID, Date: req.Date,
		Checkers: req.Checkers, Findings: req.Findings, Issues: req.Issues, Rating: req.Rating, PhotoIDs: req.PhotoIDs})
	if err != nil {
		return err
	}
	if dup {
		return c.JSON(toFieldCheckJSON(fc))
	}
	return c.Status(fiber.StatusCreated).JSON(toFieldCheckJSON(fc))
}

func (s *server) listFieldChecks(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	var v domain.Validator
	f := domain.FieldCheckFilter{VillageID: c.Query("villageId"), TownID: c.Query("townId"), Quarter: c.Query("quarter")}
	for _, q := range []struct{ name, val string }{{"villageId", f.VillageID}, {"townId", f.TownID}} {
		if q.val != "" && !domain.ValidID(q.val) {
			v.Add(q.name, domain.FieldInvalid, q.name+" must be an id")
		}
	}
	if err := queryErr(v); err != nil {
		return err
	}
	l, err := s.svc.FieldChecks.List(ctx(c), caller(c), f, p)
	if err != nil {
		return asQueryErr(err)
	}
	return c.JSON(toList(l, toFieldCheckJSON))
}

type targetProgressJSON struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Domain  string `json:"domain"`
	Task    string `json:"task"`
	Kind    string `json:"kind"`
	Due     string `json:"due,omitempty"`
	Percent int    `json:"percent"`
	Status  string `json:"status"`
	Overdue bool   `json:"overdue"`
}

// monthly answers a village's monthly progress summary.
func (s *server) monthly(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	basis, err := statsBasis(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Stats.Monthly(ctx(c), caller(c), vid, c.Query("month"), basis)
	if err != nil {
		return asQueryErr(err)
	}
	out := struct {
		VillageID        string               `json:"villageId"`
		Basis            string               `json:"basis"`
		Month            string               `json:"month"`
		From             string               `json:"from"`
		To               string               `json:"to"`
		Metrics          map[string]any       `json:"metrics"`
		Targets          []targetProgressJSON `json:"targets"`
		ProblemsResolved []problemJSON        `json:"problemsResolved"`
	}{VillageID: m.Village.ID, Basis: basis, Month: m.Period.ID, From: m.Period.From, To: m.Period.To, Metrics: m.Metrics,
		Targets: []targetProgressJSON{}, ProblemsResolved: []problemJSON{}}
	for _, t := range m.Targets {
		out.Targets = append(out.Targets, targetProgressJSON{ID: t.Target.ID, Title: t.Target.Title, Domain: t.Target.Domain, Task: t.Target.Task,
			Kind: t.Target.Kind, Due: t.Target.Due, Percent: t.Percent, Status: t.Status, Overdue: t.Overdue})
	}
	for _, p := range m.ProblemsResolved {
		out.ProblemsResolved = append(out.ProblemsResolved, toProblemJSON(p))
	}
	return c.JSON(out)
}
