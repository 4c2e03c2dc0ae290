package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"zhucun/domain"
)

// testCampaignEntities writes every campaign entity, reads each back equal,
// and checks the lookups, filters, uniqueness and versions the services
// rely on.
func testCampaignEntities(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	same := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %+v (%v), want %+v", what, got, err, want)
		}
	}
	it := domain.CatalogueItem{Kind: domain.CatProblemAspects, Code: "petitions", Name: "信访突出", Unit: domain.UnitPoliticalLegal, Active: true, Order: 2, UpdatedAt: now}
	if err := s.SeedCatalogueItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	changedName := it
	changedName.Name = "改过"
	if err := s.SeedCatalogueItem(ctx, changedName); err != nil { // a seed keeps an edited item
		t.Fatal(err)
	}
	got, err := s.CatalogueItem(ctx, it.Kind, it.Code)
	same("catalogue item", got, it, err)
	first := domain.CatalogueItem{Kind: domain.CatProblemAspects, Code: "disunity", Name: "不团结", Order: 1, UpdatedAt: now}
	if err := s.PutCatalogueItem(ctx, first); err != nil {
		t.Fatal(err)
	}
	cat, err := s.Catalogue(ctx, domain.CatProblemAspects)
	same("catalogue in order", cat, []domain.CatalogueItem{first, it}, err)

	c := domain.Campaign{ID: domain.NewID(now), Name: "第三轮", StartDate: "2026-01-01", EndDate: "2027-12-31", CandidateShare: 0.15,
		DistrictTarget: 25, TownTarget: 20, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Name = "第三轮整顿"
	if err := s.UpdateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	gc, err := s.GetCampaign(ctx, c.ID)
	same("campaign", gc, c, err)
	ev := domain.Evaluation{CampaignID: c.ID, VillageID: "v1", TownID: "t1", Score: 61.5, Manifestations: []string{"weak_service"}, EvaluatedBy: "u", UpdatedAt: now}
	for range 2 { // a repeated PUT replaces
		if err := s.PutEvaluation(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Evaluations(ctx, c.ID, domain.Scope{TownIDs: []string{"t1"}})
	same("evaluations in the town's scope", evs, []domain.Evaluation{ev}, err)
	if evs, _ := s.Evaluations(ctx, c.ID, domain.Scope{TownIDs: []string{"t2"}}); len(evs) != 0 {
		t.Fatalf("another town's evaluations: %+v", evs)
	}
	sel := domain.Selection{CampaignID: c.ID, VillageID: "v1", TownID: "t1", Level: domain.LevelDistrict, Reason: "r", Candidate: true, Rank: 3, SelectedBy: "u", CreatedAt: now}
	if err := s.InsertSelection(ctx, sel); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSelection(ctx, sel); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("second selection: %v", err)
	}
	gs, err := s.GetSelection(ctx, c.ID, "v1")
	same("selection", gs, sel, err)
	ls, err := s.ListSelections(ctx, domain.SelectionFilter{CampaignID: c.ID, Scope: domain.Scope{IDs: []string{"v1"}}, Level: domain.LevelDistrict}, domain.Page{})
	same("selections", ls.Items, []domain.Selection{sel}, err)
	ov, err := s.SelectionsOfVillage(ctx, "v1")
	same("selections of the village", ov, []domain.Selection{sel}, err)
	note := domain.SelectionNote{ID: domain.NewID(now), CampaignID: c.ID, VillageID: "v1", TownID: "t1", Source: "petitions", Text: "多次信访", By: "u", CreatedAt: now}
	if err := s.InsertSelectionNote(ctx, note); err != nil {
		t.Fatal(err)
	}
	notes, err := s.SelectionNotes(ctx, c.ID, "v1")
	same("notes", notes, []domain.SelectionNote{note}, err)

	p := domain.Problem{ID: domain.NewID(now), VillageID: "v1", TownID: "t1", CampaignID: c.ID, Aspect: "petitions", Description: "d",
		Source: "evaluation", Status: domain.StatusOpen, PhotoIDs: []string{"p1"}, CreatedBy: "u", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertProblem(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Status, p.Version = domain.StatusResolved, 2
	if err := s.UpdateProblem(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateProblem(ctx, p); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a second version 2: %v", err)
	}
	lp, err := s.ListProblems(ctx, domain.ProblemFilter{Scope: domain.Scope{TownIDs: []string{"t1"}}, Status: domain.StatusResolved}, domain.Page{})
	same("problems by status", lp.Items, []domain.Problem{p}, err)
	tg := domain.Target{ID: domain.NewID(now), VillageID: "v1", TownID: "t1", CampaignID: c.ID, Domain: "leadership", Task: "t", Kind: domain.TargetCommon,
		Title: "配强班子", Year: 2026, Due: "2026-12-31", CreatedBy: "u", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	pr := domain.Progress{ID: domain.NewID(now), TargetID: tg.ID, VillageID: "v1", TownID: "t1", Date: "2026-03-02", Percent: 40, Note: "n", By: "u", CreatedAt: now}
	if err := s.InsertProgress(ctx, pr); err != nil {
		t.Fatal(err)
	}
	tg.Percent, tg.ProgressAt, tg.Version = 40, "2026-03-02", 2
	if err := s.UpdateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	lt, err := s.ListTargets(ctx, domain.TargetFilter{Scope: domain.Scope{IDs: []string{"v1"}}, Year: 2026, Kind: domain.TargetCommon}, domain.Page{})
	same("targets", lt.Items, []domain.Target{tg}, err)
	prs, err := s.ProgressOf(ctx, tg.ID)
	same("progress", prs, []domain.Progress{pr}, err)

	u := domain.Unit{ID: domain.NewID(now), Name: "区委组织部", Type: domain.UnitParty, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertUnit(ctx, domain.Unit{ID: domain.NewID(now), Name: u.Name, Type: domain.UnitLine}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("a second unit of one name: %v", err)
	}
	us, err := s.UnitsByIDs(ctx, []string{u.ID, "missing"})
	same("units by ids", us, []domain.Unit{u}, err)
	team := domain.Team{ID: domain.NewID(now), CampaignID: c.ID, VillageID: "v1", TownID: "t1", Level: domain.LevelDistrict,
		LeaderID: "lead", MemberIDs: []string{"m1", "m2"}, TownMemberID: "tm", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	other := team
	other.ID = domain.NewID(now)
	if err := s.InsertTeam(ctx, other); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("a second team of the village: %v", err)
	}
	team.MemberIDs, team.Version = []string{"m2", "m3"}, 2
	if err := s.UpdateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	for who, n := range map[string]int{"m1": 0, "m3": 1, "lead": 1, "tm": 1} {
		if ts, err := s.TeamsOf(ctx, who); err != nil || len(ts) != n {
			t.Fatalf("teams of %s: %+v %v, want %d", who, ts, err, n)
		}
	}
	lteams, err := s.ListTeams(ctx, domain.TeamFilter{Scope: domain.Scope{All: true}, MemberID: "m3"}, domain.Page{})
	same("teams by member", lteams.Items, []domain.Team{team}, err)
	tr := domain.Training{ID: domain.NewID(now), Course: "岗前培训", Kind: "pre_posting", StartDate: "2026-02-01", EndDate: "2026-02-03",
		ParticipantIDs: []string{"m2", "m3"}, ExternalParticipants: 4, CreatedBy: "u", CreatedAt: now}
	if err := s.InsertTraining(ctx, tr); err != nil {
		t.Fatal(err)
	}
	ltr, err := s.ListTrainings(ctx, "m3", domain.Page{})
	same("trainings of a participant", ltr.Items, []domain.Training{tr}, err)
	plan := domain.OnPostPlan{CadreID: "m2", Week: "2026W10", Days: []string{"2026-03-02", "2026-03-03"}, TownIDs: []string{"t1"}, UpdatedBy: "m2", UpdatedAt: now}
	for range 2 {
		if err := s.PutPlan(ctx, plan); err != nil {
			t.Fatal(err)
		}
	}
	plans, err := s.Plans(ctx, "2026W10", []string{"m2", "m9"})
	same("plans", plans, []domain.OnPostPlan{plan}, err)
	a := domain.Assessment{VillageID: "v1", TownID: "t1", Period: "2026S1", Scores: []domain.IndicatorScore{{Indicator: "c1", Score: 9}},
		Assessors: []string{"u"}, AssessedOn: "2026-06-30", Total: 88, Light: domain.LightGreen, By: "u", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.PutAssessment(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAssessment(ctx, a); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a second version 1: %v", err)
	}
	a.Total, a.Version = 80, 2
	a.Final, a.FinalizedBy, a.FinalizedAt = true, "u2", &now
	if err := s.PutAssessment(ctx, a); err != nil {
		t.Fatal(err)
	}
	ga, err := s.GetAssessment(ctx, "v1", "2026S1")
	same("assessment", ga, a, err)
	fc := domain.FieldCheck{ID: domain.NewID(now), VillageID: "v1", TownID: "t1", Date: "2026-03-02", Quarter: "2026Q1", Checkers: []string{"u"},
		Findings: "f", Rating: "good", CreatedBy: "u", CreatedAt: now}
	if _, err := s.InsertFieldCheck(ctx, fc); err != nil {
		t.Fatal(err)
	}
	again := fc
	again.Findings = "other"
	stored, err := s.InsertFieldCheck(ctx, again)
	if !errors.Is(err, domain.ErrDuplicate) || !reflect.DeepEqual(stored, fc) {
		t.Fatalf("field check resend: %+v %v", stored, err)
	}
	lfc, err := s.ListFieldChecks(ctx, domain.FieldCheckFilter{Scope: domain.Scope{TownIDs: []string{"t1"}}, Quarter: "2026Q1"}, domain.Page{})
	same("field checks", lfc.Items, []domain.FieldCheck{fc}, err)

	user := domain.User{ID: "m2", Name: "李四", Phone: "13800000009", Role: domain.RoleCadre, VillageIDs: []string{"v1"}, TownIDs: []string{"t1"}, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	snap, err := s.LedgerSnapshot(ctx)
	if err != nil || len(snap.Problems) != 1 || snap.Problems[0].Status != domain.StatusResolved || len(snap.Targets) != 1 ||
		len(snap.Progress) != 1 || len(snap.Plans) != 1 || snap.UserNames["m2"] != "李四" || len(snap.CadreVillages["m2"]) != 1 {
		t.Fatalf("ledger snapshot: %+v %v", snap, err)
	}
	// The snapshot follows writes.
	p.Status, p.Version = domain.StatusOpen, 3
	if err := s.UpdateProblem(ctx, p); err != nil {
		t.Fatal(err)
	}
	if snap, _ := s.LedgerSnapshot(ctx); snap.Problems[0].Status != domain.StatusOpen {
		t.Fatalf("the snapshot missed an edit: %+v", snap.Problems)
	}
	s = b.Reopen(t, s)
	if gp, err := s.GetProblem(ctx, p.ID); err != nil || !reflect.DeepEqual(gp, p) {
		t.Fatalf("problem after a restart: %+v %v", gp, err)
	}
}

// testLookups covers the store methods the other tests leave out: lookups
// by name, updates, counts, single gets and the plain lists.
func testLookups(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tw := domain.Town{ID: domain.NewID(now), Name: "杜店街道", CreatedAt: now, UpdatedAt: now}
	if err := s.InsertTown(ctx, tw); err != nil {
		t.Fatal(err)
	}
	tw.Name = "杜店街道办事处"
	if err := s.UpdateTown(ctx, tw); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TownByName(ctx, "杜店街道办事处"); err != nil || got.ID != tw.ID {
		t.Fatalf("town by name: %+v %v", got, err)
	}
	if _, err := s.TownByName(ctx, "杜店街道"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the old name: %v", err)
	}
	v := domain.Village{ID: domain.NewID(now), Name: "东玉村", TownID: tw.ID, Kind: domain.KindVillage, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertVillage(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.VillageByName(ctx, tw.ID, "东玉村"); err != nil || got.ID != v.ID {
		t.Fatalf("village by name: %+v %v", got, err)
	}
	if _, err := s.VillageByName(ctx, "another town", "东玉村"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("village by name in another town: %v", err)
	}
	u := domain.User{ID: domain.NewID(now), Name: "赵六", Phone: "13800000077", Role: domain.RoleCadre, TownIDs: []string{tw.ID}, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Phone, u.VillageIDs = "13800000078", []string{v.ID}
	u.Security = domain.UserSecurity{PasswordChangedAt: now, MustChangePassword: true, PasswordHistory: []string{"old1", "old2"},
		TOTPSecret: "sealed", RecoveryCodes: []string{"r1", "r2"}}
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByPhone(ctx, "13800000078"); err != nil || got.ID != u.ID || len(got.VillageIDs) != 1 {
		t.Fatalf("user after the update: %+v %v", got, err)
	} else if !reflect.DeepEqual(got.Security, u.Security) {
		t.Fatalf("the account's security state came back as %+v, not %+v", got.Security, u.Security)
	}
	if l, err := s.ListUsers(ctx, domain.UserFilter{Scope: domain.Scope{All: true}, VillageID: v.ID, Role: domain.RoleCadre}, domain.Page{}); err != nil || len(l.Items) != 1 {
		t.Fatalf("users of the village after the update: %+v %v", l, err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("count users: %d %v", n, err)
	}
	if err := s.UpdateUser(ctx, domain.User{ID: "missing", Phone: "13800000079"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("update of a missing account: %v", err)
	}
	rt := domain.RefreshToken{Hash: "h", Family: "f", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Factors: domain.FactorsBoth}
	if err := s.InsertRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRefreshToken(ctx, "h"); err != nil || got != rt {
		t.Fatalf("refresh token: %+v %v", got, err)
	}
	unit := domain.Unit{ID: domain.NewID(now), Name: "区政法委", Type: domain.UnitPoliticalLegal, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertUnit(ctx, unit); err != nil {
		t.Fatal(err)
	}
	unit.Type = domain.UnitParty
	if err := s.UpdateUnit(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetUnit(ctx, unit.ID); err != nil || got != unit {
		t.Fatalf("unit: %+v %v", got, err)
	}
	if l, err := s.ListUnits(ctx, domain.UnitParty, domain.Page{}); err != nil || len(l.Items) != 1 {
		t.Fatalf("units of a type: %+v %v", l, err)
	}
	if l, err := s.ListUnits(ctx, domain.UnitLine, domain.Page{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("units of another type: %+v %v", l, err)
	}
	var ids []string
	for i := range 3 {
		c := domain.Campaign{ID: domain.NewID(now.Add(time.Duration(i) * time.Second)), Name: fmt.Sprint("第", i+1, "轮"), CreatedAt: now, UpdatedAt: now}
		if err := s.InsertCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var seen []string
	p := domain.Page{Limit: 2}
	for range 3 {
		l, err := s.ListCampaigns(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l.Items {
			seen = append(seen, c.ID)
		}
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	slices.Sort(ids)
	if !slices.Equal(seen, ids) {
		t.Fatalf("campaigns paged %v, want %v", seen, ids)
	}
	tm := domain.Team{ID: domain.NewID(now), CampaignID: ids[0], VillageID: v.ID, TownID: tw.ID, Level: domain.LevelTown, LeaderID: u.ID,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertTeam(ctx, tm); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetTeam(ctx, tm.ID); err != nil || got.LeaderID != u.ID {
		t.Fatalf("team: %+v %v", got, err)
	}
	tg := domain.Target{ID: domain.NewID(now), VillageID: v.ID, TownID: tw.ID, Domain: "d", Task: "t", Kind: domain.TargetDifferentiated,
		Title: "修路", Year: 2026, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetTarget(ctx, tg.ID); err != nil || !reflect.DeepEqual(got, tg) {
		t.Fatalf("target: %+v %v", got, err)
	}
	for _, err := range []error{
		func() error { _, err := s.GetTeam(ctx, "missing"); return err }(),
		func() error { _, err := s.GetTarget(ctx, "missing"); return err }(),
		func() error { _, err := s.GetUnit(ctx, "missing"); return err }(),
		func() error { _, err := s.GetProblem(ctx, "missing"); return err }(),
		func() error { _, err := s.GetCampaign(ctx, "missing"); return err }(),
		func() error { _, err := s.GetRecord(ctx, "missing"); return err }(),
		func() error { _, err := s.GetAssessment(ctx, "v", "2026S1"); return err }(),
	} {
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a missing entity: %v, want ErrNotFound", err)
		}
	}
}
