package api

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"zhucun/domain"
)

type catalogueItemJSON struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Domain     string `json:"domain,omitempty"`
	UnitType   string `json:"unitType,omitempty"`
	FromReport bool   `json:"fromReport"`
	Active     bool   `json:"active"`
	Order      int    `json:"order"`
	Group      string `json:"group,omitempty"`
	MaxScore   int    `json:"maxScore,omitempty"`
}

func toCatalogueItemJSON(it domain.CatalogueItem) catalogueItemJSON {
	return catalogueItemJSON{Code: it.Code, Name: it.Name, Domain: it.Domain, UnitType: string(it.Unit),
		FromReport: it.FromReport, Active: it.Active, Order: it.Order, Group: it.Group, MaxScore: it.MaxScore}
}

func (s *server) listCatalogue(c *fiber.Ctx) error {
	items, err := s.svc.Catalogues.List(ctx(c), domain.CatalogueKind(c.Params("kind")))
	if err != nil {
		return err
	}
	out := make([]catalogueItemJSON, len(items))
	for i, it := range items {
		out[i] = toCatalogueItemJSON(it)
	}
	return c.JSON(listJSON[catalogueItemJSON]{Items: out})
}

type catalogueReq struct {
	Name     *string `json:"name"`
	Domain   *string `json:"domain"`
	UnitType *string `json:"unitType"`
	Active   *bool   `json:"active"`
	Order    *int    `json:"order"`
	Group    *string `json:"group"`
	MaxScore *int    `json:"maxScore"`
}

func (s *server) putCatalogueItem(c *fiber.Ctx) error {
	var req catalogueReq
	if err := decode(c, &req); err != nil {
		return err
	}
	it, created, err := s.svc.Catalogues.Put(ctx(c), caller(c), domain.CatalogueKind(c.Params("kind")), c.Params("code"),
		domain.CatalogueInput{Name: req.Name, Domain: req.Domain, Unit: req.UnitType, Active: req.Active, Order: req.Order,
			Group: req.Group, MaxScore: req.MaxScore})
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(toCatalogueItemJSON(it))
}

type campaignJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	StartDate      string    `json:"startDate"`
	EndDate        string    `json:"endDate"`
	CandidateShare float64   `json:"candidateShare"`
	DistrictTarget int       `json:"districtTarget"`
	TownTarget     int       `json:"townTarget"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func toCampaignJSON(c domain.Campaign) campaignJSON { return campaignJSON(c) }

type campaignReq struct {
	Name           *string  `json:"name"`
	StartDate      *string  `json:"startDate"`
	EndDate        *string  `json:"endDate"`
	CandidateShare *float64 `json:"candidateShare"`
	DistrictTarget *int     `json:"districtTarget"`
	TownTarget     *int     `json:"townTarget"`
}

func (r campaignReq) input() domain.CampaignInput { return domain.CampaignInput(r) }

func (s *server) createCampaign(c *fiber.Ctx) error {
	var req campaignReq
	if err := decode(c, &req); err != nil {
		return err
	}
	cp, err := s.svc.Campaigns.Create(ctx(c), caller(c), req.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toCampaignJSON(cp))
}

func (s *server) listCampaigns(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Campaigns.List(ctx(c), caller(c), p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toCampaignJSON))
}

func (s *server) getCampaign(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	cp, err := s.svc.Campaigns.Get(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toCampaignJSON(cp))
}

func (s *server) patchCampaign(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	var req campaignReq
	if err := decode(c, &req); err != nil {
		return err
	}
	cp, err := s.svc.Campaigns.Update(ctx(c), caller(c), id, req.input())
	if err != nil {
		return err
	}
	return c.JSON(toCampaignJSON(cp))
}

type evaluationJSON struct {
	CampaignID     string    `json:"campaignId"`
	VillageID      string    `json:"villageId"`
	TownID         string    `json:"townId"`
	Score          float64   `json:"score"`
	Manifestations []string  `json:"manifestations"`
	EvaluatedBy    string    `json:"evaluatedBy"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func toEvaluationJSON(e domain.Evaluation) evaluationJSON {
	if e.Manifestations == nil {
		e.Manifestations = []string{}
	}
	return evaluationJSON(e)
}

type evaluationReq struct {
	Score          *float64 `json:"score"`
	Manifestations []string `json:"manifestations"`
}

// pathIDs returns the campaign :id and another id parameter.
func pathIDs(c *fiber.Ctx, other, what string) (string, string, error) {
	id, err := pathID(c, "campaign")
	if err != nil {
		return "", "", err
	}
	o := c.Params(other)
	if !domain.ValidID(o) {
		return "", "", domain.NotFound(what)
	}
	return id, o, nil
}

func (s *server) putEvaluation(c *fiber.Ctx) error {
	id, vid, err := pathIDs(c, "villageId", "village")
	if err != nil {
		return err
	}
	var req evaluationReq
	if err := decode(c, &req); err != nil {
		return err
	}
	e, err := s.svc.Campaigns.Evaluate(ctx(c), caller(c), id, vid, domain.EvaluationInput(req))
	if err != nil {
		return err
	}
	return c.JSON(toEvaluationJSON(e))
}

func (s *server) listEvaluations(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	es, err := s.svc.Campaigns.ListEvaluations(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toList(domain.List[domain.Evaluation]{Items: es}, toEvaluationJSON))
}

type rankRowJSON struct {
	Rank           int      `json:"rank"`
	TownRank       int      `json:"townRank"`
	VillageID      string   `json:"villageId"`
	VillageName    string   `json:"villageName"`
	TownID         string   `json:"townId"`
	TownName       string   `json:"townName"`
	Score          float64  `json:"score"`
	Manifestations []string `json:"manifestations"`
	Candidate      bool     `json:"candidate"`
}

type rankingJSON struct {
	Items      []rankRowJSON `json:"items"`
	NextCursor *string       `json:"nextCursor"`
	Evaluated  int           `json:"evaluated"`
	Candidates int           `json:"candidates"`
	TieBreak   string        `json:"tieBreak"`
}

func toRankingJSON(r domain.Ranking) rankingJSON {
	out := rankingJSON{Items: make([]rankRowJSON, len(r.Rows)), Evaluated: r.Evaluated, Candidates: r.Candidates, TieBreak: domain.TieBreak}
	for i, row := range r.Rows {
		if row.Manifestations == nil {
			row.Manifestations = []string{}
		}
		out.Items[i] = rankRowJSON(row)
	}
	return out
}

func (s *server) ranking(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	r, err := s.svc.Campaigns.Rank(ctx(c), caller(c), id, c.Query("townId"))
	if err != nil {
		return err
	}
	return c.JSON(toRankingJSON(r))
}

func (s *server) candidates(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	r, err := s.svc.Campaigns.Candidates(ctx(c), caller(c), id, c.Query("townId"))
	if err != nil {
		return err
	}
	return c.JSON(toRankingJSON(r))
}

// candidatesXLSX exports the list of weak villages (薄弱村清单和信息库).
func (s *server) candidatesXLSX(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	cx := ctx(c)
	cp, err := s.svc.Campaigns.Get(cx, caller(c), id)
	if err != nil {
		return err
	}
	r, err := s.svc.Campaigns.Candidates(cx, caller(c), id, c.Query("townId"))
	if err != nil {
		return err
	}
	if err := s.auditExport(c, "candidates.xlsx:"+id, c.Query("townId")); err != nil {
		return err
	}
	items, err := s.svc.Catalogues.List(cx, domain.CatManifestations)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, it := range items {
		names[it.Code] = it.Name
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := "薄弱村清单"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	header := []any{"全区排名(由好到差)", "乡镇(街道)", "村(居)", "镇内排名", "综合评分", "软弱涣散表现"}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	for i, row := range r.Rows {
		var ms []string
		for _, m := range row.Manifestations {
			ms = append(ms, cmpName(names[m], m))
		}
		cells := []any{row.Rank, row.TownName, row.VillageName, row.TownRank, row.Score, strings.Join(ms, "；")}
		if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(i+2), &cells); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 18)
	_ = f.SetColWidth(sheet, "B", "C", 16)
	_ = f.SetColWidth(sheet, "F", "F", 60)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	c.Set(fiber.HeaderContentType, mimeXLSX)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="candidates.xlsx"; filename*=UTF-8''%s`,
		url.PathEscape(cp.Name+"-薄弱村清单.xlsx")))
	return c.Send(b.Bytes())
}

func cmpName(name, code string) string {
	if name == "" {
		return code
	}
	return name
}

type noteJSON struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Text      string    `json:"text"`
	By        string    `json:"by"`
	CreatedAt time.Time `json:"createdAt"`
}

func toNoteJSON(n domain.SelectionNote) noteJSON {
	return noteJSON{ID: n.ID, Source: n.Source, Text: n.Text, By: n.By, CreatedAt: n.CreatedAt}
}

type selectionJSON struct {
	CampaignID string     `json:"campaignId"`
	VillageID  string     `json:"villageId"`
	TownID     string     `json:"townId"`
	Level      string     `json:"level"`
	Reason     string     `json:"reason"`
	Override   string     `json:"override,omitempty"`
	Candidate  bool       `json:"candidate"`
	Rank       int        `json:"rank"`
	SelectedBy string     `json:"selectedBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	Notes      []noteJSON `json:"notes,omitempty"`
}

func toSelectionJSON(s domain.Selection) selectionJSON {
	return selectionJSON{CampaignID: s.CampaignID, VillageID: s.VillageID, TownID: s.TownID, Level: string(s.Level),
		Reason: s.Reason, Override: s.Override, Candidate: s.Candidate, Rank: s.Rank, SelectedBy: s.SelectedBy, CreatedAt: s.CreatedAt}
}

func withNotes(s domain.Selection, notes []domain.SelectionNote) selectionJSON {
	out := toSelectionJSON(s)
	out.Notes = make([]noteJSON, len(notes))
	for i, n := range notes {
		out.Notes[i] = toNoteJSON(n)
	}
	return out
}

type noteReq struct {
	Source string `json:"source"`
	Text   string `json:"text"`
}

type selectionReq struct {
	VillageID string    `json:"villageId"`
	Level     string    `json:"level"`
	Reason    string    `json:"reason"`
	Override  string    `json:"override"`
	Notes     []noteReq `json:"notes"`
}

func (s *server) createSelection(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	var req selectionReq
	if err := decode(c, &req); err != nil {
		return err
	}
	in := domain.SelectionInput{VillageID: req.VillageID, Level: domain.Level(req.Level), Reason: req.Reason, Override: req.Override}
	for _, n := range req.Notes {
		in.Notes = append(in.Notes, domain.NoteInput(n))
	}
	sel, notes, err := s.svc.Campaigns.Select(ctx(c), caller(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(withNotes(sel, notes))
}

func (s *server) listSelections(c *fiber.Ctx) error {
	id, err := pathID(c, "campaign")
	if err != nil {
		return err
	}
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	f := domain.SelectionFilter{CampaignID: id, TownID: c.Query("townId")}
	if l := c.Query("level"); l != "" {
		if l != string(domain.LevelDistrict) && l != string(domain.LevelTown) {
			var v domain.Validator
			v.Add("level", domain.FieldInvalid, "level must be district or town")
			return queryErr(v)
		}
		f.Level = domain.Level(l)
	}
	l, err := s.svc.Campaigns.ListSelections(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toSelectionJSON))
}

func (s *server) getSelection(c *fiber.Ctx) error {
	id, vid, err := pathIDs(c, "villageId", "selection")
	if err != nil {
		return err
	}
	sel, notes, err := s.svc.Campaigns.GetSelection(ctx(c), caller(c), id, vid)
	if err != nil {
		return err
	}
	return c.JSON(withNotes(sel, notes))
}

func (s *server) addSelectionNote(c *fiber.Ctx) error {
	id, vid, err := pathIDs(c, "villageId", "selection")
	if err != nil {
		return err
	}
	var req noteReq
	if err := decode(c, &req); err != nil {
		return err
	}
	n, err := s.svc.Campaigns.AddNote(ctx(c), caller(c), id, vid, domain.NoteInput(req))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toNoteJSON(n))
}
