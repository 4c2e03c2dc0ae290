package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

type townJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toTownJSON(t domain.Town) townJSON {
	return townJSON{ID: t.ID, Name: t.Name, Code: t.Code, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type townReq struct {
	Name *string `json:"name"`
	Code *string `json:"code"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *server) createTown(c *fiber.Ctx) error {
	var req townReq
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.svc.Org.CreateTown(ctx(c), caller(c), domain.TownInput{Name: deref(req.Name), Code: deref(req.Code)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toTownJSON(t))
}

func (s *server) listTowns(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	l, err := s.svc.Org.ListTowns(ctx(c), caller(c), domain.TownFilter{NameContains: c.Query("q")}, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toTownJSON))
}

func (s *server) getTown(c *fiber.Ctx) error {
	id, err := pathID(c, "town")
	if err != nil {
		return err
	}
	t, err := s.svc.Org.GetTown(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toTownJSON(t))
}

func (s *server) patchTown(c *fiber.Ctx) error {
	id, err := pathID(c, "town")
	if err != nil {
		return err
	}
	var req townReq
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.svc.Org.UpdateTown(ctx(c), caller(c), id, domain.TownPatch{Name: req.Name, Code: req.Code})
	if err != nil {
		return err
	}
	return c.JSON(toTownJSON(t))
}

type villageJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TownID    string    `json:"townId"`
	Kind      string    `json:"kind"`
	Code      string    `json:"code"`
	Location  *geoJSON  `json:"location,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toVillageJSON(v domain.Village) villageJSON {
	return villageJSON{ID: v.ID, Name: v.Name, TownID: v.TownID, Kind: string(v.Kind), Code: v.Code, Location: toGeoJSON(v.Location),
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

type villageReq struct {
	Name     *string  `json:"name"`
	TownID   *string  `json:"townId"`
	Kind     *string  `json:"kind"`
	Code     *string  `json:"code"`
	Location *geoJSON `json:"location"`
}

func (g *geoJSON) point() *domain.GeoPoint {
	if g == nil {
		return nil
	}
	return &domain.GeoPoint{Lat: g.Lat, Lng: g.Lng}
}

func (s *server) createVillage(c *fiber.Ctx) error {
	var req villageReq
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := s.svc.Org.CreateVillage(ctx(c), caller(c), domain.VillageInput{
		Name: deref(req.Name), TownID: deref(req.TownID), Kind: deref(req.Kind), Code: deref(req.Code), Location: req.Location.point()})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toVillageJSON(v))
}

func (s *server) listVillages(c *fiber.Ctx) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	var v domain.Validator
	f := domain.VillageFilter{TownID: c.Query("townId"), NameContains: c.Query("q")}
	if k := c.Query("kind"); k != "" {
		kind, ok := domain.ParseVillageKind(k)
		if !ok {
			v.Add("kind", domain.FieldInvalid, "kind must be village or community")
		}
		f.Kind = kind
	}
	if err := queryErr(v); err != nil {
		return err
	}
	l, err := s.svc.Org.ListVillages(ctx(c), caller(c), f, p)
	if err != nil {
		return err
	}
	return c.JSON(toList(l, toVillageJSON))
}

func (s *server) getVillage(c *fiber.Ctx) error {
	id, err := pathID(c, "village")
	if err != nil {
		return err
	}
	v, err := s.svc.Org.GetVillage(ctx(c), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toVillageJSON(v))
}

func (s *server) patchVillage(c *fiber.Ctx) error {
	id, err := pathID(c, "village")
	if err != nil {
		return err
	}
	var req villageReq
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := s.svc.Org.UpdateVillage(ctx(c), caller(c), id, domain.VillagePatch{
		Name: req.Name, TownID: req.TownID, Kind: req.Kind, Code: req.Code, Location: req.Location.point()})
	if err != nil {
		return err
	}
	return c.JSON(toVillageJSON(v))
}
