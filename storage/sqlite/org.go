package sqlite

import (
	"context"
	"fmt"

	"zhucun/domain"
)

// InsertTown adds a town; ErrDuplicate when the name is taken.
func (s *Store) InsertTown(ctx context.Context, t domain.Town) error {
	doc, err := encode(t)
	if err != nil {
		return fmt.Errorf("insert town: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec("INSERT INTO towns (id, name, doc) VALUES (?, ?, ?)", t.ID, t.Name, doc)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert town: %w", err)
	}
	return nil
}

// UpdateTown replaces a town.
func (s *Store) UpdateTown(ctx context.Context, t domain.Town) error {
	doc, err := encode(t)
	if err != nil {
		return fmt.Errorf("update town: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("UPDATE towns SET name = ?, doc = ? WHERE id = ?", t.Name, doc, t.ID)
		if err != nil {
			return err
		}
		return changed(res)
	})
	if err != nil {
		return fmt.Errorf("update town: %w", err)
	}
	return nil
}

// GetTown returns a town inside the scope.
func (s *Store) GetTown(ctx context.Context, id string, sc domain.Scope) (domain.Town, error) {
	w := (&where{}).raw("id = ?", id).scope(sc, "id", "")
	return getDoc[domain.Town](ctx, s, "get town", "SELECT doc FROM towns"+w.sql(), w.args...)
}

// TownByName returns the town with exactly this name.
func (s *Store) TownByName(ctx context.Context, name string) (domain.Town, error) {
	return getDoc[domain.Town](ctx, s, "town by name", "SELECT doc FROM towns WHERE name = ?", name)
}

// ListTowns lists towns in id order.
func (s *Store) ListTowns(ctx context.Context, f domain.TownFilter, p domain.Page) (domain.List[domain.Town], error) {
	w := (&where{}).scope(f.Scope, "id", "").contains("name", f.NameContains)
	return page(ctx, s, "towns", "id", w, p, func(t domain.Town) string { return t.ID })
}

// InsertVillage adds a village; ErrDuplicate when its town has the name already.
func (s *Store) InsertVillage(ctx context.Context, v domain.Village) error {
	doc, err := encode(v)
	if err != nil {
		return fmt.Errorf("insert village: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec("INSERT INTO villages (id, town_id, name, kind, doc) VALUES (?, ?, ?, ?, ?)",
			v.ID, v.TownID, v.Name, string(v.Kind), doc)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert village: %w", err)
	}
	return nil
}

// UpdateVillage replaces a village.
func (s *Store) UpdateVillage(ctx context.Context, v domain.Village) error {
	doc, err := encode(v)
	if err != nil {
		return fmt.Errorf("update village: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("UPDATE villages SET town_id = ?, name = ?, kind = ?, doc = ? WHERE id = ?",
			v.TownID, v.Name, string(v.Kind), doc, v.ID)
		if err != nil {
			return err
		}
		return changed(res)
	})
	if err != nil {
		return fmt.Errorf("update village: %w", err)
	}
	return nil
}

// GetVillage returns a village inside the scope.
func (s *Store) GetVillage(ctx context.Context, id string, sc domain.Scope) (domain.Village, error) {
	w := (&where{}).raw("id = ?", id).scope(sc, "id", "town_id")
	return getDoc[domain.Village](ctx, s, "get village", "SELECT doc FROM villages"+w.sql(), w.args...)
}

// VillageByName returns the village of a town with exactly this name.
func (s *Store) VillageByName(ctx context.Context, townID, name string) (domain.Village, error) {
	return getDoc[domain.Village](ctx, s, "village by name", "SELECT doc FROM villages WHERE town_id = ? AND name = ?", townID, name)
}

// ListVillages lists villages in id order.
func (s *Store) ListVillages(ctx context.Context, f domain.VillageFilter, p domain.Page) (domain.List[domain.Village], error) {
	w := (&where{}).scope(f.Scope, "id", "town_id").eq("town_id", f.TownID).eq("kind", string(f.Kind)).contains("name", f.NameContains)
	return page(ctx, s, "villages", "id", w, p, func(v domain.Village) string { return v.ID })
}

// VillagesByIDs returns the existing villages among ids.
func (s *Store) VillagesByIDs(ctx context.Context, ids []string) ([]domain.Village, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []domain.Village
	// In chunks: SQLite bounds a statement's parameters.
	for len(ids) > 0 {
		n := min(len(ids), 500)
		w := (&where{}).in("id", ids[:n])
		vs, err := allDocs[domain.Village](ctx, s, "villages by ids", "SELECT doc FROM villages"+w.sql(), w.args...)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		ids = ids[n:]
	}
	return out, nil
}
