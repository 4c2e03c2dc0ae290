package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

type townRow struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Code      string    `bson:"code,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func (r townRow) id() string { return r.ID }

func toTownRow(t domain.Town) townRow {
	return townRow{ID: t.ID, Name: t.Name, Code: t.Code, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func toTown(r townRow) domain.Town {
	return domain.Town{ID: r.ID, Name: r.Name, Code: r.Code, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type villageRow struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	TownID    string    `bson:"townId"`
	Kind      string    `bson:"kind"`
	Code      string    `bson:"code,omitempty"`
	Location  *geoRow   `bson:"location,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func (r villageRow) id() string { return r.ID }

func toVillageRow(v domain.Village) villageRow {
	row := villageRow{ID: v.ID, Name: v.Name, TownID: v.TownID, Kind: string(v.Kind), Code: v.Code, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	if v.Location != nil {
		row.Location = &geoRow{Lat: v.Location.Lat, Lng: v.Location.Lng}
	}
	return row
}

func toVillage(r villageRow) domain.Village {
	v := domain.Village{ID: r.ID, Name: r.Name, TownID: r.TownID, Kind: domain.VillageKind(r.Kind), Code: r.Code,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Location != nil {
		v.Location = &domain.GeoPoint{Lat: r.Location.Lat, Lng: r.Location.Lng}
	}
	return v
}

// InsertTown adds a town; ErrDuplicate when the name is taken.
func (s *Store) InsertTown(ctx context.Context, t domain.Town) error {
	if err := insert(ctx, s, colTowns, toTownRow(t)); err != nil {
		return fmt.Errorf("insert town: %w", err)
	}
	return nil
}

// UpdateTown replaces a town.
func (s *Store) UpdateTown(ctx context.Context, t domain.Town) error {
	if err := replace(ctx, s, colTowns, t.ID, toTownRow(t)); err != nil {
		return fmt.Errorf("update town: %w", err)
	}
	return nil
}

// GetTown returns a town inside the scope.
func (s *Store) GetTown(ctx context.Context, id string, sc domain.Scope) (domain.Town, error) {
	r, err := findOne[townRow](ctx, s, colTowns, and(bson.D{{Key: "_id", Value: id}}, scopeFilter(sc, "")))
	if err != nil {
		return domain.Town{}, fmt.Errorf("get town: %w", err)
	}
	return toTown(r), nil
}

// TownByName returns the town with exactly this name.
func (s *Store) TownByName(ctx context.Context, name string) (domain.Town, error) {
	r, err := findOne[townRow](ctx, s, colTowns, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return domain.Town{}, fmt.Errorf("town by name: %w", err)
	}
	return toTown(r), nil
}

// ListTowns lists towns in _id order.
func (s *Store) ListTowns(ctx context.Context, f domain.TownFilter, p domain.Page) (domain.List[domain.Town], error) {
	filter := scopeFilter(f.Scope, "")
	if f.NameContains != "" {
		filter = and(filter, bson.D{{Key: "name", Value: containsRegex(f.NameContains)}})
	}
	return findPage(ctx, s, colTowns, filter, p, toTown)
}

// InsertVillage adds a village; ErrDuplicate when its town has the name already.
func (s *Store) InsertVillage(ctx context.Context, v domain.Village) error {
	if err := insert(ctx, s, colVillages, toVillageRow(v)); err != nil {
		return fmt.Errorf("insert village: %w", err)
	}
	return nil
}

// UpdateVillage replaces a village.
func (s *Store) UpdateVillage(ctx context.Context, v domain.Village) error {
	if err := replace(ctx, s, colVillages, v.ID, toVillageRow(v)); err != nil {
		return fmt.Errorf("update village: %w", err)
	}
	return nil
}

// GetVillage returns a village inside the scope, from the cache.
func (s *Store) GetVillage(ctx context.Context, id string, sc domain.Scope) (domain.Village, error) {
	r, err := findOne[villageRow](ctx, s, colVillages, and(bson.D{{Key: "_id", Value: id}}, scopeFilter(sc, "townId")))
	if err != nil {
		return domain.Village{}, fmt.Errorf("get village: %w", err)
	}
	return toVillage(r), nil
}

// VillageByName returns the village of a town with exactly this name.
func (s *Store) VillageByName(ctx context.Context, townID, name string) (domain.Village, error) {
	r, err := findOne[villageRow](ctx, s, colVillages, bson.D{{Key: "townId", Value: townID}, {Key: "name", Value: name}})
	if err != nil {
		return domain.Village{}, fmt.Errorf("village by name: %w", err)
	}
	return toVillage(r), nil
}

// ListVillages lists villages in _id order.
func (s *Store) ListVillages(ctx context.Context, f domain.VillageFilter, p domain.Page) (domain.List[domain.Village], error) {
	filter := scopeFilter(f.Scope, "townId")
	if f.TownID != "" {
		filter = and(filter, bson.D{{Key: "townId", Value: f.TownID}})
	}
	if f.Kind != "" {
		filter = and(filter, bson.D{{Key: "kind", Value: string(f.Kind)}})
	}
	if f.NameContains != "" {
		filter = and(filter, bson.D{{Key: "name", Value: containsRegex(f.NameContains)}})
	}
	return findPage(ctx, s, colVillages, filter, p, toVillage)
}

// VillagesByIDs returns the existing villages among ids.
func (s *Store) VillagesByIDs(ctx context.Context, ids []string) ([]domain.Village, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := findAll[villageRow](ctx, s, colVillages, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("villages by ids: %w", err)
	}
	return convAll(rows, toVillage), nil
}
