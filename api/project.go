package api

import (
	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// projectBody is a project's JSON body. The project's kind is projectType:
// "type" is the record type in every answer.
type projectBody struct {
	bodyEnvelope
	Name        string   `json:"name,omitempty"`
	ProjectType string   `json:"projectType,omitempty"`
	BudgetFen   int64    `json:"budgetFen,omitempty"`
	Stage       string   `json:"stage,omitempty"`
	StartedOn   string   `json:"startedOn,omitempty"`
	CompletedOn string   `json:"completedOn,omitempty"`
	Description string   `json:"description,omitempty"`
	PhotoIDs    []string `json:"photoIds,omitempty"`
}

func (b *projectBody) fill(r *domain.Record) {
	r.Project = &domain.Project{Name: b.Name, ProjectType: b.ProjectType, BudgetFen: b.BudgetFen, Stage: b.Stage,
		StartedOn: b.StartedOn, CompletedOn: b.CompletedOn, Description: b.Description, PhotoIDs: b.PhotoIDs}
}

func projectBodyOf(r *domain.Record) recordBody {
	b := &projectBody{}
	if r == nil || r.Project == nil {
		return b
	}
	p, v := r.Project, r.Version
	*b = projectBody{bodyEnvelope: bodyEnvelope{ID: r.ID, VillageID: r.VillageID, Version: &v}, Name: p.Name,
		ProjectType: p.ProjectType, BudgetFen: p.BudgetFen, Stage: p.Stage, StartedOn: p.StartedOn,
		CompletedOn: p.CompletedOn, Description: p.Description, PhotoIDs: p.PhotoIDs}
	return b
}

func projectCodec() recordCodec { return recordCodec{typ: domain.TypeProject, body: projectBodyOf} }

// fundBody is a fund's JSON body.
type fundBody struct {
	bodyEnvelope
	AmountFen    int64  `json:"amountFen,omitempty"`
	SourceUnitID string `json:"sourceUnitId,omitempty"`
	Source       string `json:"source,omitempty"`
	Purpose      string `json:"purpose,omitempty"`
	ProjectID    string `json:"projectId,omitempty"`
	ReceivedOn   string `json:"receivedOn,omitempty"`
}

func (b *fundBody) fill(r *domain.Record) {
	r.Fund = &domain.Fund{AmountFen: b.AmountFen, SourceUnitID: b.SourceUnitID, Source: b.Source, Purpose: b.Purpose,
		ProjectID: b.ProjectID, ReceivedOn: b.ReceivedOn}
}

func fundBodyOf(r *domain.Record) recordBody {
	b := &fundBody{}
	if r == nil || r.Fund == nil {
		return b
	}
	f, v := r.Fund, r.Version
	*b = fundBody{bodyEnvelope: bodyEnvelope{ID: r.ID, VillageID: r.VillageID, Version: &v}, AmountFen: f.AmountFen,
		SourceUnitID: f.SourceUnitID, Source: f.Source, Purpose: f.Purpose, ProjectID: f.ProjectID, ReceivedOn: f.ReceivedOn}
	return b
}

func fundCodec() recordCodec { return recordCodec{typ: domain.TypeFund, body: fundBodyOf} }

// projectUpdateBody is a project update's JSON body.
type projectUpdateBody struct {
	bodyEnvelope
	ProjectID string   `json:"projectId,omitempty"`
	Date      string   `json:"date,omitempty"`
	Note      string   `json:"note,omitempty"`
	Stage     string   `json:"stage,omitempty"`
	PhotoIDs  []string `json:"photoIds,omitempty"`
}

func (b *projectUpdateBody) fill(r *domain.Record) {
	r.ProjectUpdate = &domain.ProjectUpdate{ProjectID: b.ProjectID, Date: b.Date, Note: b.Note, Stage: b.Stage, PhotoIDs: b.PhotoIDs}
}

func projectUpdateBodyOf(r *domain.Record) recordBody {
	b := &projectUpdateBody{}
	if r == nil || r.ProjectUpdate == nil {
		return b
	}
	u, v := r.ProjectUpdate, r.Version
	*b = projectUpdateBody{bodyEnvelope: bodyEnvelope{ID: r.ID, VillageID: r.VillageID, Version: &v}, ProjectID: u.ProjectID,
		Date: u.Date, Note: u.Note, Stage: u.Stage, PhotoIDs: u.PhotoIDs}
	return b
}

func projectUpdateCodec() recordCodec {
	return recordCodec{typ: domain.TypeProjectUpdate, body: projectUpdateBodyOf}
}

type projectUpdateReq struct {
	ID       string   `json:"id"`
	Date     string   `json:"date"`
	Note     string   `json:"note"`
	Stage    string   `json:"stage"`
	PhotoIDs []string `json:"photoIds"`
}

func (s *server) addProjectUpdate(c *fiber.Ctx) error {
	var req projectUpdateReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u := domain.Record{ID: req.ID, ProjectUpdate: &domain.ProjectUpdate{Date: req.Date, Note: req.Note, Stage: req.Stage, PhotoIDs: req.PhotoIDs}}
	out, dup, err := s.svc.Field.AddProjectUpdate(ctx(c), caller(c), c.Params("id"), u)
	if err != nil {
		return err
	}
	body, err := s.recordJSON(c, projectUpdateCodec(), out)
	if err != nil {
		return err
	}
	if dup {
		return c.JSON(body)
	}
	return c.Status(fiber.StatusCreated).JSON(body)
}

func (s *server) listProjectUpdates(c *fiber.Ctx) error {
	pr, err := s.svc.Field.Get(ctx(c), caller(c), domain.TypeProject, c.Params("id"))
	if err != nil {
		return err
	}
	var v domain.Validator
	review := reviewQuery(c, &v)
	if err := queryErr(v); err != nil {
		return err
	}
	after, limit, err := recordPage(c)
	if err != nil {
		return err
	}
	rs, err := s.svc.Field.List(ctx(c), caller(c), domain.ListQuery{VillageID: pr.VillageID, After: after, Limit: limit,
		Filter: domain.RecordFilter{Type: domain.TypeProjectUpdate, ProjectID: pr.ID, Review: review}})
	if err != nil {
		return err
	}
	return s.sendRecordList(c, projectUpdateCodec(), rs, limit)
}
