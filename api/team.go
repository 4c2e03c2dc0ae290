package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type unitJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toUnitJSON(u domain.Unit) unitJSON {
	return unitJSON{ID: u.ID, Name: u.Name, Type: string(u.Type), Code: u.Code, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type unitReq struct {
	Name *string `json:"name"`
	Type *string `json:"type"`
	Code *string `json:"code"`
}

func (s *server) createUnit(c *fiber.Ctx) error {
	var req unitReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.svc.Teams.CreateUnit(ctx(c), caller(c), domain.UnitInput(req))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUnitJSON(u))
}

func (s *server) listUnits(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Teams.ListUnits(ctx(c), caller(c), domain.UnitType(c.Query("type")), p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toUnitJSON))
}

func (s *server) getUnit(c *fiber.Ctx) error {
	id, err := pathID(c, "unit")
	if err != nil {
		return err
	}
	u, err := s.svc.Teams.GetUnit(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toUnitJSON(u))
}

func (s *server) patchUnit(c *fiber.Ctx) error {
	id, err := pathID(c, "unit")
	if err != nil {
		return err
	}
	var req unitReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.svc.Teams.UpdateUnit(ctx(c), caller(c), id, domain.UnitInput(req))
	if err != nil {
		return err
	}
	return c.JSON(toUnitJSON(u))
}

type teamJSON struct {
	ID           string    `json:"id"`
	CampaignID   string    `json:"campaignId"`
	VillageID    string    `json:"villageId"`
	TownID       string    `json:"townId"`
	Level        string    `json:"level"`
	LeaderID     string    `json:"leaderId"`
	MemberIDs    []string  `json:"memberIds"`
	TownMemberID string    `json:"townMemberId,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Version      int       `json:"version"`
}

func toTeamJSON(t domain.Team) teamJSON {
	ids := t.MemberIDs
	if ids == nil {
		ids = []string{}
	}
	return teamJSON{ID: t.ID, CampaignID: t.CampaignID, VillageID: t.VillageID, TownID: t.TownID, Level: string(t.Level),
		LeaderID: t.LeaderID, MemberIDs: ids, TownMemberID: t.TownMemberID, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

type memberJSON struct {
	UserID   string `json:"userId"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	UnitID   string `json:"unitId,omitempty"`
	UnitName string `json:"unitName,omitempty"`
	UnitType string `json:"unitType,omitempty"`
	AgeTier  string `json:"ageTier,omitempty"`
}

type suggestionJSON struct {
	Type     string   `json:"type"`
	Problems int      `json:"problems"`
	Aspects  []string `json:"aspects"`
}

func toSuggestionJSON(sg domain.UnitSuggestion) suggestionJSON {
	return suggestionJSON{Type: string(sg.Type), Problems: sg.Problems, Aspects: sg.Aspects}
}

type teamViewJSON struct {
	teamJSON
	Members            []memberJSON     `json:"members"`
	AgeMix             map[string]int   `json:"ageMix"`
	MissingTiers       []string         `json:"missingTiers"`
	MixComplete        bool             `json:"mixComplete"`
	SuggestedUnitTypes []suggestionJSON `json:"suggestedUnitTypes"`
	MissingUnitTypes   []string         `json:"missingUnitTypes"`
}

func toTeamViewJSON(v domain.TeamView) teamViewJSON {
	out := teamViewJSON{teamJSON: toTeamJSON(v.Team), Members: []memberJSON{}, AgeMix: map[string]int{},
		MissingTiers: []string{}, SuggestedUnitTypes: []suggestionJSON{}, MissingUnitTypes: []string{}}
	for _, m := range v.Members {
		out.Members = append(out.Members, memberJSON{UserID: m.UserID, Name: m.Name, Role: m.Role, UnitID: m.UnitID,
			UnitName: m.UnitName, UnitType: string(m.UnitType), AgeTier: string(m.AgeTier)})
	}
	for _, t := range domain.AgeTiers {
		out.AgeMix[string(t)] = v.AgeMix[t]
	}
	for _, t := range v.MissingTiers {
		out.MissingTiers = append(out.MissingTiers, string(t))
	}
	out.MixComplete = len(v.MissingTiers) == 0
	for _, sg := range v.SuggestedUnitTypes {
		out.SuggestedUnitTypes = append(out.SuggestedUnitTypes, toSuggestionJSON(sg))
	}
	for _, t := range v.MissingUnitTypes {
		out.MissingUnitTypes = append(out.MissingUnitTypes, string(t))
	}
	return out
}

type teamReq struct {
	CampaignID   string    `json:"campaignId"`
	VillageID    string    `json:"villageId"`
	LeaderID     *string   `json:"leaderId"`
	MemberIDs    *[]string `json:"memberIds"`
	TownMemberID *string   `json:"townMemberId"`
	Version      *int      `json:"version"`
}

func (r teamReq) input() domain.TeamInput {
	return domain.TeamInput{CampaignID: r.CampaignID, VillageID: r.VillageID, LeaderID: r.LeaderID, MemberIDs: r.MemberIDs, TownMemberID: r.TownMemberID}
}

func (s *server) teamView(c *fiber.Ctx, t domain.Team, status int) error {
	v, err := s.svc.Teams.View(ctx(c), caller(c), t)
	if err != nil {
		return err
	}
	etag(c, t.Version)
	return c.Status(status).JSON(toTeamViewJSON(v))
}

func (s *server) createTeam(c *fiber.Ctx) error {
	var req teamReq
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.svc.Teams.CreateTeam(ctx(c), caller(c), req.input())
	if err != nil {
		return err
	}
	return s.teamView(c, t, fiber.StatusCreated)
}

func (s *server) listTeams(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Teams.ListTeams(ctx(c), caller(c), domain.TeamFilter{CampaignID: c.Query("campaignId"),
		VillageID: c.Query("villageId"), MemberID: c.Query("memberId")}, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toTeamJSON))
}

func (s *server) getTeam(c *fiber.Ctx) error {
	id, err := pathID(c, "team")
	if err != nil {
		return err
	}
	t, err := s.svc.Teams.GetTeam(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return s.teamView(c, t, fiber.StatusOK)
}

func (s *server) patchTeam(c *fiber.Ctx) error {
	id, err := pathID(c, "team")
	if err != nil {
		return err
	}
	var req teamReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.CampaignID != "" || req.VillageID != "" {
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: "villageId", Code: domain.FieldInvalid, Message: "a team's campaign and village cannot change"})
	}
	v, err := version(c, req.Version)
	if err != nil {
		return err
	}
	t, err := s.svc.Teams.UpdateTeam(ctx(c), caller(c), id, v, req.input())
	if err != nil {
		return err
	}
	return s.teamView(c, t, fiber.StatusOK)
}

func (s *server) unitSuggestions(c *fiber.Ctx) error {
	vid, err := pathID(c, "village")
	if err != nil {
		return err
	}
	sgs, err := s.svc.Teams.Suggest(ctx(c), caller(c), vid)
	if err != nil {
		return err
	}
	return c.JSON(toList(domain.List[domain.UnitSuggestion]{Items: sgs}, toSuggestionJSON))
}

type trainingJSON struct {
	ID                   string    `json:"id"`
	Course               string    `json:"course"`
	Kind                 string    `json:"kind"`
	StartDate            string    `json:"startDate"`
	EndDate              string    `json:"endDate"`
	Location             string    `json:"location,omitempty"`
	ParticipantIDs       []string  `json:"participantIds"`
	ExternalParticipants int       `json:"externalParticipants"`
	CreatedBy            string    `json:"createdBy"`
	CreatedAt            time.Time `json:"createdAt"`
}

func toTrainingJSON(t domain.Training) trainingJSON {
	if t.ParticipantIDs == nil {
		t.ParticipantIDs = []string{}
	}
	return trainingJSON(t)
}

type trainingReq struct {
	Course               string   `json:"course"`
	Kind                 string   `json:"kind"`
	StartDate            string   `json:"startDate"`
	EndDate              string   `json:"endDate"`
	Location             string   `json:"location"`
	ParticipantIDs       []string `json:"participantIds"`
	ExternalParticipants int      `json:"externalParticipants"`
}

func (s *server) createTraining(c *fiber.Ctx) error {
	var req trainingReq
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.svc.Trainings.Create(ctx(c), caller(c), domain.Training{Course: req.Course, Kind: req.Kind,
		StartDate: req.StartDate, EndDate: req.EndDate, Location: req.Location, ParticipantIDs: req.ParticipantIDs,
		ExternalParticipants: req.ExternalParticipants})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toTrainingJSON(t))
}

func (s *server) listTrainings(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Trainings.List(ctx(c), caller(c), c.Query("participantId"), p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toTrainingJSON))
}
