package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Town is a town or sub-district (乡镇/街道) of the district.
type Town struct {
	ID        string
	Name      string
	Code      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// VillageKind tells a village (村) from an urban community (居/社区).
type VillageKind string

// The village kinds.
const (
	KindVillage   VillageKind = "village"
	KindCommunity VillageKind = "community"
)

// ParseVillageKind accepts the English kinds and the Chinese words users
// write in import files.
func ParseVillageKind(s string) (VillageKind, bool) {
	switch strings.TrimSpace(s) {
	case "village", "村":
		return KindVillage, true
	case "community", "居", "社区", "居委会":
		return KindCommunity, true
	}
	return "", false
}

// Village is a village or community (村/居) of a town.
type Village struct {
	ID     string
	Name   string
	TownID string
	Kind   VillageKind
	Code   string
	// Location, when known, is where the village is: photos taken far from
	// it are flagged.
	Location  *GeoPoint
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TownFilter narrows a town listing.
type TownFilter struct {
	Scope        Scope
	NameContains string
}

// VillageFilter narrows a village listing.
type VillageFilter struct {
	Scope        Scope
	TownID       string
	NameContains string
	Kind         VillageKind
}

// OrgStore keeps towns and villages. Get and list methods return only
// records inside the scope they are given; a record outside it is ErrNotFound.
type OrgStore interface {
	InsertTown(ctx context.Context, t Town) error
	UpdateTown(ctx context.Context, t Town) error
	GetTown(ctx context.Context, id string, s Scope) (Town, error)
	TownByName(ctx context.Context, name string) (Town, error)
	ListTowns(ctx context.Context, f TownFilter, p Page) (List[Town], error)

	InsertVillage(ctx context.Context, v Village) error
	UpdateVillage(ctx context.Context, v Village) error
	GetVillage(ctx context.Context, id string, s Scope) (Village, error)
	VillageByName(ctx context.Context, townID, name string) (Village, error)
	ListVillages(ctx context.Context, f VillageFilter, p Page) (List[Village], error)
	// VillagesByIDs returns the villages with these ids that exist, in no set order.
	VillagesByIDs(ctx context.Context, ids []string) ([]Village, error)
}

// Field limits.
const (
	maxName = 100
	maxCode = 40
)

// OrgService manages the org registry.
type OrgService struct {
	IDs   IDs // ids of what it creates; nil: NewID
	Store OrgStore
	Audit Auditor
	Now   Clock
}

// TownInput creates a town.
type TownInput struct {
	Name string
	Code string
}

// TownPatch changes a town; nil fields stay as they are.
type TownPatch struct {
	Name *string
	Code *string
}

func validateTown(v *Validator, name, code string) {
	if v.Required("name", name) {
		v.MaxLen("name", name, maxName)
	}
	v.MaxLen("code", code, maxCode)
}

// CreateTown adds a town: the campaign or the system administrator.
func (s OrgService) CreateTown(ctx context.Context, c Caller, in TownInput) (Town, error) {
	if !c.Is(RoleAdmin, RoleSysAdmin) {
		return Town{}, Forbidden()
	}
	in.Name, in.Code = strings.TrimSpace(in.Name), strings.TrimSpace(in.Code)
	var v Validator
	validateTown(&v, in.Name, in.Code)
	if err := v.Err(); err != nil {
		return Town{}, err
	}
	now := s.Now()
	t := Town{ID: s.IDs.New(now), Name: in.Name, Code: in.Code, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.InsertTown(ctx, t); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return Town{}, takenErr("name", "a town with this name already exists")
		}
		return Town{}, fmt.Errorf("create town: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "town", t.ID, "create", t.ID)
}

// GetTown returns a town in the caller's scope.
func (s OrgService) GetTown(ctx context.Context, c Caller, id string) (Town, error) {
	t, err := s.Store.GetTown(ctx, id, c.OrgTownScope())
	if errors.Is(err, ErrNotFound) {
		return Town{}, NotFound("town")
	}
	return t, err
}

// ListTowns lists the towns in the caller's scope.
func (s OrgService) ListTowns(ctx context.Context, c Caller, f TownFilter, p Page) (List[Town], error) {
	f.Scope = c.OrgTownScope()
	if f.Scope.Empty() {
		return List[Town]{}, nil
	}
	return s.Store.ListTowns(ctx, f, p)
}

// UpdateTown changes a town: the campaign or the system administrator.
func (s OrgService) UpdateTown(ctx context.Context, c Caller, id string, p TownPatch) (Town, error) {
	t, err := s.GetTown(ctx, c, id)
	if err != nil {
		return Town{}, err
	}
	if !c.Is(RoleAdmin, RoleSysAdmin) {
		return Town{}, Forbidden()
	}
	if p.Name != nil {
		t.Name = strings.TrimSpace(*p.Name)
	}
	if p.Code != nil {
		t.Code = strings.TrimSpace(*p.Code)
	}
	var v Validator
	validateTown(&v, t.Name, t.Code)
	if err := v.Err(); err != nil {
		return Town{}, err
	}
	if other, err := s.Store.TownByName(ctx, t.Name); err == nil && other.ID != t.ID {
		return Town{}, takenErr("name", "a town with this name already exists")
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Town{}, fmt.Errorf("update town: %w", err)
	}
	t.UpdatedAt = s.Now()
	if err := s.Store.UpdateTown(ctx, t); err != nil {
		return Town{}, fmt.Errorf("update town: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "town", t.ID, "update", t.ID)
}

// VillageInput creates a village.
type VillageInput struct {
	Name     string
	TownID   string
	Kind     string
	Code     string
	Location *GeoPoint
}

// VillagePatch changes a village; nil fields stay as they are.
type VillagePatch struct {
	Name     *string
	TownID   *string
	Kind     *string
	Code     *string
	Location *GeoPoint // set it (it cannot be taken away, only moved)
}

// checkPoint checks a place's degrees.
func checkPoint(v *Validator, field string, p *GeoPoint) {
	if p == nil {
		return
	}
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		v.Add(field+".lat", FieldRange, "lat must be from -90 to 90")
	}
	if math.IsNaN(p.Lng) || p.Lng < -180 || p.Lng > 180 {
		v.Add(field+".lng", FieldRange, "lng must be from -180 to 180")
	}
}

func takenErr(field, msg string) error {
	return &Error{Kind: KindConflict, Code: "already_exists", Message: msg,
		Fields: []FieldError{{Field: field, Code: FieldTaken, Message: msg}}}
}

// canWriteTown reports whether the caller may add or change villages of a town.
func canWriteTown(c Caller, townID string) bool {
	return c.Is(RoleAdmin, RoleSysAdmin) || c.Role == RoleTownAdmin && c.TownID == townID
}

// CreateVillage adds a village: the campaign and system administrators,
// and town admins in their own town.
func (s OrgService) CreateVillage(ctx context.Context, c Caller, in VillageInput) (Village, error) {
	if !c.Is(RoleAdmin, RoleSysAdmin, RoleTownAdmin) {
		return Village{}, Forbidden()
	}
	in.Name, in.Code, in.TownID = strings.TrimSpace(in.Name), strings.TrimSpace(in.Code), strings.TrimSpace(in.TownID)
	var v Validator
	if v.Required("name", in.Name) {
		v.MaxLen("name", in.Name, maxName)
	}
	v.MaxLen("code", in.Code, maxCode)
	checkPoint(&v, "location", in.Location)
	kind, ok := ParseVillageKind(in.Kind)
	if !ok {
		v.Add("kind", FieldInvalid, "kind must be village or community")
	}
	if v.Required("townId", in.TownID) {
		if _, err := s.Store.GetTown(ctx, in.TownID, c.OrgTownScope()); errors.Is(err, ErrNotFound) {
			v.Add("townId", FieldUnknown, "no such town")
		} else if err != nil {
			return Village{}, fmt.Errorf("create village: %w", err)
		} else if !canWriteTown(c, in.TownID) {
			return Village{}, Forbidden()
		}
	}
	if err := v.Err(); err != nil {
		return Village{}, err
	}
	now := s.Now()
	vil := Village{ID: s.IDs.New(now), Name: in.Name, TownID: in.TownID, Kind: kind, Code: in.Code, Location: in.Location, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.InsertVillage(ctx, vil); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return Village{}, takenErr("name", "this town already has a village with this name")
		}
		return Village{}, fmt.Errorf("create village: %w", err)
	}
	return vil, s.Audit.Record(ctx, c, "village", vil.ID, "create", vil.TownID)
}

// GetVillage returns a village in the caller's scope.
func (s OrgService) GetVillage(ctx context.Context, c Caller, id string) (Village, error) {
	v, err := s.Store.GetVillage(ctx, id, c.OrgVillageScope())
	if errors.Is(err, ErrNotFound) {
		return Village{}, NotFound("village")
	}
	return v, err
}

// ListVillages lists the villages in the caller's scope.
func (s OrgService) ListVillages(ctx context.Context, c Caller, f VillageFilter, p Page) (List[Village], error) {
	f.Scope = c.OrgVillageScope()
	if f.Scope.Empty() {
		return List[Village]{}, nil
	}
	return s.Store.ListVillages(ctx, f, p)
}

// UpdateVillage changes a village. A town admin may change the villages of
// its town but not move one to another town.
func (s OrgService) UpdateVillage(ctx context.Context, c Caller, id string, p VillagePatch) (Village, error) {
	vil, err := s.GetVillage(ctx, c, id)
	if err != nil {
		return Village{}, err
	}
	if !canWriteTown(c, vil.TownID) {
		return Village{}, Forbidden()
	}
	var v Validator
	if p.Name != nil {
		vil.Name = strings.TrimSpace(*p.Name)
		if v.Required("name", vil.Name) {
			v.MaxLen("name", vil.Name, maxName)
		}
	}
	if p.Code != nil {
		vil.Code = strings.TrimSpace(*p.Code)
		v.MaxLen("code", vil.Code, maxCode)
	}
	if p.Location != nil {
		checkPoint(&v, "location", p.Location)
		vil.Location = p.Location
	}
	if p.Kind != nil {
		k, ok := ParseVillageKind(*p.Kind)
		if !ok {
			v.Add("kind", FieldInvalid, "kind must be village or community")
		}
		vil.Kind = k
	}
	if p.TownID != nil && *p.TownID != vil.TownID {
		if !c.Is(RoleAdmin, RoleSysAdmin) {
			return Village{}, Forbidden()
		}
		if _, err := s.Store.GetTown(ctx, *p.TownID, Scope{All: true}); errors.Is(err, ErrNotFound) {
			v.Add("townId", FieldUnknown, "no such town")
		} else if err != nil {
			return Village{}, fmt.Errorf("update village: %w", err)
		}
		vil.TownID = *p.TownID
	}
	if err := v.Err(); err != nil {
		return Village{}, err
	}
	if other, err := s.Store.VillageByName(ctx, vil.TownID, vil.Name); err == nil && other.ID != vil.ID {
		return Village{}, takenErr("name", "this town already has a village with this name")
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Village{}, fmt.Errorf("update village: %w", err)
	}
	vil.UpdatedAt = s.Now()
	if err := s.Store.UpdateVillage(ctx, vil); err != nil {
		return Village{}, fmt.Errorf("update village: %w", err)
	}
	return vil, s.Audit.Record(ctx, c, "village", vil.ID, "update", vil.TownID)
}
