package mongo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var (
	_ domain.CatalogueStore = (*Store)(nil)
	_ domain.CampaignStore  = (*Store)(nil)
	_ domain.ProblemStore   = (*Store)(nil)
	_ domain.TargetStore    = (*Store)(nil)
	_ domain.TeamStore      = (*Store)(nil)
	_ domain.TrainingStore  = (*Store)(nil)
)

// findAll decodes every document matching filter, in the given order.
func findAll[R any](ctx context.Context, s *Store, col string, filter bson.D, sort bson.D) ([]R, error) {
	return findAllLimit[R](ctx, s, col, filter, sort, 0)
}

func convAll[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out
}

// replaceVersion replaces the document with this _id whose version is
// version-1: ErrStale when another version is stored, ErrNotFound when
// there is none.
func replaceVersion(ctx context.Context, s *Store, col, id string, version int, row any) error {
	// FerretDB reads then writes: two concurrent replaces of one version may
	// both succeed. One process writes a store, so a lock per document here
	// makes the version check hold.
	h := sha256.Sum256([]byte(col + "/" + id))
	lock := &s.versionLocks[h[0]]
	lock.Lock()
	defer lock.Unlock()
	return s.write(ctx, func(ctx context.Context) error {
		res, err := s.db.Collection(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version - 1}}, row)
		if err != nil {
			return err
		}
		if res.MatchedCount == 1 {
			return nil
		}
		n, err := s.db.Collection(col).CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
		if err != nil {
			return err
		}
		if n == 0 {
			return mongo.ErrNoDocuments
		}
		return domain.ErrStale
	})
}

// ---- catalogues

type catalogueRow struct {
	ID         string    `bson:"_id"` // kind/code
	Kind       string    `bson:"kind"`
	Code       string    `bson:"code"`
	Name       string    `bson:"name"`
	Domain     string    `bson:"domain,omitempty"`
	Unit       string    `bson:"unitType,omitempty"`
	FromReport bool      `bson:"fromReport"`
	Active     bool      `bson:"active"`
	Order      int       `bson:"order"`
	Group      string    `bson:"group,omitempty"`
	MaxScore   int       `bson:"maxScore,omitempty"`
	UpdatedAt  time.Time `bson:"updatedAt"`
}

func toCatalogueRow(it domain.CatalogueItem) catalogueRow {
	return catalogueRow{ID: string(it.Kind) + "/" + it.Code, Kind: string(it.Kind), Code: it.Code, Name: it.Name,
		Domain: it.Domain, Unit: string(it.Unit), FromReport: it.FromReport, Active: it.Active, Order: it.Order,
		Group: it.Group, MaxScore: it.MaxScore, UpdatedAt: it.UpdatedAt}
}

func toCatalogueItem(r catalogueRow) domain.CatalogueItem {
	return domain.CatalogueItem{Kind: domain.CatalogueKind(r.Kind), Code: r.Code, Name: r.Name, Domain: r.Domain,
		Unit: domain.UnitType(r.Unit), FromReport: r.FromReport, Active: r.Active, Order: r.Order,
		Group: r.Group, MaxScore: r.MaxScore, UpdatedAt: r.UpdatedAt.UTC()}
}

// SeedCatalogueItem inserts an item unless it exists.
func (s *Store) SeedCatalogueItem(ctx context.Context, it domain.CatalogueItem) error {
	err := insert(ctx, s, colCatalogues, toCatalogueRow(it))
	if err != nil && !errors.Is(err, domain.ErrDuplicate) {
		return fmt.Errorf("seed catalogue item: %w", err)
	}
	return nil
}

// PutCatalogueItem creates or replaces an item.
func (s *Store) PutCatalogueItem(ctx context.Context, it domain.CatalogueItem) error {
	row := toCatalogueRow(it)
	err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colCatalogues).ReplaceOne(ctx, bson.D{{Key: "_id", Value: row.ID}}, row, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("put catalogue item: %w", err)
	}
	return nil
}

// CatalogueItem returns one item.
func (s *Store) CatalogueItem(ctx context.Context, kind domain.CatalogueKind, code string) (domain.CatalogueItem, error) {
	r, err := findOne[catalogueRow](ctx, s, colCatalogues, bson.D{{Key: "_id", Value: string(kind) + "/" + code}})
	if err != nil {
		return domain.CatalogueItem{}, fmt.Errorf("catalogue item: %w", err)
	}
	return toCatalogueItem(r), nil
}

// Catalogue returns a catalogue in its order.
func (s *Store) Catalogue(ctx context.Context, kind domain.CatalogueKind) ([]domain.CatalogueItem, error) {
	rows, err := findAll[catalogueRow](ctx, s, colCatalogues, bson.D{{Key: "kind", Value: string(kind)}},
		bson.D{{Key: "order", Value: 1}, {Key: "code", Value: 1}})
	if err != nil {
		return nil, err
	}
	return convAll(rows, toCatalogueItem), nil
}

// ---- campaigns

type campaignRow struct {
	ID             string    `bson:"_id"`
	Name           string    `bson:"name"`
	StartDate      string    `bson:"startDate"`
	EndDate        string    `bson:"endDate"`
	CandidateShare float64   `bson:"candidateShare"`
	DistrictTarget int       `bson:"districtTarget"`
	TownTarget     int       `bson:"townTarget"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
}

func (r campaignRow) id() string { return r.ID }

func toCampaignRow(c domain.Campaign) campaignRow { return campaignRow(c) }

func toCampaign(r campaignRow) domain.Campaign {
	c := domain.Campaign(r)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

// InsertCampaign adds a campaign.
func (s *Store) InsertCampaign(ctx context.Context, c domain.Campaign) error {
	if err := insert(ctx, s, colCampaigns, toCampaignRow(c)); err != nil {
		return fmt.Errorf("insert campaign: %w", err)
	}
	return nil
}

// UpdateCampaign replaces a campaign.
func (s *Store) UpdateCampaign(ctx context.Context, c domain.Campaign) error {
	if err := replace(ctx, s, colCampaigns, c.ID, toCampaignRow(c)); err != nil {
		return fmt.Errorf("update campaign: %w", err)
	}
	return nil
}

// GetCampaign returns a campaign.
func (s *Store) GetCampaign(ctx context.Context, id string) (domain.Campaign, error) {
	r, err := findOne[campaignRow](ctx, s, colCampaigns, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("get campaign: %w", err)
	}
	return toCampaign(r), nil
}

// ListCampaigns lists campaigns in _id order.
func (s *Store) ListCampaigns(ctx context.Context, p domain.Page) (domain.List[domain.Campaign], error) {
	return findPage(ctx, s, colCampaigns, bson.D{}, p, toCampaign)
}

// ---- evaluations

type evaluationRow struct {
	ID             string    `bson:"_id"` // campaign/village
	CampaignID     string    `bson:"campaignId"`
	VillageID      string    `bson:"villageId"`
	TownID         string    `bson:"townId"`
	Score          float64   `bson:"score"`
	Manifestations []string  `bson:"manifestations"`
	EvaluatedBy    string    `bson:"evaluatedBy"`
	UpdatedAt      time.Time `bson:"updatedAt"`
}

func toEvaluation(r evaluationRow) domain.Evaluation {
	return domain.Evaluation{CampaignID: r.CampaignID, VillageID: r.VillageID, TownID: r.TownID, Score: r.Score,
		Manifestations: r.Manifestations, EvaluatedBy: r.EvaluatedBy, UpdatedAt: r.UpdatedAt.UTC()}
}

// PutEvaluation creates or replaces the evaluation of (campaign, village).
func (s *Store) PutEvaluation(ctx context.Context, e domain.Evaluation) error {
	row := evaluationRow{ID: e.CampaignID + "/" + e.VillageID, CampaignID: e.CampaignID, VillageID: e.VillageID, TownID: e.TownID,
		Score: e.Score, Manifestations: e.Manifestations, EvaluatedBy: e.EvaluatedBy, UpdatedAt: e.UpdatedAt}
	err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colEvaluations).ReplaceOne(ctx, bson.D{{Key: "_id", Value: row.ID}}, row, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("put evaluation: %w", err)
	}
	return nil
}

// Evaluations returns a campaign's evaluations of villages in the scope.
func (s *Store) Evaluations(ctx context.Context, campaignID string, sc domain.Scope) ([]domain.Evaluation, error) {
	filter := and(bson.D{{Key: "campaignId", Value: campaignID}}, villageScope(sc))
	rows, err := findAll[evaluationRow](ctx, s, colEvaluations, filter, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, err
	}
	return convAll(rows, toEvaluation), nil
}

// villageScope filters records that carry villageId and townId.
func villageScope(sc domain.Scope) bson.D {
	if sc.All {
		return bson.D{}
	}
	var or bson.A
	if len(sc.IDs) > 0 {
		or = append(or, bson.D{{Key: "villageId", Value: bson.D{{Key: "$in", Value: sc.IDs}}}})
	}
	if len(sc.TownIDs) > 0 {
		or = append(or, bson.D{{Key: "townId", Value: bson.D{{Key: "$in", Value: sc.TownIDs}}}})
	}
	switch len(or) {
	case 0:
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}
	case 1:
		return or[0].(bson.D)
	}
	return bson.D{{Key: "$or", Value: or}}
}

// ---- selections

type selectionRow struct {
	ID         string    `bson:"_id"` // campaign/village
	CampaignID string    `bson:"campaignId"`
	VillageID  string    `bson:"villageId"`
	TownID     string    `bson:"townId"`
	Level      string    `bson:"level"`
	Reason     string    `bson:"reason"`
	Override   string    `bson:"override,omitempty"`
	Candidate  bool      `bson:"candidate"`
	Rank       int       `bson:"rank"`
	SelectedBy string    `bson:"selectedBy"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func (r selectionRow) id() string { return r.ID }

func toSelection(r selectionRow) domain.Selection {
	return domain.Selection{CampaignID: r.CampaignID, VillageID: r.VillageID, TownID: r.TownID, Level: domain.Level(r.Level),
		Reason: r.Reason, Override: r.Override, Candidate: r.Candidate, Rank: r.Rank, SelectedBy: r.SelectedBy, CreatedAt: r.CreatedAt.UTC()}
}

// InsertSelection adds a selection; ErrDuplicate if the village is selected.
func (s *Store) InsertSelection(ctx context.Context, sel domain.Selection) error {
	row := selectionRow{ID: sel.CampaignID + "/" + sel.VillageID, CampaignID: sel.CampaignID, VillageID: sel.VillageID,
		TownID: sel.TownID, Level: string(sel.Level), Reason: sel.Reason, Override: sel.Override, Candidate: sel.Candidate,
		Rank: sel.Rank, SelectedBy: sel.SelectedBy, CreatedAt: sel.CreatedAt}
	if err := insert(ctx, s, colSelections, row); err != nil {
		return fmt.Errorf("insert selection: %w", err)
	}
	return nil
}

// GetSelection returns the selection of a village in a campaign.
func (s *Store) GetSelection(ctx context.Context, campaignID, villageID string) (domain.Selection, error) {
	r, err := findOne[selectionRow](ctx, s, colSelections, bson.D{{Key: "_id", Value: campaignID + "/" + villageID}})
	if err != nil {
		return domain.Selection{}, fmt.Errorf("get selection: %w", err)
	}
	return toSelection(r), nil
}

// ListSelections lists a campaign's selections.
func (s *Store) ListSelections(ctx context.Context, f domain.SelectionFilter, p domain.Page) (domain.List[domain.Selection], error) {
	filter := and(bson.D{{Key: "campaignId", Value: f.CampaignID}}, villageScope(f.Scope))
	if f.Level != "" {
		filter = and(filter, bson.D{{Key: "level", Value: string(f.Level)}})
	}
	if f.TownID != "" {
		filter = and(filter, bson.D{{Key: "townId", Value: f.TownID}})
	}
	return findPage(ctx, s, colSelections, filter, p, toSelection)
}

// SelectionsOfVillage returns a village's selections in every campaign.
func (s *Store) SelectionsOfVillage(ctx context.Context, villageID string) ([]domain.Selection, error) {
	rows, err := findAll[selectionRow](ctx, s, colSelections, bson.D{{Key: "villageId", Value: villageID}}, bson.D{{Key: "createdAt", Value: 1}})
	if err != nil {
		return nil, err
	}
	return convAll(rows, toSelection), nil
}

type noteRow struct {
	ID         string    `bson:"_id"`
	CampaignID string    `bson:"campaignId"`
	VillageID  string    `bson:"villageId"`
	TownID     string    `bson:"townId"`
	Source     string    `bson:"source"`
	Text       string    `bson:"text"`
	By         string    `bson:"by"`
	CreatedAt  time.Time `bson:"createdAt"`
}

// InsertSelectionNote adds a note to a selection.
func (s *Store) InsertSelectionNote(ctx context.Context, n domain.SelectionNote) error {
	if err := insert(ctx, s, colSelectionNotes, noteRow(n)); err != nil {
		return fmt.Errorf("insert selection note: %w", err)
	}
	return nil
}

// SelectionNotes returns a selection's notes, oldest first.
func (s *Store) SelectionNotes(ctx context.Context, campaignID, villageID string) ([]domain.SelectionNote, error) {
	rows, err := findAll[noteRow](ctx, s, colSelectionNotes,
		bson.D{{Key: "campaignId", Value: campaignID}, {Key: "villageId", Value: villageID}}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, err
	}
	return convAll(rows, func(r noteRow) domain.SelectionNote {
		n := domain.SelectionNote(r)
		n.CreatedAt = n.CreatedAt.UTC()
		return n
	}), nil
}
