package domain

import (
	"slices"
	"sort"
	"testing"
	"time"
)

func TestNewIDIsTimeOrderedUUIDv7(t *testing.T) {
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 50 {
		id := NewID(base.Add(time.Duration(i) * time.Millisecond))
		if !ValidID(id) || id[14] != '7' || !slices.Contains([]byte("89ab"), id[19]) {
			t.Fatalf("%q is not a canonical UUIDv7", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids of later milliseconds do not sort later")
	}
	if NewID(base) == NewID(base) {
		t.Fatal("two ids of one millisecond are equal")
	}
	for _, bad := range []string{"", "x", "01a21c95-cd82-78cb-b9d1-d5a0acf0203", "01A21C95-CD82-78CB-B9D1-D5A0ACF02035", "01a21c95+cd82-78cb-b9d1-d5a0acf02035"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}

func TestScopesDenyByDefault(t *testing.T) {
	cases := []struct {
		c               Caller
		villages, towns Scope
		seesA1, seesB1  bool
	}{
		{c: Caller{Role: RoleAdmin}, villages: Scope{All: true}, seesA1: true, seesB1: true},
		{c: Caller{Role: RoleLeader}, villages: Scope{All: true}, seesA1: true, seesB1: true},
		{c: Caller{Role: RoleTownAdmin, TownID: "A"}, villages: Scope{TownIDs: []string{"A"}}, seesA1: true},
		{c: Caller{Role: RoleTownAdmin}, villages: Scope{}},
		{c: Caller{Role: RoleCadre, VillageIDs: []string{"A1"}, VillageTownIDs: []string{"A"}}, villages: Scope{IDs: []string{"A1"}}, seesA1: true},
		{c: Caller{Role: RoleCadre}, villages: Scope{IDs: nil}},
		{c: Caller{Role: "intruder", VillageIDs: []string{"A1"}}, villages: Scope{}},
	}
	for _, tc := range cases {
		vs := tc.c.VillageScope()
		if vs.All != tc.villages.All || !slices.Equal(vs.IDs, tc.villages.IDs) || !slices.Equal(vs.TownIDs, tc.villages.TownIDs) {
			t.Errorf("%+v: village scope %+v, want %+v", tc.c, vs, tc.villages)
		}
		if got := tc.c.CanSeeVillage("A1", "A"); got != tc.seesA1 {
			t.Errorf("%s sees A1: %v", tc.c.Role, got)
		}
		if got := tc.c.CanSeeVillage("B1", "B"); got != tc.seesB1 {
			t.Errorf("%s sees B1: %v", tc.c.Role, got)
		}
	}
	if !(Scope{}).Empty() || (Caller{Role: "nobody"}).TownScope().Matches("A", "A") {
		t.Error("the zero scope matches something")
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	th := NewThrottle(ThrottlePolicy{Free: 2, Base: time.Second, Max: 8 * time.Second, Window: time.Hour, MaxKeys: 3}, clock)
	if th.Fail("k") != 0 || th.Fail("k") != 0 || th.Wait("k") != 0 {
		t.Fatal("free failures locked the key")
	}
	for i, want := range []time.Duration{1, 2, 4, 8, 8} {
		if got := th.Fail("k"); got != want*time.Second {
			t.Fatalf("failure %d: lock %v, want %v", i+3, got, want*time.Second)
		}
	}
	if th.Wait("k") != 8*time.Second || th.Wait("other") != 0 {
		t.Fatal("Wait does not report the lock of its own key only")
	}
	now = now.Add(9 * time.Second)
	if th.Wait("k") != 0 {
		t.Fatal("the lock did not end")
	}
	th.Succeed("k")
	if th.Fail("k") != 0 {
		t.Fatal("Succeed did not reset")
	}
	// Old failures are forgotten after the window.
	th.Fail("k")
	now = now.Add(2 * time.Hour)
	if th.Fail("k") != 0 {
		t.Fatal("failures outside the window still count")
	}
	// The map stays bounded.
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		th.Fail(k)
	}
	if len(th.keys) > 3 {
		t.Fatalf("%d keys kept, bound is 3", len(th.keys))
	}
}

func TestParseVillageKind(t *testing.T) {
	for in, want := range map[string]VillageKind{"village": KindVillage, "村": KindVillage, " 居 ": KindCommunity, "社区": KindCommunity, "community": KindCommunity} {
		if got, ok := ParseVillageKind(in); !ok || got != want {
			t.Errorf("ParseVillageKind(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseVillageKind("镇"); ok {
		t.Error("镇 accepted as a village kind")
	}
}

func TestParseWeek(t *testing.T) {
	for week, monday := range map[string]string{"2026W01": "2025-12-29", "2026W05": "2026-01-26", "2026W53": "2026-12-28", "2021W01": "2021-01-04", "2020W53": "2020-12-28"} {
		days, err := ParseWeek(week)
		if err != nil || days[0] != monday || len(days) != 7 {
			t.Errorf("ParseWeek(%s) = %v, %v; want Monday %s", week, days, err, monday)
		}
	}
	for _, bad := range []string{"2025W53", "2026W00", "2026W5", "2026-W05", ""} {
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("ParseWeek(%q) accepted", bad)
		}
	}
}

// SeededIDs makes the same valid, time-ordered ids on every run; another
// seed makes others.
func TestSeededIDs(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	gen := func(seed string) []string {
		ids := SeededIDs(seed, at)
		out := make([]string, 5)
		for i := range out {
			out[i] = ids.New(time.Now()) // the clock does not matter
		}
		return out
	}
	a, b, c := gen("demo"), gen("demo"), gen("other")
	for i := range a {
		if a[i] != b[i] || a[i] == c[i] || !ValidID(a[i]) || a[i][14] != '7' || i > 0 && a[i] <= a[i-1] {
			t.Fatalf("ids %v %v %v", a, b, c)
		}
	}
	if IDs(nil).New(at) == IDs(nil).New(at) {
		t.Fatal("the zero IDs repeats")
	}
}
