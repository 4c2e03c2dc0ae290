// Package storetest is the conformance suite every store must pass: one
// set of tests, run on the SQLite store and on the MongoDB store (FerretDB
// in the tests), in the way Mattermost's filestore tests run one suite on
// every backend. Each backend's own test calls Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhucun/domain"
)

// Store is what the suite runs on: every store interface of the domain.
type Store = domain.Store

// Backend opens stores for the suite.
type Backend struct {
	// Open opens a new, empty store, closed when the test ends.
	Open func(t *testing.T) Store
	// Reopen closes s cleanly and opens its data again, as a restart does.
	Reopen func(t *testing.T, s Store) Store
	// Crash abandons s as a killed process would (no clean close) and
	// opens its data again.
	Crash func(t *testing.T, s Store) Store
	// Corrupt adds n to a stored count that no record made (a bug, or a
	// hand edit): households_visited of a village, its town and the
	// district on a day.
	Corrupt func(t *testing.T, s Store, village, town, day string, n int64)
	// Raw is a record's document as the database holds it, for the
	// checks of what is kept encrypted.
	Raw func(t *testing.T, s Store, id string) string
	// OpenPlain opens a new store with no data key, as a version before
	// keys did; ReopenSealed closes it and opens its data with the suite's key.
	OpenPlain    func(t *testing.T) Store
	ReopenSealed func(t *testing.T, s Store) Store
}

// Run runs the whole suite on a backend.
func Run(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Backend)
	}{
		{"PersonalFieldsSealed", testPersonalFieldsSealed},
		{"AuditPrune", testAuditPrune},
		{"PlainRecordsSealedOnOpen", testPlainRecordsSealedOnOpen},
		{"Feedback", testFeedback},
		{"TownsAndVillagesScoped", testTownsAndVillagesScoped},
		{"UsersScopeByTownArray", testUsersScopeByTownArray},
		{"SessionMarkers", testSessionMarkers},
		{"AuditFilter", testAuditFilter},
		{"VersionedReplaceOnce", testVersionedReplaceOnce},
		{"RecordsListOrderAndChanges", testRecordsListOrderAndChanges},
		{"ConcurrentCreatesOfOneID", testConcurrentCreatesOfOneID},
		{"RecordsAcrossMonths", testRecordsAcrossMonths},
		{"PhotoIndexAndPending", testPhotoIndexAndPending},
		{"ConcurrentEditsOfOneVersion", testConcurrentEditsOfOneVersion},
		{"ChangesPagedWhileWriting", testChangesPagedWhileWriting},
		{"ResendAfterCrash", testResendAfterCrash},
		{"CountsExactAcrossCrashes", testCountsExactAcrossCrashes},
		{"StatsVerifyAndRebuild", testStatsVerifyAndRebuild},
		{"CampaignEntities", testCampaignEntities},
		{"Lookups", testLookups},
		{"ReviewStatesAndCountedDays", testReviewStatesAndCountedDays},
		{"ApprovalsAndLeaves", testApprovalsAndLeaves},
		{"NotificationsAndGrants", testNotificationsAndGrants},
		{"AuditChain", testAuditChain},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, b) })
	}
}

// shanghai is the campaign's time zone in the suite.
var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// createW is a create as the domain hands it over: with its count delta.
func createW(r domain.Record) domain.RecordWrite {
	return domain.RecordWrite{Record: r, Delta: domain.StatDelta(nil, r, shanghai)}
}

// replaceW is a replace as the domain hands it over: with the delta from
// the stored version.
func replaceW(t *testing.T, s Store, r domain.Record) domain.RecordWrite {
	t.Helper()
	prev, err := s.GetRecord(context.Background(), r.ID)
	if err != nil {
		return domain.RecordWrite{Record: r}
	}
	return domain.RecordWrite{Record: r, Delta: domain.StatDelta(&prev, r, shanghai)}
}

// recordLess orders lists: newest event first, then id descending.
func recordLess(a, b domain.Record) int {
	if c := b.At.Compare(a.At); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

func testTownsAndVillagesScoped(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := domain.Town{ID: domain.NewID(now), Name: "市东街道", CreatedAt: now, UpdatedAt: now}
	tb := domain.Town{ID: domain.NewID(now), Name: "三河湖镇", Code: "SHH", CreatedAt: now, UpdatedAt: now}
	for _, tw := range []domain.Town{a, tb} {
		if err := s.InsertTown(ctx, tw); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertTown(ctx, domain.Town{ID: domain.NewID(now), Name: "市东街道"}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("duplicate town name: got %v, want ErrDuplicate", err)
	}
	got, err := s.GetTown(ctx, tb.ID, domain.Scope{All: true})
	if err != nil || got != tb {
		t.Fatalf("GetTown = %+v, %v; want %+v", got, err, tb)
	}
	if _, err := s.GetTown(ctx, tb.ID, domain.Scope{IDs: []string{a.ID}}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("out-of-scope town: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetTown(ctx, tb.ID, domain.Scope{}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("zero scope must deny: got %v", err)
	}

	var va, vb []domain.Village
	for i := range 7 {
		v := domain.Village{ID: domain.NewID(now), Name: fmt.Sprintf("王家%d村", i), TownID: a.ID, Kind: domain.KindVillage, CreatedAt: now, UpdatedAt: now}
		if err := s.InsertVillage(ctx, v); err != nil {
			t.Fatal(err)
		}
		va = append(va, v)
		w := domain.Village{ID: domain.NewID(now), Name: fmt.Sprintf("肖家%d居", i), TownID: tb.ID, Kind: domain.KindCommunity, CreatedAt: now, UpdatedAt: now}
		if err := s.InsertVillage(ctx, w); err != nil {
			t.Fatal(err)
		}
		vb = append(vb, w)
	}
	if err := s.InsertVillage(ctx, domain.Village{ID: domain.NewID(now), Name: "王家0村", TownID: a.ID}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("duplicate village in town: got %v", err)
	}
	// The same name in another town is fine.
	if err := s.InsertVillage(ctx, domain.Village{ID: domain.NewID(now), Name: "王家0村", TownID: tb.ID, Kind: domain.KindVillage}); err != nil {
		t.Fatalf("same name in another town: %v", err)
	}

	// Pages of 3 over town a's villages return all 7 once, in order.
	var seen []string
	p := domain.Page{Limit: 3}
	for pages := 0; ; pages++ {
		l, err := s.ListVillages(ctx, domain.VillageFilter{Scope: domain.Scope{TownIDs: []string{a.ID}}}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range l.Items {
			seen = append(seen, v.ID)
		}
		if l.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		p.After = l.Next
	}
	if len(seen) != len(va) {
		t.Fatalf("paged %d villages, want %d", len(seen), len(va))
	}
	// Ids made in one millisecond are ordered by their random part, not by time.
	slices.SortFunc(va, func(x, y domain.Village) int { return strings.Compare(x.ID, y.ID) })
	for i := range va {
		if seen[i] != va[i].ID {
			t.Fatalf("page order: item %d is %s, want %s", i, seen[i], va[i].ID)
		}
	}

	// A scope of ids and towns is a union.
	l, err := s.ListVillages(ctx, domain.VillageFilter{Scope: domain.Scope{IDs: []string{vb[0].ID}, TownIDs: []string{a.ID}}, NameContains: "0"}, domain.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 2 {
		t.Fatalf("union scope with name filter: %d items, want 2 (%+v)", len(l.Items), l.Items)
	}
	// Regex metacharacters in a name filter are literal.
	l, err = s.ListVillages(ctx, domain.VillageFilter{Scope: domain.Scope{All: true}, NameContains: ".*"}, domain.Page{})
	if err != nil || len(l.Items) != 0 {
		t.Fatalf("name filter '.*' = %d items, %v; want none", len(l.Items), err)
	}
	got2, err := s.VillagesByIDs(ctx, []string{va[1].ID, vb[2].ID, "missing"})
	if err != nil || len(got2) != 2 {
		t.Fatalf("VillagesByIDs = %d, %v", len(got2), err)
	}
	if err := s.UpdateVillage(ctx, domain.Village{ID: "nope"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func testUsersScopeByTownArray(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	u1 := domain.User{ID: domain.NewID(now), Name: "甲", Phone: "13800000001", Role: domain.RoleCadre, VillageIDs: []string{"v1", "v2"}, TownIDs: []string{"t1", "t2"}, CreatedAt: now, UpdatedAt: now}
	u2 := domain.User{ID: domain.NewID(now), Name: "乙", Phone: "13800000002", Role: domain.RoleTownAdmin, TownID: "t3", TownIDs: []string{"t3"}, CreatedAt: now, UpdatedAt: now}
	for _, u := range []domain.User{u1, u2} {
		if err := s.InsertUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertUser(ctx, domain.User{ID: domain.NewID(now), Phone: u1.Phone}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("duplicate phone: %v", err)
	}
	if _, err := s.GetUser(ctx, u1.ID, domain.Scope{TownIDs: []string{"t2"}}); err != nil {
		t.Fatalf("user whose townIds hold t2 not found in t2's scope: %v", err)
	}
	if _, err := s.GetUser(ctx, u1.ID, domain.Scope{TownIDs: []string{"t3"}}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("user found outside scope: %v", err)
	}
	l, err := s.ListUsers(ctx, domain.UserFilter{Scope: domain.Scope{All: true}, VillageID: "v2"}, domain.Page{})
	if err != nil || len(l.Items) != 1 || l.Items[0].ID != u1.ID {
		t.Fatalf("filter by village: %+v, %v", l.Items, err)
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
	byPhone, err := s.UserByPhone(ctx, "13800000002")
	if err != nil || byPhone.ID != u2.ID || byPhone.TownID != "t3" {
		t.Fatalf("UserByPhone = %+v, %v", byPhone, err)
	}
}

func testSessionMarkers(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Now().UTC()
	if err := s.InsertRefreshToken(ctx, domain.RefreshToken{Hash: "h1", Family: "f1", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimRefreshToken(ctx, "h1", now); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimRefreshToken(ctx, "h1", now); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("second claim: %v, want ErrDuplicate", err)
	}
	if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || r {
		t.Fatalf("FamilyRevoked before = %v, %v", r, err)
	}
	for range 2 {
		if err := s.RevokeFamily(ctx, "f1", now); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.FamilyRevoked(ctx, "f1"); err != nil || !r {
		t.Fatalf("FamilyRevoked after = %v, %v", r, err)
	}
	if _, err := s.WeChatUser(ctx, "o1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unbound openid: %v", err)
	}
	if err := s.BindWeChat(ctx, "o1", "u", now); err != nil {
		t.Fatal(err)
	}
	if err := s.BindWeChat(ctx, "o1", "u2", now); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("rebind: %v", err)
	}
	if u, err := s.WeChatUser(ctx, "o1"); err != nil || u != "u" {
		t.Fatalf("WeChatUser = %q, %v", u, err)
	}
}

func testAuditFilter(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := base.Add(time.Duration(i) * time.Hour)
		if err := s.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(at), At: at, UserID: "u", Entity: "town", EntityID: fmt.Sprint(i % 2), Action: "create"}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.ListAudit(ctx, domain.AuditFilter{EntityID: "0", From: base.Add(time.Hour), To: base.Add(5 * time.Hour)}, domain.Page{})
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("audit filter: %d items, %v; want 2", len(l.Items), err)
	}
	// The client's address and the outcome are kept; an entry without an
	// outcome is a success.
	denied := domain.AuditEntry{ID: domain.NewID(base.Add(9 * time.Hour)), At: base.Add(9 * time.Hour), UserID: "u", Entity: "route",
		EntityID: "POST /api/v1/towns", Action: "deny", Addr: "10.0.0.7", Outcome: domain.OutcomeDenied}
	if err := s.AppendAudit(ctx, denied); err != nil {
		t.Fatal(err)
	}
	l, err = s.ListAudit(ctx, domain.AuditFilter{Outcome: domain.OutcomeDenied}, domain.Page{})
	if err != nil || len(l.Items) != 1 || l.Items[0].Addr != "10.0.0.7" || l.Items[0].EntityID != denied.EntityID {
		t.Fatalf("denials: %+v %v", l.Items, err)
	}
	if l, err := s.ListAudit(ctx, domain.AuditFilter{Outcome: domain.OutcomeSuccess}, domain.Page{}); err != nil || len(l.Items) != 5 || l.Items[0].Outcome != domain.OutcomeSuccess {
		t.Fatalf("successes: %+v %v", l.Items, err)
	}
}

// testVersionedReplaceOnce: of many concurrent edits of one version, one
// wins and the others are stale (FerretDB alone would let several through).
func testVersionedReplaceOnce(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Now().UTC()
	p := domain.Problem{ID: domain.NewID(now), VillageID: "v", TownID: "t", Aspect: "a", Description: "d", Source: "evaluation",
		Status: domain.StatusOpen, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.InsertProblem(ctx, p); err != nil {
		t.Fatal(err)
	}
	for round := 2; round <= 6; round++ {
		var won, stale atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := p
				q.Version, q.Description = round, fmt.Sprint("edit ", round, " by ", i)
				switch err := s.UpdateProblem(ctx, q); {
				case err == nil:
					won.Add(1)
				case errors.Is(err, domain.ErrStale):
					stale.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || stale.Load() != 7 {
			t.Fatalf("version %d: %d edits won, %d stale", round, won.Load(), stale.Load())
		}
	}
}

func testRecordsListOrderAndChanges(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var made []domain.Record
	for i := range 9 {
		v := "v1"
		if i%3 == 2 {
			v = "v2"
		}
		r := domain.Record{ID: domain.NewID(base.Add(time.Duration(i) * time.Second)), Type: domain.TypeReport, VillageID: v, TownID: "t",
			Version: 1, At: base.Add(time.Duration(i%4) * time.Hour), Report: &domain.Report{Kind: "visit", OccurredAt: base}}
		r.Hash = r.Fingerprint()
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		if len(made) > 0 && got.Seq <= made[len(made)-1].Seq {
			t.Fatalf("seq %d after %d", got.Seq, made[len(made)-1].Seq)
		}
		made = append(made, got)
	}
	want := slices.Clone(made)
	slices.SortFunc(want, recordLess)
	for _, villages := range [][]string{{"v1", "v2"}, {"v1"}} {
		var exp []string
		for _, r := range want {
			if slices.Contains(villages, r.VillageID) {
				exp = append(exp, r.ID)
			}
		}
		var got []string
		var after *domain.RecordCursor
		for range 10 {
			page, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeReport, VillageIDs: villages}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				got = append(got, r.ID)
			}
			if len(page) < 2 {
				break
			}
			after = &domain.RecordCursor{At: page[len(page)-1].At, ID: page[len(page)-1].ID}
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("villages %v: listed\n%v\nwant\n%v", villages, got, exp)
		}
	}
	// Duplicate ids are refused with the stored record, across villages too.
	dup := made[0]
	dup.VillageID = "v2"
	if got, err := s.CreateRecord(ctx, createW(dup)); err == nil || got.VillageID != "v1" {
		t.Fatalf("duplicate create: %v, %+v", err, got)
	}
	// Changes: everything once, in seq order, across pages; then an update moves a record to the end.
	var seen []int64
	var cur int64
	for range 20 {
		page, next, err := s.Changes(ctx, []string{"v1", "v2"}, cur, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			seen = append(seen, r.Seq)
		}
		if next == cur {
			break
		}
		cur = next
	}
	if len(seen) != 9 || !slices.IsSorted(seen) {
		t.Fatalf("changes delivered %v", seen)
	}
	upd := made[0]
	upd.Version, upd.Deleted = 2, true
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, upd)); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.Changes(ctx, []string{"v1", "v2"}, cur, 10)
	if err != nil || len(page) != 1 || page[0].ID != made[0].ID || !page[0].Deleted {
		t.Fatalf("after a delete the feed gives %+v, %v", page, err)
	}
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, upd)); err == nil {
		t.Fatal("a second write of version 2 was accepted")
	}
}

// testConcurrentCreatesOfOneID: resends racing the first create all end
// with one stored record, and each caller is told it is the same record.
func testConcurrentCreatesOfOneID(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for round := range 5 {
		r := domain.Record{ID: domain.NewID(base), Type: domain.TypeReport, VillageID: fmt.Sprint("v", round), TownID: "t", Version: 1,
			At: base, Report: &domain.Report{Kind: "visit", OccurredAt: base}}
		r.Hash = r.Fingerprint()
		r.CreateHash = r.Hash
		var wg sync.WaitGroup
		var created, dups atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.CreateRecord(ctx, createW(r))
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, domain.ErrDuplicate) && got.CreateHash == r.Hash:
					dups.Add(1)
				default:
					t.Errorf("create: %v, %+v", err, got)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 1 || dups.Load() != 7 {
			t.Fatalf("round %d: %d created, %d duplicates", round, created.Load(), dups.Load())
		}
	}
}

// testRecordsAcrossMonths: a village's records spread over months list in
// order, page by page; an edit that moves the event to another month moves
// the record in the list.
func testRecordsAcrossMonths(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	var made []domain.Record
	for i := range 12 {
		at := time.Date(2026, time.Month(1+i%5), 1+i, 9, 0, 0, 0, time.UTC)
		r := domain.Record{ID: domain.NewID(at), Type: domain.TypeReport, VillageID: "vm", TownID: "t", Version: 1, At: at,
			Report: &domain.Report{Kind: "visit", OccurredAt: at}}
		r.Hash = r.Fingerprint()
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, got)
	}
	list := func() []string {
		var ids []string
		var after *domain.RecordCursor
		for range 20 {
			page, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeReport, VillageIDs: []string{"vm"}}, after, 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if len(page) < 5 {
				break
			}
			after = &domain.RecordCursor{At: page[4].At, ID: page[4].ID}
		}
		return ids
	}
	want := slices.Clone(made)
	slices.SortFunc(want, recordLess)
	var exp []string
	for _, r := range want {
		exp = append(exp, r.ID)
	}
	if got := list(); !slices.Equal(got, exp) {
		t.Fatalf("listed %v\nwant %v", got, exp)
	}
	// Range filters skip months.
	page, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeReport, VillageIDs: []string{"vm"},
		From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, nil, 50)
	if err != nil || len(page) == 0 {
		t.Fatalf("February: %d, %v", len(page), err)
	}
	for _, r := range page {
		if r.At.Month() != time.February {
			t.Fatalf("February holds %v", r.At)
		}
	}
	// Move the oldest January record to December.
	mv := made[0]
	mv.At, mv.Version = time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC), 2
	mv.Report.OccurredAt = mv.At
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, mv)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRecord(ctx, mv.ID)
	if err != nil || !got.At.Equal(mv.At) || got.Version != 2 {
		t.Fatalf("after the move: %+v, %v", got, err)
	}
	if ids := list(); len(ids) != 12 || ids[0] != mv.ID {
		t.Fatalf("after the move the list is %v", ids)
	}
	// A stale write of the moved record is refused.
	mv.Version = 2
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, mv)); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("stale replace: %v", err)
	}
	// The feed delivers each record once.
	ch, _, err := s.Changes(ctx, []string{"vm"}, 0, 100)
	if err != nil || len(ch) != 12 {
		t.Fatalf("changes: %d, %v", len(ch), err)
	}
}

func testPhotoIndexAndPending(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(id, village, status string) domain.Record {
		r := domain.Record{ID: id, Type: domain.TypePhoto, VillageID: village, TownID: "t", Version: 1, At: now, CreatedAt: now,
			Photo: &domain.Photo{Status: status, DeclaredType: "image/jpeg", DeclaredSize: 10}}
		r.Hash = r.Fingerprint()
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := mk(domain.NewID(now), "v1", domain.PhotoPending)
	pb := mk(domain.NewID(now.Add(time.Second)), "v2", domain.PhotoPending)
	ids := []string{a.ID, pb.ID}
	got, err := s.VillagePhotos(ctx, "v1", ids) // loads v1
	if err != nil || len(got) != 1 || got[a.ID].Status != domain.PhotoPending {
		t.Fatalf("v1 photos: %+v %v", got, err)
	}
	// A write after the load reaches the index.
	taken := now.Add(-time.Hour)
	next := a
	next.Version, next.Photo = 2, &domain.Photo{Status: domain.PhotoReady, TakenAt: &taken, GPS: &domain.GeoPoint{Lat: 34, Lng: 113}}
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, next)); err != nil {
		t.Fatal(err)
	}
	c := mk(domain.NewID(now.Add(2*time.Second)), "v1", domain.PhotoPending)
	got, err = s.VillagePhotos(ctx, "v1", append(ids, c.ID))
	if err != nil || len(got) != 2 || got[a.ID].Status != domain.PhotoReady || got[a.ID].GPS == nil || !got[a.ID].TakenAt.Equal(taken) {
		t.Fatalf("after writes: %+v %v", got, err)
	}
	// A fresh process loads the same from the records.
	s2 := b.Reopen(t, s)
	got2, err := s2.VillagePhotos(ctx, "v1", append(ids, c.ID))
	if err != nil || len(got2) != 2 || got2[a.ID].Status != domain.PhotoReady || got2[c.ID].Status != domain.PhotoPending {
		t.Fatalf("reloaded: %+v %v", got2, err)
	}
	// Tombstones leave.
	tomb := next
	tomb.Version, tomb.Deleted = 3, true
	if _, err := s2.ReplaceRecord(ctx, replaceW(t, s2, tomb)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.VillagePhotos(ctx, "v1", ids); len(got) != 0 {
		t.Fatalf("a deleted photo is still indexed: %+v", got)
	}

	for i, p := range []domain.PendingPhoto{{ID: a.ID, VillageID: "v1", CreatedAt: now}, {ID: pb.ID, VillageID: "v2", CreatedAt: now.Add(time.Hour)}, {ID: a.ID, VillageID: "v1", CreatedAt: now}} {
		if err := s2.AddPendingPhoto(ctx, p); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	old, err := s2.PendingPhotos(ctx, now.Add(30*time.Minute), 10)
	if err != nil || len(old) != 1 || old[0].ID != a.ID {
		t.Fatalf("pending before: %+v %v", old, err)
	}
	if err := s2.RemovePendingPhoto(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s2.PendingPhotos(ctx, now.Add(2*time.Hour), 10); len(all) != 1 || all[0].ID != pb.ID {
		t.Fatalf("pending after removal: %+v", all)
	}
}
