package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Unit is a dispatching unit (派出单位): a district department that sends cadres.
type Unit struct {
	ID        string
	Name      string
	Type      UnitType
	Code      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgeTier is the senior / middle / young mix of a team (老—中—青).
type AgeTier string

// The age tiers.
const (
	TierSenior AgeTier = "senior"
	TierMiddle AgeTier = "middle"
	TierYoung  AgeTier = "young"
)

// AgeTiers lists the tiers from senior to young.
var AgeTiers = []AgeTier{TierSenior, TierMiddle, TierYoung}

// Valid reports whether t is a known tier.
func (t AgeTier) Valid() bool { return slices.Contains(AgeTiers, t) }

// TierOf is an account's tier: the one it was given, or else the one its
// birth year gives in year (50 and over senior, 35–49 middle, under 35 young).
func TierOf(given AgeTier, birthYear, year int) AgeTier {
	switch {
	case given != "":
		return given
	case birthYear == 0:
		return ""
	case year-birthYear >= 50:
		return TierSenior
	case year-birthYear >= 35:
		return TierMiddle
	}
	return TierYoung
}

// Team is the work team of a selected village (工作专班 / 工作组): its
// responsible leader (包靠领导), members from units, and the town's
// assisting leadership member.
type Team struct {
	ID           string
	CampaignID   string
	VillageID    string
	TownID       string
	Level        Level
	LeaderID     string
	MemberIDs    []string
	TownMemberID string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int
}

// People lists every account of the team once: leader, members, town member.
func (t Team) People() []string {
	out := []string{}
	for _, id := range append(append([]string{t.LeaderID}, t.MemberIDs...), t.TownMemberID) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// TeamFilter narrows a team listing.
type TeamFilter struct {
	Scope      Scope // villages
	CampaignID string
	VillageID  string
	MemberID   string
}

// TeamStore keeps units and teams.
type TeamStore interface {
	InsertUnit(ctx context.Context, u Unit) error
	UpdateUnit(ctx context.Context, u Unit) error
	GetUnit(ctx context.Context, id string) (Unit, error)
	ListUnits(ctx context.Context, typ UnitType, p Page) (List[Unit], error)
	UnitsByIDs(ctx context.Context, ids []string) ([]Unit, error)

	// InsertTeam adds a team; ErrDuplicate if its campaign and village have one.
	InsertTeam(ctx context.Context, t Team) error
	// UpdateTeam replaces t if its stored version is t.Version-1; ErrStale otherwise.
	UpdateTeam(ctx context.Context, t Team) error
	GetTeam(ctx context.Context, id string) (Team, error)
	ListTeams(ctx context.Context, f TeamFilter, p Page) (List[Team], error)
	// TeamsOf returns the teams an account leads, serves on or assists.
	TeamsOf(ctx context.Context, userID string) ([]Team, error)
}

// TeamService manages units and teams.
type TeamService struct {
	IDs       IDs // ids of what it creates; nil: NewID
	Store     TeamStore
	Campaigns CampaignStore
	Org       OrgStore
	Users     UserStore
	Problems  ProblemStore
	Catalogue CatalogueStore
	Audit     Auditor
	Now       Clock
	// Callers is told of team changes (team members' scopes change).
	Callers *CallerCache
}

// UnitInput creates or (nil fields left alone) changes a unit.
type UnitInput struct {
	Name *string
	Type *string
	Code *string
}

func (in UnitInput) apply(u *Unit, v *Validator) {
	set(&u.Name, in.Name)
	set(&u.Code, in.Code)
	if in.Type != nil {
		u.Type = UnitType(*in.Type)
	}
	if v.Required("name", u.Name) {
		v.MaxLen("name", u.Name, maxName)
	}
	v.MaxLen("code", u.Code, maxCode)
	if !u.Type.Valid() {
		v.Add("type", FieldInvalid, "type must be party, political_legal, economic or line")
	}
}

// CreateUnit adds a dispatching unit. Admins only.
func (s TeamService) CreateUnit(ctx context.Context, c Caller, in UnitInput) (Unit, error) {
	if c.Role != RoleAdmin {
		return Unit{}, Forbidden()
	}
	var u Unit
	var v Validator
	in.apply(&u, &v)
	if err := v.Err(); err != nil {
		return Unit{}, err
	}
	now := s.Now()
	u.ID, u.CreatedAt, u.UpdatedAt = s.IDs.New(now), now, now
	if err := s.Store.InsertUnit(ctx, u); errors.Is(err, ErrDuplicate) {
		return Unit{}, takenErr("name", "a unit with this name already exists")
	} else if err != nil {
		return Unit{}, fmt.Errorf("create unit: %w", err)
	}
	return u, s.Audit.Record(ctx, c, "unit", u.ID, "create", "")
}

// GetUnit returns a unit; every role may read units.
func (s TeamService) GetUnit(ctx context.Context, _ Caller, id string) (Unit, error) {
	u, err := s.Store.GetUnit(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Unit{}, NotFound("unit")
	}
	return u, err
}

// ListUnits lists units, optionally of one type.
func (s TeamService) ListUnits(ctx context.Context, _ Caller, typ UnitType, p Page) (List[Unit], error) {
	if typ != "" && !typ.Valid() {
		var v Validator
		v.Add("type", FieldInvalid, "type must be party, political_legal, economic or line")
		return List[Unit]{}, v.Err()
	}
	return s.Store.ListUnits(ctx, typ, p)
}

// UpdateUnit changes a unit. Admins only.
func (s TeamService) UpdateUnit(ctx context.Context, c Caller, id string, in UnitInput) (Unit, error) {
	u, err := s.GetUnit(ctx, c, id)
	if err != nil {
		return Unit{}, err
	}
	if c.Role != RoleAdmin {
		return Unit{}, Forbidden()
	}
	var v Validator
	in.apply(&u, &v)
	if err := v.Err(); err != nil {
		return Unit{}, err
	}
	u.UpdatedAt = s.Now()
	if err := s.Store.UpdateUnit(ctx, u); err != nil {
		return Unit{}, fmt.Errorf("update unit: %w", err)
	}
	return u, s.Audit.Record(ctx, c, "unit", u.ID, "update", "")
}

// TeamInput creates or (nil fields left alone) changes a team.
type TeamInput struct {
	CampaignID   string // create only
	VillageID    string // create only
	LeaderID     *string
	MemberIDs    *[]string
	TownMemberID *string
}

// canManageTeam reports whether the caller may form or change the team of a
// selection: admins, and town admins for town-level villages of their town.
func canManageTeam(c Caller, sel Selection) bool {
	return c.Role == RoleAdmin || c.Role == RoleTownAdmin && sel.Level == LevelTown && sel.TownID == c.TownID
}

func (s TeamService) checkPeople(ctx context.Context, v *Validator, t *Team, in TeamInput) error {
	set(&t.LeaderID, in.LeaderID)
	set(&t.TownMemberID, in.TownMemberID)
	if in.MemberIDs != nil {
		t.MemberIDs = slices.Clone(*in.MemberIDs)
	}
	if t.MemberIDs == nil {
		t.MemberIDs = []string{}
	}
	if len(t.MemberIDs) > 30 {
		v.Add("memberIds", FieldRange, "a team has at most 30 members")
		return nil
	}
	check := func(field, id string) error {
		if id == "" {
			return nil
		}
		u, err := s.Users.GetUser(ctx, id, Scope{All: true})
		if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
			v.Add(field, FieldUnknown, "no such active account: "+id)
			return nil
		}
		return err
	}
	if v.Required("leaderId", t.LeaderID) {
		if err := check("leaderId", t.LeaderID); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, id := range t.MemberIDs {
		if seen[id] {
			v.Add("memberIds", FieldInvalid, "listed twice: "+id)
			continue
		}
		seen[id] = true
		if err := check("memberIds", id); err != nil {
			return err
		}
	}
	return check("townMemberId", t.TownMemberID)
}

func notSelected() error {
	return &Error{Kind: KindInvalid, Code: "not_selected", Message: "the village is not selected in this campaign",
		Fields: []FieldError{{Field: "villageId", Code: FieldInvalid, Message: "not selected in this campaign"}}}
}

// CreateTeam forms the team of a selected village: one per village and campaign.
func (s TeamService) CreateTeam(ctx context.Context, c Caller, in TeamInput) (Team, error) {
	if c.Role != RoleAdmin && c.Role != RoleTownAdmin {
		return Team{}, Forbidden()
	}
	var v Validator
	v.Required("campaignId", in.CampaignID)
	v.Required("villageId", in.VillageID)
	if err := v.Err(); err != nil {
		return Team{}, err
	}
	if _, err := s.Campaigns.GetCampaign(ctx, in.CampaignID); errors.Is(err, ErrNotFound) {
		v.Add("campaignId", FieldUnknown, "no such campaign")
		return Team{}, v.Err()
	} else if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	vil, err := s.Org.GetVillage(ctx, in.VillageID, c.VillageScope())
	if errors.Is(err, ErrNotFound) {
		v.Add("villageId", FieldUnknown, "no such village in your scope")
		return Team{}, v.Err()
	} else if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	sel, err := s.Campaigns.GetSelection(ctx, in.CampaignID, vil.ID)
	if errors.Is(err, ErrNotFound) {
		return Team{}, notSelected()
	} else if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	if !canManageTeam(c, sel) {
		return Team{}, Forbidden()
	}
	t := Team{CampaignID: in.CampaignID, VillageID: vil.ID, TownID: vil.TownID, Level: sel.Level}
	if err := s.checkPeople(ctx, &v, &t, in); err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	if err := v.Err(); err != nil {
		return Team{}, err
	}
	now := s.Now()
	t.ID, t.CreatedAt, t.UpdatedAt, t.Version = s.IDs.New(now), now, now, 1
	defer s.Callers.Changed()
	if err := s.Store.InsertTeam(ctx, t); errors.Is(err, ErrDuplicate) {
		return Team{}, &Error{Kind: KindConflict, Code: "team_exists", Message: "this village already has a team in this campaign",
			Fields: []FieldError{{Field: "villageId", Code: FieldTaken, Message: "already has a team"}}}
	} else if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "team", t.ID, "create", t.TownID)
}

// GetTeam returns a team of a village in the caller's scope.
func (s TeamService) GetTeam(ctx context.Context, c Caller, id string) (Team, error) {
	t, err := s.Store.GetTeam(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !c.CanSeeVillage(t.VillageID, t.TownID) {
		return Team{}, NotFound("team")
	}
	return t, err
}

// ListTeams lists the teams of villages in the caller's scope.
func (s TeamService) ListTeams(ctx context.Context, c Caller, f TeamFilter, p Page) (List[Team], error) {
	f.Scope = c.VillageScope()
	if f.Scope.Empty() {
		return List[Team]{}, nil
	}
	return s.Store.ListTeams(ctx, f, p)
}

// UpdateTeam changes a team's people; version as for UpdateProblem.
func (s TeamService) UpdateTeam(ctx context.Context, c Caller, id string, version int, in TeamInput) (Team, error) {
	t, err := s.GetTeam(ctx, c, id)
	if err != nil {
		return Team{}, err
	}
	if !canManageTeam(c, Selection{Level: t.Level, TownID: t.TownID}) {
		return Team{}, Forbidden()
	}
	if version != 0 && version != t.Version {
		return Team{}, staleErr()
	}
	var v Validator
	if err := s.checkPeople(ctx, &v, &t, in); err != nil {
		return Team{}, fmt.Errorf("update team: %w", err)
	}
	if err := v.Err(); err != nil {
		return Team{}, err
	}
	t.UpdatedAt = s.Now()
	t.Version++
	defer s.Callers.Changed()
	if err := s.Store.UpdateTeam(ctx, t); errors.Is(err, ErrStale) {
		return Team{}, staleErr()
	} else if err != nil {
		return Team{}, fmt.Errorf("update team: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "team", t.ID, "update", t.TownID)
}

// TeamMember is one person of a team, as the team view shows them.
type TeamMember struct {
	UserID   string
	Name     string
	Role     string // leader, member, town_member
	UnitID   string
	UnitName string
	UnitType UnitType
	AgeTier  AgeTier
}

// TeamView is a team with its people described, its age mix and the unit
// types its village's problems call for.
type TeamView struct {
	Team
	Members []TeamMember
	// AgeMix counts members per tier; MissingTiers lists the tiers with none.
	AgeMix       map[AgeTier]int
	MissingTiers []AgeTier
	// SuggestedUnitTypes are the unit types the village's open problems
	// call for; MissingUnitTypes those no member's unit has.
	SuggestedUnitTypes []UnitSuggestion
	MissingUnitTypes   []UnitType
}

// UnitSuggestion is a unit type and the village's problems that call for it.
type UnitSuggestion struct {
	Type     UnitType
	Problems int
	Aspects  []string
}

// Suggest returns the unit types a village's unresolved problems call for
// (党委部门联弱、政法部门联乱、经济部门联穷、业务部门联专业), most needed first.
func (s TeamService) Suggest(ctx context.Context, c Caller, villageID string) ([]UnitSuggestion, error) {
	vil, err := visibleVillage(ctx, s.Org, c, villageID)
	if err != nil {
		return nil, fmt.Errorf("suggest units: %w", err)
	}
	aspects, err := s.Catalogue.Catalogue(ctx, CatProblemAspects)
	if err != nil {
		return nil, fmt.Errorf("suggest units: %w", err)
	}
	unitOf := map[string]UnitType{}
	for _, a := range aspects {
		unitOf[a.Code] = a.Unit
	}
	byType := map[UnitType]*UnitSuggestion{}
	p := Page{Limit: MaxPageLimit}
	for {
		l, err := s.Problems.ListProblems(ctx, ProblemFilter{Scope: Scope{IDs: []string{vil.ID}}, VillageID: vil.ID}, p)
		if err != nil {
			return nil, fmt.Errorf("suggest units: %w", err)
		}
		for _, pr := range l.Items {
			typ := unitOf[pr.Aspect]
			if pr.Status == StatusResolved || typ == "" {
				continue
			}
			sg := byType[typ]
			if sg == nil {
				sg = &UnitSuggestion{Type: typ}
				byType[typ] = sg
			}
			sg.Problems++
			if !slices.Contains(sg.Aspects, pr.Aspect) {
				sg.Aspects = append(sg.Aspects, pr.Aspect)
			}
		}
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	out := make([]UnitSuggestion, 0, len(byType))
	for _, typ := range UnitTypes {
		if sg := byType[typ]; sg != nil {
			slices.Sort(sg.Aspects)
			out = append(out, *sg)
		}
	}
	slices.SortStableFunc(out, func(a, b UnitSuggestion) int { return b.Problems - a.Problems })
	return out, nil
}

// View describes a team: its people with units and age tiers, the age mix
// and what it lacks.
func (s TeamService) View(ctx context.Context, c Caller, t Team) (TeamView, error) {
	tv := TeamView{Team: t, AgeMix: map[AgeTier]int{}}
	year := s.Now().Year()
	units := map[string]Unit{}
	var unitIDs []string
	people := map[string]User{}
	for _, id := range t.People() {
		u, err := s.Users.GetUser(ctx, id, Scope{All: true})
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return TeamView{}, fmt.Errorf("team view: %w", err)
		}
		people[id] = u
		if u.UnitID != "" {
			unitIDs = append(unitIDs, u.UnitID)
		}
	}
	us, err := s.Store.UnitsByIDs(ctx, unitIDs)
	if err != nil {
		return TeamView{}, fmt.Errorf("team view: %w", err)
	}
	for _, u := range us {
		units[u.ID] = u
	}
	covered := map[UnitType]bool{}
	add := func(id, role string) {
		u, ok := people[id]
		if !ok {
			return
		}
		m := TeamMember{UserID: id, Name: u.Name, Role: role, UnitID: u.UnitID, AgeTier: TierOf(u.AgeTier, u.BirthYear, year)}
		if un, ok := units[u.UnitID]; ok {
			m.UnitName, m.UnitType = un.Name, un.Type
			covered[un.Type] = true
		}
		if m.AgeTier != "" {
			tv.AgeMix[m.AgeTier]++
		}
		tv.Members = append(tv.Members, m)
	}
	add(t.LeaderID, "leader")
	for _, id := range t.MemberIDs {
		if id != t.LeaderID {
			add(id, "member")
		}
	}
	if t.TownMemberID != "" && t.TownMemberID != t.LeaderID && !slices.Contains(t.MemberIDs, t.TownMemberID) {
		add(t.TownMemberID, "town_member")
	}
	for _, tier := range AgeTiers {
		if tv.AgeMix[tier] == 0 {
			tv.MissingTiers = append(tv.MissingTiers, tier)
		}
	}
	if tv.SuggestedUnitTypes, err = s.Suggest(ctx, System(c.RequestID), t.VillageID); err != nil {
		return TeamView{}, err
	}
	for _, sg := range tv.SuggestedUnitTypes {
		if !covered[sg.Type] {
			tv.MissingUnitTypes = append(tv.MissingUnitTypes, sg.Type)
		}
	}
	return tv, nil
}

// teamVillages returns the villages an account serves through teams, and
// their towns.
func teamVillages(ctx context.Context, store TeamStore, userID string) (villages, towns []string, err error) {
	teams, err := store.TeamsOf(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range teams {
		if !slices.Contains(villages, t.VillageID) {
			villages = append(villages, t.VillageID)
		}
		if !slices.Contains(towns, t.TownID) {
			towns = append(towns, t.TownID)
		}
	}
	return villages, towns, nil
}

// Training is a course given to cadres or village leaders (岗前培训, 村主职干部培训, 淬火工程).
type Training struct {
	ID             string
	Course         string
	Kind           string
	StartDate      string
	EndDate        string
	Location       string
	ParticipantIDs []string
	// ExternalParticipants counts people without an account (village chiefs).
	ExternalParticipants int
	CreatedBy            string
	CreatedAt            time.Time
}

// TrainingKinds are the kinds of training.
var TrainingKinds = []string{"pre_posting", "village_chiefs", "quenching", "other"}

// TrainingStore keeps trainings.
type TrainingStore interface {
	InsertTraining(ctx context.Context, t Training) error
	ListTrainings(ctx context.Context, participantID string, p Page) (List[Training], error)
}

// TrainingService records trainings.
type TrainingService struct {
	IDs   IDs // ids of what it creates; nil: NewID
	Store TrainingStore
	Users UserStore
	Audit Auditor
	Now   Clock
}

// Create records a training. Admins only.
func (s TrainingService) Create(ctx context.Context, c Caller, t Training) (Training, error) {
	if c.Role != RoleAdmin {
		return Training{}, Forbidden()
	}
	var v Validator
	t.Course, t.Location = strings.TrimSpace(t.Course), strings.TrimSpace(t.Location)
	if v.Required("course", t.Course) {
		v.MaxLen("course", t.Course, 200)
	}
	v.MaxLen("location", t.Location, 200)
	if !slices.Contains(TrainingKinds, t.Kind) {
		v.Add("kind", FieldInvalid, "kind must be one of "+strings.Join(TrainingKinds, ", "))
	}
	checkDate(&v, "startDate", t.StartDate, true)
	checkDate(&v, "endDate", t.EndDate, true)
	if ValidDate(t.StartDate) && ValidDate(t.EndDate) && t.EndDate < t.StartDate {
		v.Add("endDate", FieldRange, "endDate is before startDate")
	}
	if t.ExternalParticipants < 0 || t.ExternalParticipants > 100000 {
		v.Add("externalParticipants", FieldRange, "externalParticipants must be from 0 to 100000")
	}
	if len(t.ParticipantIDs) > 2000 {
		v.Add("participantIds", FieldRange, "at most 2000 participants")
	} else {
		t.ParticipantIDs = slices.Compact(slices.Sorted(slices.Values(t.ParticipantIDs)))
		for _, id := range t.ParticipantIDs {
			if _, err := s.Users.GetUser(ctx, id, Scope{All: true}); errors.Is(err, ErrNotFound) {
				v.Add("participantIds", FieldUnknown, "no such account: "+id)
			} else if err != nil {
				return Training{}, fmt.Errorf("create training: %w", err)
			}
		}
	}
	if err := v.Err(); err != nil {
		return Training{}, err
	}
	now := s.Now()
	t.ID, t.CreatedBy, t.CreatedAt = s.IDs.New(now), c.UserID, now
	if t.ParticipantIDs == nil {
		t.ParticipantIDs = []string{}
	}
	if err := s.Store.InsertTraining(ctx, t); err != nil {
		return Training{}, fmt.Errorf("create training: %w", err)
	}
	return t, s.Audit.Record(ctx, c, "training", t.ID, "create", "")
}

// List lists trainings, optionally those one account took part in.
func (s TrainingService) List(ctx context.Context, _ Caller, participantID string, p Page) (List[Training], error) {
	return s.Store.ListTrainings(ctx, participantID, p)
}
