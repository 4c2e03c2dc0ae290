package domain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Campaign is one round of rectification (整顿轮次).
type Campaign struct {
	ID             string
	Name           string
	StartDate      string // YYYY-MM-DD
	EndDate        string
	CandidateShare float64 // the worst share of evaluated villages that become candidates
	DistrictTarget int     // district-level villages the round aims at (区级)
	TownTarget     int     // town-level villages (镇级)
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DefaultCandidateShare is the report's 15 %.
const DefaultCandidateShare = 0.15

// Evaluation is a town's assessment of one village in a campaign: its
// total score (higher is better) and the manifestations of weakness found.
type Evaluation struct {
	CampaignID     string
	VillageID      string
	TownID         string
	Score          float64
	Manifestations []string
	EvaluatedBy    string
	UpdatedAt      time.Time
}

// Score limits.
const (
	MinScore = 0
	MaxScore = 100
)

// Level is how a selected village is rectified.
type Level string

// The levels.
const (
	LevelDistrict Level = "district" // 区级: the district's teams, the worst villages
	LevelTown     Level = "town"     // 镇级: the town's own team
)

// Selection puts a village into a campaign's rectification (and so gives it
// its ledger, 整顿台账).
type Selection struct {
	CampaignID string
	VillageID  string
	TownID     string
	Level      Level
	Reason     string
	// Override says why a village that is not a candidate was selected.
	Override   string
	Candidate  bool
	Rank       int // district rank when selected; 0 if not evaluated
	SelectedBy string
	CreatedAt  time.Time
}

// NoteSource is the department a selection note comes from.
type NoteSource string

// The note sources (纪委、政法、信访 …).
var NoteSources = []string{"discipline", "political_legal", "petition", "field_check", "previous_round", "other"}

// SelectionNote is an opinion attached to a selection.
type SelectionNote struct {
	ID         string
	CampaignID string
	VillageID  string
	TownID     string
	Source     string
	Text       string
	By         string
	CreatedAt  time.Time
}

// SelectionFilter narrows a selection listing.
type SelectionFilter struct {
	CampaignID string
	Scope      Scope // villages
	Level      Level
	TownID     string
}

// CampaignStore keeps campaigns, evaluations and selections.
type CampaignStore interface {
	InsertCampaign(ctx context.Context, c Campaign) error
	UpdateCampaign(ctx context.Context, c Campaign) error
	GetCampaign(ctx context.Context, id string) (Campaign, error)
	ListCampaigns(ctx context.Context, p Page) (List[Campaign], error)

	// PutEvaluation creates or replaces the evaluation of (campaign, village).
	PutEvaluation(ctx context.Context, e Evaluation) error
	// Evaluations returns a campaign's evaluations of villages in the scope.
	Evaluations(ctx context.Context, campaignID string, villages Scope) ([]Evaluation, error)

	// InsertSelection adds a selection; ErrDuplicate if the village is selected already.
	InsertSelection(ctx context.Context, s Selection) error
	GetSelection(ctx context.Context, campaignID, villageID string) (Selection, error)
	ListSelections(ctx context.Context, f SelectionFilter, p Page) (List[Selection], error)
	SelectionsOfVillage(ctx context.Context, villageID string) ([]Selection, error)
	InsertSelectionNote(ctx context.Context, n SelectionNote) error
	SelectionNotes(ctx context.Context, campaignID, villageID string) ([]SelectionNote, error)
}

// CampaignService runs rounds: evaluation, ranking and selection.
type CampaignService struct {
	IDs        IDs // ids of what it creates; nil: NewID
	Store      CampaignStore
	Org        OrgStore
	Catalogues CatalogueStore
	Audit      Auditor
	Now        Clock
}

// CampaignInput creates or (with nil fields left alone) changes a campaign.
type CampaignInput struct {
	Name           *string
	StartDate      *string
	EndDate        *string
	CandidateShare *float64
	DistrictTarget *int
	TownTarget     *int
}

func (in CampaignInput) apply(c *Campaign, v *Validator) {
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.StartDate != nil {
		c.StartDate = *in.StartDate
	}
	if in.EndDate != nil {
		c.EndDate = *in.EndDate
	}
	if in.CandidateShare != nil {
		c.CandidateShare = *in.CandidateShare
	}
	if in.DistrictTarget != nil {
		c.DistrictTarget = *in.DistrictTarget
	}
	if in.TownTarget != nil {
		c.TownTarget = *in.TownTarget
	}
	if v.Required("name", c.Name) {
		v.MaxLen("name", c.Name, maxName)
	}
	checkDate(v, "startDate", c.StartDate, true)
	checkDate(v, "endDate", c.EndDate, true)
	if ValidDate(c.StartDate) && ValidDate(c.EndDate) {
		s, _ := time.Parse(DateLayout, c.StartDate)
		e, _ := time.Parse(DateLayout, c.EndDate)
		if !e.After(s) {
			v.Add("endDate", FieldRange, "endDate must be after startDate")
		} else if e.Sub(s) > 5*366*24*time.Hour {
			v.Add("endDate", FieldRange, "a round lasts at most 5 years")
		}
	}
	if !(c.CandidateShare > 0 && c.CandidateShare <= 1) {
		v.Add("candidateShare", FieldRange, "candidateShare must be more than 0 and at most 1")
	}
	if c.DistrictTarget < 0 || c.DistrictTarget > 10000 {
		v.Add("districtTarget", FieldRange, "districtTarget must be from 0 to 10000")
	}
	if c.TownTarget < 0 || c.TownTarget > 10000 {
		v.Add("townTarget", FieldRange, "townTarget must be from 0 to 10000")
	}
}

// Create adds a campaign. Admins only.
func (s CampaignService) Create(ctx context.Context, c Caller, in CampaignInput) (Campaign, error) {
	if c.Role != RoleAdmin {
		return Campaign{}, Forbidden()
	}
	cp := Campaign{CandidateShare: DefaultCandidateShare}
	var v Validator
	in.apply(&cp, &v)
	if err := v.Err(); err != nil {
		return Campaign{}, err
	}
	now := s.Now()
	cp.ID, cp.CreatedAt, cp.UpdatedAt = s.IDs.New(now), now, now
	if err := s.Store.InsertCampaign(ctx, cp); err != nil {
		return Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	return cp, s.Audit.Record(ctx, c, "campaign", cp.ID, "create", "")
}

// Get returns a campaign; every role may read campaigns.
func (s CampaignService) Get(ctx context.Context, _ Caller, id string) (Campaign, error) {
	cp, err := s.Store.GetCampaign(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Campaign{}, NotFound("campaign")
	}
	return cp, err
}

// List lists campaigns.
func (s CampaignService) List(ctx context.Context, _ Caller, p Page) (List[Campaign], error) {
	return s.Store.ListCampaigns(ctx, p)
}

// Update changes a campaign. Admins only.
func (s CampaignService) Update(ctx context.Context, c Caller, id string, in CampaignInput) (Campaign, error) {
	cp, err := s.Get(ctx, c, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.Role != RoleAdmin {
		return Campaign{}, Forbidden()
	}
	var v Validator
	in.apply(&cp, &v)
	if err := v.Err(); err != nil {
		return Campaign{}, err
	}
	cp.UpdatedAt = s.Now()
	if err := s.Store.UpdateCampaign(ctx, cp); err != nil {
		return Campaign{}, fmt.Errorf("update campaign: %w", err)
	}
	return cp, s.Audit.Record(ctx, c, "campaign", cp.ID, "update", "")
}

// EvaluationInput is a town's assessment of a village.
type EvaluationInput struct {
	Score          *float64
	Manifestations []string
}

// Evaluate records (or replaces) the evaluation of a village. Admins, and
// town admins for the villages of their town.
func (s CampaignService) Evaluate(ctx context.Context, c Caller, campaignID, villageID string, in EvaluationInput) (Evaluation, error) {
	if _, err := s.Get(ctx, c, campaignID); err != nil {
		return Evaluation{}, err
	}
	vil, err := visibleVillage(ctx, s.Org, c, villageID)
	if err != nil {
		return Evaluation{}, fmt.Errorf("evaluate: %w", err)
	}
	if !canWriteTown(c, vil.TownID) {
		return Evaluation{}, Forbidden()
	}
	var v Validator
	switch {
	case in.Score == nil:
		v.Add("score", FieldRequired, "score is required")
	case math.IsNaN(*in.Score) || *in.Score < MinScore || *in.Score > MaxScore:
		v.Add("score", FieldRange, fmt.Sprintf("score must be from %d to %d", MinScore, MaxScore))
	}
	if in.Manifestations == nil {
		in.Manifestations = []string{}
	}
	if err := checkCodes(ctx, s.Catalogues, &v, "manifestations", CatManifestations, in.Manifestations); err != nil {
		return Evaluation{}, fmt.Errorf("evaluate: %w", err)
	}
	if err := v.Err(); err != nil {
		return Evaluation{}, err
	}
	e := Evaluation{CampaignID: campaignID, VillageID: vil.ID, TownID: vil.TownID, Score: *in.Score,
		Manifestations: slices.Sorted(slices.Values(in.Manifestations)), EvaluatedBy: c.UserID, UpdatedAt: s.Now()}
	if err := s.Store.PutEvaluation(ctx, e); err != nil {
		return Evaluation{}, fmt.Errorf("evaluate: %w", err)
	}
	return e, s.Audit.Record(ctx, c, "evaluation", campaignID+"/"+vil.ID, "put", vil.TownID)
}

// RankRow is one village in a ranking.
type RankRow struct {
	Rank           int // 1 is the best of the district
	TownRank       int // 1 is the best of its town
	VillageID      string
	VillageName    string
	TownID         string
	TownName       string
	Score          float64
	Manifestations []string
	Candidate      bool
}

// Ranking is a campaign's evaluated villages, best first.
type Ranking struct {
	Evaluated  int
	Candidates int
	Rows       []RankRow
}

// TieBreak says how villages with equal scores are ordered.
const TieBreak = "score descending; then fewer manifestations first; then village code, then village id, ascending"

// CandidateCount is how many of n evaluated villages are candidates: the
// share of n rounded to the nearest whole village (602 × 0.15 = 90.3 → 90).
func CandidateCount(n int, share float64) int {
	return min(n, int(math.Floor(float64(n)*share+0.5)))
}

// Rank orders a campaign's evaluations best to worst over the whole
// district, marks the worst share as candidates, and returns the rows the
// caller may see (townID narrows them to one town). Ranks and candidacy
// are always computed over the whole district.
func (s CampaignService) Rank(ctx context.Context, c Caller, campaignID, townID string) (Ranking, error) {
	cp, err := s.Get(ctx, c, campaignID)
	if err != nil {
		return Ranking{}, err
	}
	if !c.ReadsAll() && c.Role != RoleTownAdmin {
		return Ranking{}, Forbidden()
	}
	evals, err := s.Store.Evaluations(ctx, campaignID, Scope{All: true})
	if err != nil {
		return Ranking{}, fmt.Errorf("rank: %w", err)
	}
	ids := make([]string, len(evals))
	for i, e := range evals {
		ids[i] = e.VillageID
	}
	vils, err := s.Org.VillagesByIDs(ctx, ids)
	if err != nil {
		return Ranking{}, fmt.Errorf("rank: %w", err)
	}
	byID := map[string]Village{}
	for _, v := range vils {
		byID[v.ID] = v
	}
	towns := map[string]string{}
	p := Page{Limit: MaxPageLimit}
	for {
		l, err := s.Org.ListTowns(ctx, TownFilter{Scope: Scope{All: true}}, p)
		if err != nil {
			return Ranking{}, fmt.Errorf("rank: %w", err)
		}
		for _, t := range l.Items {
			towns[t.ID] = t.Name
		}
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	rows := make([]RankRow, 0, len(evals))
	for _, e := range evals {
		v, ok := byID[e.VillageID]
		if !ok {
			continue // the village was removed
		}
		rows = append(rows, RankRow{VillageID: v.ID, VillageName: v.Name, TownID: v.TownID, TownName: towns[v.TownID],
			Score: e.Score, Manifestations: e.Manifestations})
	}
	slices.SortFunc(rows, func(a, b RankRow) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(len(a.Manifestations), len(b.Manifestations)),
			cmp.Compare(byID[a.VillageID].Code, byID[b.VillageID].Code),
			cmp.Compare(a.VillageID, b.VillageID),
		)
	})
	n := CandidateCount(len(rows), cp.CandidateShare)
	townRank := map[string]int{}
	for i := range rows {
		rows[i].Rank = i + 1
		townRank[rows[i].TownID]++
		rows[i].TownRank = townRank[rows[i].TownID]
		rows[i].Candidate = i >= len(rows)-n
	}
	out := Ranking{Evaluated: len(rows), Candidates: n}
	scope := c.VillageScope()
	for _, r := range rows {
		if scope.Matches(r.VillageID, r.TownID) && (townID == "" || r.TownID == townID) {
			out.Rows = append(out.Rows, r)
		}
	}
	return out, nil
}

// Candidates returns the candidate rows of a ranking, worst first: the
// list of weak villages (薄弱村清单).
func (s CampaignService) Candidates(ctx context.Context, c Caller, campaignID, townID string) (Ranking, error) {
	r, err := s.Rank(ctx, c, campaignID, townID)
	if err != nil {
		return r, err
	}
	var rows []RankRow
	for i := len(r.Rows) - 1; i >= 0; i-- {
		if r.Rows[i].Candidate {
			rows = append(rows, r.Rows[i])
		}
	}
	r.Rows = rows
	return r, nil
}

// SelectionInput selects a village.
type SelectionInput struct {
	VillageID string
	Level     Level
	Reason    string
	Override  string
	Notes     []NoteInput
}

// NoteInput is one department's note on a selection.
type NoteInput struct {
	Source string
	Text   string
}

func validateNote(v *Validator, prefix string, n NoteInput) {
	if !slices.Contains(NoteSources, n.Source) {
		v.Add(prefix+"source", FieldInvalid, "source must be one of "+strings.Join(NoteSources, ", "))
	}
	if v.Required(prefix+"text", strings.TrimSpace(n.Text)) {
		v.MaxLen(prefix+"text", n.Text, 2000)
	}
}

// Select puts a village into a campaign. Only candidates may be selected
// unless an admin gives an override reason. A town admin selects town-level
// villages of its own town.
func (s CampaignService) Select(ctx context.Context, c Caller, campaignID string, in SelectionInput) (Selection, []SelectionNote, error) {
	if c.Role != RoleAdmin && c.Role != RoleTownAdmin {
		return Selection{}, nil, Forbidden()
	}
	if _, err := s.Get(ctx, c, campaignID); err != nil {
		return Selection{}, nil, err
	}
	var v Validator
	in.Reason, in.Override = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Override)
	if in.Level != LevelDistrict && in.Level != LevelTown {
		v.Add("level", FieldInvalid, "level must be district or town")
	} else if c.Role == RoleTownAdmin && in.Level != LevelTown {
		v.Add("level", FieldInvalid, "a town admin selects town-level villages only")
	}
	if v.Required("reason", in.Reason) {
		v.MaxLen("reason", in.Reason, 2000)
	}
	v.MaxLen("override", in.Override, 2000)
	if len(in.Notes) > 20 {
		v.Add("notes", FieldRange, "at most 20 notes")
	}
	for i, n := range in.Notes {
		validateNote(&v, fmt.Sprintf("notes[%d].", i), n)
	}
	var vil Village
	if v.Required("villageId", in.VillageID) {
		var err error
		vil, err = s.Org.GetVillage(ctx, in.VillageID, c.VillageScope())
		if errors.Is(err, ErrNotFound) {
			v.Add("villageId", FieldUnknown, "no such village in your scope")
		} else if err != nil {
			return Selection{}, nil, fmt.Errorf("select: %w", err)
		}
	}
	if err := v.Err(); err != nil {
		return Selection{}, nil, err
	}
	if _, err := s.Store.GetSelection(ctx, campaignID, vil.ID); err == nil {
		return Selection{}, nil, alreadySelected()
	} else if !errors.Is(err, ErrNotFound) {
		return Selection{}, nil, fmt.Errorf("select: %w", err)
	}
	rank, err := s.Rank(ctx, System(c.RequestID), campaignID, vil.TownID)
	if err != nil {
		return Selection{}, nil, err
	}
	sel := Selection{CampaignID: campaignID, VillageID: vil.ID, TownID: vil.TownID, Level: in.Level,
		Reason: in.Reason, Override: in.Override, SelectedBy: c.UserID, CreatedAt: s.Now()}
	for _, r := range rank.Rows {
		if r.VillageID == vil.ID {
			sel.Candidate, sel.Rank = r.Candidate, r.Rank
		}
	}
	if !sel.Candidate {
		if c.Role != RoleAdmin || in.Override == "" {
			return Selection{}, nil, &Error{Kind: KindInvalid, Code: "not_candidate",
				Message: "the village is not on the candidate list; an admin may select it with an override reason",
				Fields:  []FieldError{{Field: "villageId", Code: FieldInvalid, Message: "not a candidate of this campaign"}}}
		}
	} else {
		sel.Override = ""
	}
	if err := s.Store.InsertSelection(ctx, sel); errors.Is(err, ErrDuplicate) {
		return Selection{}, nil, alreadySelected()
	} else if err != nil {
		return Selection{}, nil, fmt.Errorf("select: %w", err)
	}
	var notes []SelectionNote
	for _, n := range in.Notes {
		note, err := s.addNote(ctx, c, sel, n)
		if err != nil {
			return sel, notes, err
		}
		notes = append(notes, note)
	}
	return sel, notes, s.Audit.Record(ctx, c, "selection", campaignID+"/"+vil.ID, "create", vil.TownID)
}

func alreadySelected() error {
	return &Error{Kind: KindConflict, Code: "already_selected", Message: "this village is already selected in this campaign",
		Fields: []FieldError{{Field: "villageId", Code: FieldTaken, Message: "already selected in this campaign"}}}
}

func (s CampaignService) addNote(ctx context.Context, c Caller, sel Selection, n NoteInput) (SelectionNote, error) {
	now := s.Now()
	note := SelectionNote{ID: s.IDs.New(now), CampaignID: sel.CampaignID, VillageID: sel.VillageID, TownID: sel.TownID,
		Source: n.Source, Text: strings.TrimSpace(n.Text), By: c.UserID, CreatedAt: now}
	if err := s.Store.InsertSelectionNote(ctx, note); err != nil {
		return SelectionNote{}, fmt.Errorf("add selection note: %w", err)
	}
	return note, nil
}

// GetSelection returns a selection in the caller's scope, with its notes.
func (s CampaignService) GetSelection(ctx context.Context, c Caller, campaignID, villageID string) (Selection, []SelectionNote, error) {
	sel, err := s.Store.GetSelection(ctx, campaignID, villageID)
	if errors.Is(err, ErrNotFound) || err == nil && !c.CanSeeVillage(sel.VillageID, sel.TownID) {
		return Selection{}, nil, NotFound("selection")
	} else if err != nil {
		return Selection{}, nil, fmt.Errorf("get selection: %w", err)
	}
	notes, err := s.Store.SelectionNotes(ctx, campaignID, villageID)
	if err != nil {
		return Selection{}, nil, fmt.Errorf("get selection: %w", err)
	}
	return sel, notes, nil
}

// AddNote attaches a department's note to a selection: admins, and town
// admins for their town's villages.
func (s CampaignService) AddNote(ctx context.Context, c Caller, campaignID, villageID string, n NoteInput) (SelectionNote, error) {
	sel, _, err := s.GetSelection(ctx, c, campaignID, villageID)
	if err != nil {
		return SelectionNote{}, err
	}
	if !canWriteTown(c, sel.TownID) {
		return SelectionNote{}, Forbidden()
	}
	var v Validator
	validateNote(&v, "", n)
	if err := v.Err(); err != nil {
		return SelectionNote{}, err
	}
	note, err := s.addNote(ctx, c, sel, n)
	if err != nil {
		return SelectionNote{}, err
	}
	return note, s.Audit.Record(ctx, c, "selection_note", note.ID, "create", sel.TownID)
}

// ListSelections lists a campaign's selections in the caller's scope.
func (s CampaignService) ListSelections(ctx context.Context, c Caller, f SelectionFilter, p Page) (List[Selection], error) {
	if _, err := s.Get(ctx, c, f.CampaignID); err != nil {
		return List[Selection]{}, err
	}
	f.Scope = c.VillageScope()
	if f.Scope.Empty() {
		return List[Selection]{}, nil
	}
	return s.Store.ListSelections(ctx, f, p)
}

// ListEvaluations lists a campaign's evaluations in the caller's scope.
func (s CampaignService) ListEvaluations(ctx context.Context, c Caller, campaignID string) ([]Evaluation, error) {
	if _, err := s.Get(ctx, c, campaignID); err != nil {
		return nil, err
	}
	sc := c.VillageScope()
	if sc.Empty() {
		return nil, nil
	}
	return s.Store.Evaluations(ctx, campaignID, sc)
}
