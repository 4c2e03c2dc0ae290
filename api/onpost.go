package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type planJSON struct {
	CadreID   string    `json:"cadreId"`
	Week      string    `json:"week"`
	Days      []string  `json:"days"`
	UpdatedBy string    `json:"updatedBy"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type planReq struct {
	Days []string `json:"days"`
}

func (s *server) putPlan(c *fiber.Ctx) error {
	var req planReq
	if err := decode(c, &req); err != nil {
		return err
	}
	id := c.Params("cadreId")
	if !domain.ValidID(id) {
		return domain.NotFound("cadre")
	}
	p, err := s.svc.OnPost.PutPlan(ctx(c), caller(c), id, c.Params("week"), req.Days)
	if err != nil {
		return err
	}
	return c.JSON(planJSON{CadreID: p.CadreID, Week: p.Week, Days: p.Days, UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt})
}

type onPostRowJSON struct {
	CadreID     string   `json:"cadreId"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	VillageIDs  []string `json:"villageIds"`
	HasPlan     bool     `json:"hasPlan"`
	Planned     []string `json:"plannedDays"`
	OnPost      []string `json:"onPostDays"`
	CheckedIn   []string `json:"checkinDays"`
	Leave       []string `json:"leaveDays"`
	PlannedMet  int      `json:"plannedDaysMet"`
	OnPostRatio float64  `json:"onPostRate"`
}

func (s *server) onPostWeek(c *fiber.Ctx) error {
	var v domain.Validator
	week := c.Query("week")
	v.Required("week", week)
	if err := queryErr(v); err != nil {
		return err
	}
	rows, err := s.svc.OnPost.Week(ctx(c), caller(c), week, c.Query("townId"))
	if err != nil {
		return err
	}
	out := listJSON[onPostRowJSON]{Items: make([]onPostRowJSON, len(rows))}
	for i, r := range rows {
		ids := r.VillageIDs
		if ids == nil {
			ids = []string{}
		}
		out.Items[i] = onPostRowJSON{CadreID: r.Cadre.ID, Name: r.Cadre.Name, Role: string(r.Cadre.Role), VillageIDs: ids,
			HasPlan: r.HasPlan, Planned: r.Planned, OnPost: r.OnPost, CheckedIn: r.CheckedIn, Leave: r.Leave, PlannedMet: r.PlannedMet, OnPostRatio: r.OnPostRatio}
	}
	return c.JSON(out)
}
