package mongo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/storage/testdb"
)

var server *testdb.Server

func TestMain(m *testing.M) {
	var err error
	server, err = testdb.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	server.Stop()
	os.Exit(code)
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), server.URI, testdb.NewName(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestReopen opens a database that has data and indexes already, as every
// start after the first does.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	name := testdb.NewName()
	now := time.Now().UTC()
	for i := range 3 {
		s, err := Open(ctx, server.URI, name, Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.InsertUser(ctx, domain.User{ID: domain.NewID(now), Phone: fmt.Sprint(13800000000 + i)}); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(now), At: now, Entity: "user"}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != int64(i+1) {
			t.Fatalf("open %d: %d users, %v", i, n, err)
		}
		_ = s.Close(ctx)
	}
}

func TestTownsAndVillagesScoped(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := domain.Town{ID: domain.NewID(now), Name: "市东街道", CreatedAt: now, UpdatedAt: now}
	b := domain.Town{ID: domain.NewID(now), Name: "三河湖镇", Code: "SHH", CreatedAt: now, UpdatedAt: now}
	for _, tw := range []domain.Town{a, b} {
		if err := s.InsertTown(ctx, tw); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertTown(ctx, domain.Town{ID: domain.NewID(now), Name: "市东街道"}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("duplicate town name: got %v, want ErrDuplicate", err)
	}
	got, err := s.GetTown(ctx, b.ID, domain.Scope{All: true})
	if err != nil || got != b {
		t.Fatalf("GetTown = %+v, %v; want %+v", got, err, b)
	}
	if _, err := s.GetTown(ctx, b.ID, domain.Scope{IDs: []string{a.ID}}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("out-of-scope town: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetTown(ctx, b.ID, domain.Scope{}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("zero scope must deny: got %v", err)
	}

	var va, vb []domain.Village
	for i := range 7 {
		v := domain.Village{ID: domain.NewID(now), Name: fmt.Sprintf("王家%d村", i), TownID: a.ID, Kind: domain.KindVillage, CreatedAt: now, UpdatedAt: now}
		if err := s.InsertVillage(ctx, v); err != nil {
			t.Fatal(err)
		}
		va = append(va, v)
		w := domain.Village{ID: domain.NewID(now), Name: fmt.Sprintf("肖家%d居", i), TownID: b.ID, Kind: domain.KindCommunity, CreatedAt: now, UpdatedAt: now}
		if err := s.InsertVillage(ctx, w); err != nil {
			t.Fatal(err)
		}
		vb = append(vb, w)
	}
	if err := s.InsertVillage(ctx, domain.Village{ID: domain.NewID(now), Name: "王家0村", TownID: a.ID}); !errors.Is(err, domain.ErrDuplicate) {
		t.Fatalf("duplicate village in town: got %v", err)
	}
	// The same name in another town is fine.
	if err := s.InsertVillage(ctx, domain.Village{ID: domain.NewID(now), Name: "王家0村", TownID: b.ID, Kind: domain.KindVillage}); err != nil {
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

func TestUsersScopeByTownArray(t *testing.T) {
	ctx := t.Context()
	s := open(t)
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

func TestSessionMarkers(t *testing.T) {
	ctx := t.Context()
	s := open(t)
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

func TestAuditFilter(t *testing.T) {
	ctx := t.Context()
	s := open(t)
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
}

// TestVersionedReplaceOnce: of many concurrent edits of one version, one
// wins and the others are stale (FerretDB alone would let several through).
func TestVersionedReplaceOnce(t *testing.T) {
	ctx := t.Context()
	s := open(t)
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

// createW is a create as the domain hands it over: with its count delta.
func createW(r domain.Record) domain.RecordWrite {
	return domain.RecordWrite{Record: r, Delta: domain.StatDelta(nil, r, shanghai)}
}

// replaceW is a replace as the domain hands it over: with the delta from
// the stored version.
func replaceW(t *testing.T, s *Store, r domain.Record) domain.RecordWrite {
	t.Helper()
	prev, err := s.GetRecord(context.Background(), r.ID)
	if err != nil {
		return domain.RecordWrite{Record: r}
	}
	return domain.RecordWrite{Record: r, Delta: domain.StatDelta(&prev, r, shanghai)}
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()
