package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type summaryJSON struct {
	Scope   string         `json:"scope"`
	Basis   string         `json:"basis"`
	ID      *string        `json:"id"`
	Period  *string        `json:"period"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Metrics map[string]any `json:"metrics"`
}

func toSummaryJSON(sum domain.Summary) summaryJSON {
	out := summaryJSON{Scope: sum.Scope.Kind, Basis: sum.Scope.Basis, From: sum.Period.From, To: sum.Period.To, Metrics: sum.Metrics}
	if sum.Scope.ID != "" {
		id := sum.Scope.ID
		out.ID = &id
	}
	if sum.Period.ID != "" {
		p := sum.Period.ID
		out.Period = &p
	}
	return out
}

// statsScope reads ?scope=&id=&basis= and checks the caller may see the scope.
func (s *server) statsScope(c *fiber.Ctx) (domain.StatsScope, error) {
	kind, id := c.Query("scope", domain.ScopeDistrict), c.Query("id")
	if kind != domain.ScopeDistrict && !domain.ValidID(id) {
		var v domain.Validator
		v.Add("id", domain.FieldInvalid, "id must be the town's or village's id")
		return domain.StatsScope{}, queryErr(v)
	}
	basis, err := statsBasis(c)
	if err != nil {
		return domain.StatsScope{}, err
	}
	sc, err := s.svc.Stats.ResolveScope(ctx(c), caller(c), kind, id)
	return sc.On(basis), err
}

// statsBasis reads ?basis=: reported (the default) or approved.
func statsBasis(c *fiber.Ctx) (string, error) {
	b, err := domain.ParseBasis(c.Query("basis"))
	if err != nil {
		return "", asQueryErr(err)
	}
	return b, nil
}

func statsPeriod(c *fiber.Ctx) (domain.Period, error) {
	p, err := domain.ParseStatsPeriod(c.Query("period"), c.Query("from"), c.Query("to"))
	if err != nil {
		return domain.Period{}, asQueryErr(err)
	}
	return p, nil
}

// asQueryErr marks a validation error as one of the query string.
func asQueryErr(err error) error {
	var v domain.Validator
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindInvalid {
		for _, f := range de.Fields {
			v.Add(f.Field, f.Code, f.Message)
		}
		return queryErr(v)
	}
	return err
}

func (s *server) statsSummary(c *fiber.Ctx) error {
	p, err := statsPeriod(c)
	if err != nil {
		return err
	}
	sc, err := s.statsScope(c)
	if err != nil {
		return err
	}
	sum, err := s.svc.Stats.Summary(ctx(c), sc, p)
	if err != nil {
		return err
	}
	return c.JSON(toSummaryJSON(sum))
}

func (s *server) statsSeries(c *fiber.Ctx) error {
	sc, err := s.statsScope(c)
	if err != nil {
		return err
	}
	pts, err := s.svc.Stats.Series(ctx(c), sc, c.Query("metric"), c.Query("interval"), c.Query("from"), c.Query("to"))
	if err != nil {
		return asQueryErr(err)
	}
	type point struct {
		Period string `json:"period"`
		From   string `json:"from"`
		To     string `json:"to"`
		Value  any    `json:"value"`
	}
	out := struct {
		Metric   string  `json:"metric"`
		Scope    string  `json:"scope"`
		ID       *string `json:"id"`
		Basis    string  `json:"basis"`
		Interval string  `json:"interval"`
		Points   []point `json:"points"`
	}{Metric: c.Query("metric"), Scope: sc.Kind, Basis: sc.Basis, Interval: c.Query("interval"), Points: make([]point, len(pts))}
	if sc.ID != "" {
		out.ID = &sc.ID
	}
	for i, p := range pts {
		out.Points[i] = point{Period: p.Period.ID, From: p.Period.From, To: p.Period.To, Value: p.Value}
	}
	return c.JSON(out)
}

type lightJSON struct {
	Light       string       `json:"light"`
	Source      string       `json:"source"`
	Period      string       `json:"period,omitempty"`
	Total       *float64     `json:"total,omitempty"`
	Provisional string       `json:"provisional"`
	Reasons     []reasonJSON `json:"reasons"`
}

type reasonJSON struct {
	Code  string `json:"code"`
	Count int64  `json:"count,omitempty"`
}

func toLightJSON(l domain.VillageLight) lightJSON {
	out := lightJSON{Light: l.Light, Source: l.Source, Period: l.Period, Provisional: l.Provisional, Reasons: []reasonJSON{}}
	if l.Source != domain.LightProvisional {
		t := l.Total
		out.Total = &t
	}
	for _, r := range l.Reasons {
		out.Reasons = append(out.Reasons, reasonJSON{Code: r.Code, Count: r.Count})
	}
	return out
}

type villageRowJSON struct {
	VillageID string         `json:"villageId"`
	Name      string         `json:"name"`
	Code      string         `json:"code"`
	TownID    string         `json:"townId"`
	Metrics   map[string]any `json:"metrics"`
	Level     *string        `json:"level"`
	Team      *teamRefJSON   `json:"team"`
	Light     lightJSON      `json:"light"`
}

type teamRefJSON struct {
	ID        string   `json:"id"`
	LeaderID  string   `json:"leaderId"`
	MemberIDs []string `json:"memberIds"`
}

func (s *server) statsVillages(c *fiber.Ctx) error {
	townID := c.Query("townId")
	if townID != "" && !domain.ValidID(townID) {
		var v domain.Validator
		v.Add("townId", domain.FieldInvalid, "townId must be a town's id")
		return queryErr(v)
	}
	p, err := statsPeriod(c)
	if err != nil {
		return err
	}
	basis, err := statsBasis(c)
	if err != nil {
		return err
	}
	rows, err := s.svc.Stats.Villages(ctx(c), caller(c), townID, p, basis)
	if err != nil {
		return err
	}
	out := struct {
		TownID *string          `json:"townId"`
		Basis  string           `json:"basis"`
		From   string           `json:"from"`
		To     string           `json:"to"`
		Items  []villageRowJSON `json:"items"`
	}{Basis: basis, From: p.From, To: p.To, Items: make([]villageRowJSON, len(rows))}
	if townID != "" {
		out.TownID = &townID
	}
	for i, r := range rows {
		it := villageRowJSON{VillageID: r.Village.ID, Name: r.Village.Name, Code: r.Village.Code, TownID: r.Village.TownID,
			Metrics: r.Metrics, Light: toLightJSON(r.Light)}
		if r.Level != "" {
			l := string(r.Level)
			it.Level = &l
		}
		if r.Team != nil {
			it.Team = &teamRefJSON{ID: r.Team.ID, LeaderID: r.Team.LeaderID, MemberIDs: r.Team.MemberIDs}
			if it.Team.MemberIDs == nil {
				it.Team.MemberIDs = []string{}
			}
		}
		out.Items[i] = it
	}
	return c.JSON(out)
}

type scoreJSON struct {
	Indicator string  `json:"indicator"`
	Score     float64 `json:"score"`
	Note      string  `json:"note,omitempty"`
}

type assessmentJSON struct {
	VillageID  string      `json:"villageId"`
	TownID     string      `json:"townId"`
	Period     string      `json:"period"`
	Scores     []scoreJSON `json:"scores"`
	Assessors  []string    `json:"assessors"`
	AssessedOn string      `json:"assessedOn"`
	Notes      string      `json:"notes,omitempty"`
	Total      float64     `json:"total"`
	Light      string      `json:"light"`
	By         string      `json:"by"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
	Version    int         `json:"version"`
	// Final: finalised on an approved half-year.
	Final       bool       `json:"final"`
	FinalizedBy string     `json:"finalizedBy,omitempty"`
	FinalizedAt *time.Time `json:"finalizedAt,omitempty"`
}

func toAssessmentJSON(a domain.Assessment) assessmentJSON {
	out := assessmentJSON{VillageID: a.VillageID, TownID: a.TownID, Period: a.Period, Assessors: a.Assessors, AssessedOn: a.AssessedOn,
		Notes: a.Notes, Total: a.Total, Light: a.Light, By: a.By, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version,
		Final: a.Final, FinalizedBy: a.FinalizedBy, FinalizedAt: a.FinalizedAt,
		Scores: make([]scoreJSON, len(a.Scores))}
	for i, sc := range a.Scores {
		out.Scores[i] = scoreJSON(sc)
	}
	return out
}

func (s *server) putAssessment(c *fiber.Ctx) error {
	var req struct {
		Scores     []scoreJSON `json:"scores"`
		Assessors  []string    `json:"assessors"`
		AssessedOn string      `json:"assessedOn"`
		Notes      string      `json:"notes"`
		Version    *int        `json:"version"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	in := domain.AssessmentInput{Assessors: req.Assessors, AssessedOn: req.AssessedOn, Notes: req.Notes, Version: v}
	for _, sc := range req.Scores {
		in.Scores = append(in.Scores, domain.IndicatorScore(sc))
	}
	a, created, err := s.svc.Assessments.Put(ctx(c), caller(c), c.Params("villageId"), c.Params("period"), in)
	if err != nil {
		return err
	}
	etag(c, a.Version)
	if created {
		return c.Status(fiber.StatusCreated).JSON(toAssessmentJSON(a))
	}
	return c.JSON(toAssessmentJSON(a))
}

func (s *server) getAssessment(c *fiber.Ctx) error {
	a, err := s.svc.Assessments.Get(ctx(c), caller(c), c.Params("villageId"), c.Params("period"))
	if err != nil {
		return err
	}
	etag(c, a.Version)
	return c.JSON(toAssessmentJSON(a))
}
