package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

// ---- problems

type problemRow struct {
	ID          string    `bson:"_id"`
	VillageID   string    `bson:"villageId"`
	TownID      string    `bson:"townId"`
	CampaignID  string    `bson:"campaignId,omitempty"`
	Aspect      string    `bson:"aspect"`
	Description string    `bson:"description"`
	Source      string    `bson:"source"`
	Status      string    `bson:"status"`
	Resolution  string    `bson:"resolution,omitempty"`
	ResolvedAt  string    `bson:"resolvedAt,omitempty"`
	PhotoIDs    []string  `bson:"photoIds,omitempty"`
	CreatedBy   string    `bson:"createdBy"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
	Version     int       `bson:"version"`
}

func (r problemRow) id() string { return r.ID }

func toProblem(r problemRow) domain.Problem {
	p := domain.Problem(r)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p
}

// InsertProblem adds a problem.
func (s *Store) InsertProblem(ctx context.Context, p domain.Problem) error {
	defer s.ledgerChanged()
	if err := insert(ctx, s, colProblems, problemRow(p)); err != nil {
		return fmt.Errorf("insert problem: %w", err)
	}
	return nil
}

// UpdateProblem replaces a problem whose stored version is p.Version-1.
func (s *Store) UpdateProblem(ctx context.Context, p domain.Problem) error {
	defer s.ledgerChanged()
	if err := replaceVersion(ctx, s, colProblems, p.ID, p.Version, problemRow(p)); err != nil {
		return fmt.Errorf("update problem: %w", err)
	}
	return nil
}

// GetProblem returns a problem.
func (s *Store) GetProblem(ctx context.Context, id string) (domain.Problem, error) {
	r, err := findOne[problemRow](ctx, s, colProblems, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Problem{}, fmt.Errorf("get problem: %w", err)
	}
	return toProblem(r), nil
}

// ListProblems lists problems in _id order.
func (s *Store) ListProblems(ctx context.Context, f domain.ProblemFilter, p domain.Page) (domain.List[domain.Problem], error) {
	filter := villageScope(f.Scope)
	for k, v := range map[string]string{"villageId": f.VillageID, "status": f.Status, "aspect": f.Aspect} {
		if v != "" {
			filter = and(filter, bson.D{{Key: k, Value: v}})
		}
	}
	return findPage(ctx, s, colProblems, filter, p, toProblem)
}

// ---- targets

type targetRow struct {
	ID         string    `bson:"_id"`
	VillageID  string    `bson:"villageId"`
	TownID     string    `bson:"townId"`
	CampaignID string    `bson:"campaignId,omitempty"`
	Domain     string    `bson:"domain"`
	Task       string    `bson:"task"`
	Kind       string    `bson:"kind"`
	Title      string    `bson:"title"`
	Year       int       `bson:"year"`
	Due        string    `bson:"due,omitempty"`
	Percent    int       `bson:"percent"`
	ProgressAt string    `bson:"progressAt,omitempty"`
	CreatedBy  string    `bson:"createdBy"`
	CreatedAt  time.Time `bson:"createdAt"`
	UpdatedAt  time.Time `bson:"updatedAt"`
	Version    int       `bson:"version"`
}

func (r targetRow) id() string { return r.ID }

func toTarget(r targetRow) domain.Target {
	t := domain.Target(r)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t
}

// InsertTarget adds a target item.
func (s *Store) InsertTarget(ctx context.Context, t domain.Target) error {
	defer s.ledgerChanged()
	if err := insert(ctx, s, colTargets, targetRow(t)); err != nil {
		return fmt.Errorf("insert target: %w", err)
	}
	return nil
}

// UpdateTarget replaces a target whose stored version is t.Version-1.
func (s *Store) UpdateTarget(ctx context.Context, t domain.Target) error {
	defer s.ledgerChanged()
	if err := replaceVersion(ctx, s, colTargets, t.ID, t.Version, targetRow(t)); err != nil {
		return fmt.Errorf("update target: %w", err)
	}
	return nil
}

// GetTarget returns a target item.
func (s *Store) GetTarget(ctx context.Context, id string) (domain.Target, error) {
	r, err := findOne[targetRow](ctx, s, colTargets, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Target{}, fmt.Errorf("get target: %w", err)
	}
	return toTarget(r), nil
}

// ListTargets lists target items in _id order.
func (s *Store) ListTargets(ctx context.Context, f domain.TargetFilter, p domain.Page) (domain.List[domain.Target], error) {
	filter := villageScope(f.Scope)
	for k, v := range map[string]string{"villageId": f.VillageID, "domain": f.Domain, "kind": f.Kind} {
		if v != "" {
			filter = and(filter, bson.D{{Key: k, Value: v}})
		}
	}
	if f.Year != 0 {
		filter = and(filter, bson.D{{Key: "year", Value: f.Year}})
	}
	return findPage(ctx, s, colTargets, filter, p, toTarget)
}

type progressRow struct {
	ID        string    `bson:"_id"`
	TargetID  string    `bson:"targetId"`
	VillageID string    `bson:"villageId"`
	TownID    string    `bson:"townId"`
	Date      string    `bson:"date"`
	Percent   int       `bson:"percent"`
	Note      string    `bson:"note,omitempty"`
	By        string    `bson:"by"`
	CreatedAt time.Time `bson:"createdAt"`
}

// InsertProgress adds a progress entry.
func (s *Store) InsertProgress(ctx context.Context, p domain.Progress) error {
	defer s.ledgerChanged()
	if err := insert(ctx, s, colProgress, progressRow(p)); err != nil {
		return fmt.Errorf("insert progress: %w", err)
	}
	return nil
}

// ProgressOf returns a target's progress, oldest first.
func (s *Store) ProgressOf(ctx context.Context, targetID string) ([]domain.Progress, error) {
	rows, err := findAll[progressRow](ctx, s, colProgress, bson.D{{Key: "targetId", Value: targetID}},
		bson.D{{Key: "date", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return nil, err
	}
	return convAll(rows, func(r progressRow) domain.Progress {
		p := domain.Progress(r)
		p.CreatedAt = p.CreatedAt.UTC()
		return p
	}), nil
}

// ---- units

type unitRow struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Type      string    `bson:"type"`
	Code      string    `bson:"code,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func (r unitRow) id() string { return r.ID }

func toUnitRow(u domain.Unit) unitRow {
	return unitRow{ID: u.ID, Name: u.Name, Type: string(u.Type), Code: u.Code, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func toUnit(r unitRow) domain.Unit {
	return domain.Unit{ID: r.ID, Name: r.Name, Type: domain.UnitType(r.Type), Code: r.Code, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// InsertUnit adds a unit; ErrDuplicate when the name is taken.
func (s *Store) InsertUnit(ctx context.Context, u domain.Unit) error {
	if err := insert(ctx, s, colUnits, toUnitRow(u)); err != nil {
		return fmt.Errorf("insert unit: %w", err)
	}
	return nil
}

// UpdateUnit replaces a unit.
func (s *Store) UpdateUnit(ctx context.Context, u domain.Unit) error {
	if err := replace(ctx, s, colUnits, u.ID, toUnitRow(u)); err != nil {
		return fmt.Errorf("update unit: %w", err)
	}
	return nil
}

// GetUnit returns a unit.
func (s *Store) GetUnit(ctx context.Context, id string) (domain.Unit, error) {
	r, err := findOne[unitRow](ctx, s, colUnits, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Unit{}, fmt.Errorf("get unit: %w", err)
	}
	return toUnit(r), nil
}

// ListUnits lists units in _id order.
func (s *Store) ListUnits(ctx context.Context, typ domain.UnitType, p domain.Page) (domain.List[domain.Unit], error) {
	filter := bson.D{}
	if typ != "" {
		filter = bson.D{{Key: "type", Value: string(typ)}}
	}
	return findPage(ctx, s, colUnits, filter, p, toUnit)
}

// UnitsByIDs returns the existing units among ids.
func (s *Store) UnitsByIDs(ctx context.Context, ids []string) ([]domain.Unit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := findAll[unitRow](ctx, s, colUnits, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, nil)
	if err != nil {
		return nil, err
	}
	return convAll(rows, toUnit), nil
}

// ---- teams

type teamRow struct {
	ID           string    `bson:"_id"`
	CampaignID   string    `bson:"campaignId"`
	VillageID    string    `bson:"villageId"`
	TownID       string    `bson:"townId"`
	Level        string    `bson:"level"`
	LeaderID     string    `bson:"leaderId"`
	MemberIDs    []string  `bson:"memberIds"`
	TownMemberID string    `bson:"townMemberId,omitempty"`
	People       []string  `bson:"people"` // every account of the team, for "teams of" queries
	CreatedAt    time.Time `bson:"createdAt"`
	UpdatedAt    time.Time `bson:"updatedAt"`
	Version      int       `bson:"version"`
}

func (r teamRow) id() string { return r.ID }

func toTeamRow(t domain.Team) teamRow {
	return teamRow{ID: t.ID, CampaignID: t.CampaignID, VillageID: t.VillageID, TownID: t.TownID, Level: string(t.Level),
		LeaderID: t.LeaderID, MemberIDs: t.MemberIDs, TownMemberID: t.TownMemberID, People: t.People(),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

func toTeam(r teamRow) domain.Team {
	return domain.Team{ID: r.ID, CampaignID: r.CampaignID, VillageID: r.VillageID, TownID: r.TownID, Level: domain.Level(r.Level),
		LeaderID: r.LeaderID, MemberIDs: r.MemberIDs, TownMemberID: r.TownMemberID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
}

// InsertTeam adds a team; ErrDuplicate if its campaign and village have one.
func (s *Store) InsertTeam(ctx context.Context, t domain.Team) error {
	// The marker makes "one team per village and campaign" atomic on every backend.
	if err := insert(ctx, s, colTeamSlots, markerRow{ID: t.CampaignID + "/" + t.VillageID, At: t.CreatedAt}); err != nil {
		return fmt.Errorf("insert team: %w", err)
	}
	if err := insert(ctx, s, colTeams, toTeamRow(t)); err != nil {
		// Free the slot again so the team can be formed on a retry.
		_ = s.write(context.WithoutCancel(ctx), func(ctx context.Context) error {
			_, derr := s.db.Collection(colTeamSlots).DeleteOne(ctx, bson.D{{Key: "_id", Value: t.CampaignID + "/" + t.VillageID}})
			return derr
		})
		return fmt.Errorf("insert team: %w", err)
	}
	return nil
}

// UpdateTeam replaces a team whose stored version is t.Version-1.
func (s *Store) UpdateTeam(ctx context.Context, t domain.Team) error {
	if err := replaceVersion(ctx, s, colTeams, t.ID, t.Version, toTeamRow(t)); err != nil {
		return fmt.Errorf("update team: %w", err)
	}
	return nil
}

// GetTeam returns a team.
func (s *Store) GetTeam(ctx context.Context, id string) (domain.Team, error) {
	r, err := findOne[teamRow](ctx, s, colTeams, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Team{}, fmt.Errorf("get team: %w", err)
	}
	return toTeam(r), nil
}

// ListTeams lists teams in _id order.
func (s *Store) ListTeams(ctx context.Context, f domain.TeamFilter, p domain.Page) (domain.List[domain.Team], error) {
	filter := villageScope(f.Scope)
	for k, v := range map[string]string{"campaignId": f.CampaignID, "villageId": f.VillageID, "people": f.MemberID} {
		if v != "" {
			filter = and(filter, bson.D{{Key: k, Value: v}})
		}
	}
	return findPage(ctx, s, colTeams, filter, p, toTeam)
}

// TeamsOf returns the teams an account leads, serves on or assists.
func (s *Store) TeamsOf(ctx context.Context, userID string) ([]domain.Team, error) {
	rows, err := findAll[teamRow](ctx, s, colTeams, bson.D{{Key: "people", Value: userID}}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, fmt.Errorf("teams of: %w", err)
	}
	return convAll(rows, toTeam), nil
}

// ---- trainings

type trainingRow struct {
	ID                   string    `bson:"_id"`
	Course               string    `bson:"course"`
	Kind                 string    `bson:"kind"`
	StartDate            string    `bson:"startDate"`
	EndDate              string    `bson:"endDate"`
	Location             string    `bson:"location,omitempty"`
	ParticipantIDs       []string  `bson:"participantIds"`
	ExternalParticipants int       `bson:"externalParticipants"`
	CreatedBy            string    `bson:"createdBy"`
	CreatedAt            time.Time `bson:"createdAt"`
}

func (r trainingRow) id() string { return r.ID }

// InsertTraining adds a training.
func (s *Store) InsertTraining(ctx context.Context, t domain.Training) error {
	if err := insert(ctx, s, colTrainings, trainingRow(t)); err != nil {
		return fmt.Errorf("insert training: %w", err)
	}
	return nil
}

// ListTrainings lists trainings, optionally those an account took part in.
func (s *Store) ListTrainings(ctx context.Context, participantID string, p domain.Page) (domain.List[domain.Training], error) {
	filter := bson.D{}
	if participantID != "" {
		filter = bson.D{{Key: "participantIds", Value: participantID}}
	}
	return findPage(ctx, s, colTrainings, filter, p, func(r trainingRow) domain.Training {
		t := domain.Training(r)
		t.CreatedAt = t.CreatedAt.UTC()
		return t
	})
}
