package sqlite

import (
	"context"
	"fmt"

	"zhucun/domain"
)

// SeedCatalogueItem inserts an item unless its kind and code exist.
func (s *Store) SeedCatalogueItem(ctx context.Context, it domain.CatalogueItem) error {
	return s.putCatalogueItem(ctx, it, "INSERT OR IGNORE")
}

// PutCatalogueItem creates or replaces an item.
func (s *Store) PutCatalogueItem(ctx context.Context, it domain.CatalogueItem) error {
	return s.putCatalogueItem(ctx, it, "INSERT OR REPLACE")
}

func (s *Store) putCatalogueItem(ctx context.Context, it domain.CatalogueItem, verb string) error {
	doc, err := encode(it)
	if err != nil {
		return fmt.Errorf("put catalogue item: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(verb+" INTO catalogues (kind, code, ord, doc) VALUES (?, ?, ?, ?)", string(it.Kind), it.Code, it.Order, doc)
		return err
	})
	if err != nil {
		return fmt.Errorf("put catalogue item: %w", err)
	}
	return nil
}

// CatalogueItem returns one item.
func (s *Store) CatalogueItem(ctx context.Context, kind domain.CatalogueKind, code string) (domain.CatalogueItem, error) {
	return getDoc[domain.CatalogueItem](ctx, s, "catalogue item", "SELECT doc FROM catalogues WHERE kind = ? AND code = ?", string(kind), code)
}

// Catalogue lists a kind's items in their order.
func (s *Store) Catalogue(ctx context.Context, kind domain.CatalogueKind) ([]domain.CatalogueItem, error) {
	return allDocs[domain.CatalogueItem](ctx, s, "catalogue", "SELECT doc FROM catalogues WHERE kind = ? ORDER BY ord, code", string(kind))
}

// InsertCampaign adds a campaign.
func (s *Store) InsertCampaign(ctx context.Context, c domain.Campaign) error {
	return s.putDoc(ctx, "insert campaign", "INSERT INTO campaigns (doc, id) VALUES (?, ?)", c, c.ID)
}

// UpdateCampaign replaces a campaign.
func (s *Store) UpdateCampaign(ctx context.Context, c domain.Campaign) error {
	return s.putDoc(ctx, "update campaign", "UPDATE campaigns SET doc = ? WHERE id = ?", c, c.ID)
}

// putDoc runs an INSERT or UPDATE whose first parameter is v's JSON; an
// UPDATE that finds no row is ErrNotFound.
func (s *Store) putDoc(ctx context.Context, what, q string, v any, args ...any) error {
	doc, err := encode(v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(q, append([]any{doc}, args...)...)
		if err != nil {
			return err
		}
		return changed(res)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// GetCampaign returns a campaign.
func (s *Store) GetCampaign(ctx context.Context, id string) (domain.Campaign, error) {
	return getDoc[domain.Campaign](ctx, s, "get campaign", "SELECT doc FROM campaigns WHERE id = ?", id)
}

// ListCampaigns lists campaigns in id order.
func (s *Store) ListCampaigns(ctx context.Context, p domain.Page) (domain.List[domain.Campaign], error) {
	return page(ctx, s, "campaigns", "id", &where{}, p, func(c domain.Campaign) string { return c.ID })
}

// PutEvaluation creates or replaces the evaluation of (campaign, village).
func (s *Store) PutEvaluation(ctx context.Context, e domain.Evaluation) error {
	return s.putDoc(ctx, "put evaluation", "INSERT OR REPLACE INTO evaluations (doc, campaign_id, village_id, town_id) VALUES (?, ?, ?, ?)",
		e, e.CampaignID, e.VillageID, e.TownID)
}

// Evaluations returns a campaign's evaluations of villages in the scope.
func (s *Store) Evaluations(ctx context.Context, campaignID string, sc domain.Scope) ([]domain.Evaluation, error) {
	w := (&where{}).raw("campaign_id = ?", campaignID).scope(sc, "village_id", "town_id")
	return allDocs[domain.Evaluation](ctx, s, "evaluations", "SELECT doc FROM evaluations"+w.sql()+" ORDER BY village_id", w.args...)
}

// InsertSelection adds a selection; ErrDuplicate if the village is selected already.
func (s *Store) InsertSelection(ctx context.Context, sel domain.Selection) error {
	return s.putDoc(ctx, "insert selection",
		"INSERT INTO selections (doc, campaign_id, village_id, town_id, level, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		sel, sel.CampaignID, sel.VillageID, sel.TownID, string(sel.Level), ms(sel.CreatedAt))
}

// GetSelection returns a village's selection in a campaign.
func (s *Store) GetSelection(ctx context.Context, campaignID, villageID string) (domain.Selection, error) {
	return getDoc[domain.Selection](ctx, s, "get selection", "SELECT doc FROM selections WHERE campaign_id = ? AND village_id = ?", campaignID, villageID)
}

// ListSelections lists a campaign's selections in village id order.
func (s *Store) ListSelections(ctx context.Context, f domain.SelectionFilter, p domain.Page) (domain.List[domain.Selection], error) {
	w := (&where{}).raw("campaign_id = ?", f.CampaignID).scope(f.Scope, "village_id", "town_id").
		eq("level", string(f.Level)).eq("town_id", f.TownID)
	return page(ctx, s, "selections", "village_id", w, p, func(x domain.Selection) string { return x.VillageID })
}

// SelectionsOfVillage returns a village's selections, oldest first.
func (s *Store) SelectionsOfVillage(ctx context.Context, villageID string) ([]domain.Selection, error) {
	return allDocs[domain.Selection](ctx, s, "selections of village",
		"SELECT doc FROM selections WHERE village_id = ? ORDER BY created_at, campaign_id", villageID)
}

// InsertSelectionNote adds a note on a selection.
func (s *Store) InsertSelectionNote(ctx context.Context, n domain.SelectionNote) error {
	return s.putDoc(ctx, "insert selection note", "INSERT INTO selection_notes (doc, id, campaign_id, village_id) VALUES (?, ?, ?, ?)",
		n, n.ID, n.CampaignID, n.VillageID)
}

// SelectionNotes returns the notes on a village's selection, oldest first.
func (s *Store) SelectionNotes(ctx context.Context, campaignID, villageID string) ([]domain.SelectionNote, error) {
	return allDocs[domain.SelectionNote](ctx, s, "selection notes",
		"SELECT doc FROM selection_notes WHERE campaign_id = ? AND village_id = ? ORDER BY id", campaignID, villageID)
}
