package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"zhucun/domain"
)

// testReviewStatesAndCountedDays: a record's review state and history and
// its on-post flag survive a reopen; lists filter by review state (records
// never reviewed are submitted); the days a key counted are listed per
// village, and leave the list when their records go.
func testReviewStatesAndCountedDays(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	var made []domain.Record
	for i, st := range []string{"", domain.ReviewSubmitted, domain.ReviewApproved, domain.ReviewReturned, domain.ReviewReturned} {
		at := base.Add(time.Duration(i) * 24 * time.Hour)
		r := visit(domain.NewID(at), "v1", "t1", at, 1+i)
		r.Review, r.OnPost = st, i != 1
		if st != "" {
			r.ReviewHistory = []domain.ReviewEvent{{State: st, By: "l1", ByName: "组长", At: at.Add(time.Hour), Comment: "第" + st}}
		}
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, got)
	}
	s = b.Reopen(t, s)
	for _, m := range made {
		got, err := s.GetRecord(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ReviewState() != m.ReviewState() || got.OnPost != m.OnPost || len(got.ReviewHistory) != len(m.ReviewHistory) ||
			len(m.ReviewHistory) > 0 && (got.ReviewHistory[0] != m.ReviewHistory[0]) {
			t.Fatalf("stored %+v %v %+v, want %+v %v %+v", got.ReviewState(), got.OnPost, got.ReviewHistory, m.ReviewState(), m.OnPost, m.ReviewHistory)
		}
	}
	for st, want := range map[string]int{domain.ReviewSubmitted: 2, domain.ReviewApproved: 1, domain.ReviewReturned: 2, "": 5} {
		rs, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeReport, VillageIDs: []string{"v1"}, Review: st}, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != want {
			t.Fatalf("review %q lists %d, want %d", st, len(rs), want)
		}
		for _, r := range rs {
			if st != "" && r.ReviewState() != st {
				t.Fatalf("review %q lists a record that is %s", st, r.ReviewState())
			}
		}
	}
	// Records 0, 2, 3, 4 are on post on days 2, 4, 5, 6 of March, for c1.
	days, err := s.CountedDays(ctx, []string{"v1", "v9"}, domain.OnPostKey("c1"), "2026-03-01", "2026-03-05")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(days, []string{"2026-03-02", "2026-03-04", "2026-03-05"}) {
		t.Fatalf("on-post days %v", days)
	}
	if days, err := s.CountedDays(ctx, []string{"v2"}, domain.OnPostKey("c1"), "2026-03-01", "2026-03-31"); err != nil || len(days) != 0 {
		t.Fatalf("another village's days: %v %v", days, err)
	}
	tomb := made[2]
	tomb.Deleted, tomb.Version = true, tomb.Version+1
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, tomb)); err != nil {
		t.Fatal(err)
	}
	if days, _ := s.CountedDays(ctx, []string{"v1"}, domain.OnPostKey("c1"), "2026-03-01", "2026-03-31"); !slices.Equal(days, []string{"2026-03-02", "2026-03-05", "2026-03-06"}) {
		t.Fatalf("on-post days after a delete %v", days)
	}
	// An approved record counts on the approved basis; the rest do not.
	q, _ := domain.ParsePeriod("202603")
	ap, err := s.PeriodCounts(ctx, domain.ApprovedScope(domain.StatsVillage("v1")), q)
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := s.PeriodCounts(ctx, domain.StatsVillage("v1"), q); ap[domain.MHouseholdsVisited] != 0 || rep[domain.MHouseholdsVisited] != 1+2+4+5 {
		t.Fatalf("approved %d reported %d households", ap[domain.MHouseholdsVisited], rep[domain.MHouseholdsVisited])
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("verify: %+v %v", diffs, err)
	}
}

// testApprovalsAndLeaves: approvals and leave requests are versioned (one
// write of a version wins), listed by scope and state, and survive a reopen.
func testApprovalsAndLeaves(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 4, 2, 3, 0, 0, 0, time.UTC)
	a := domain.Approval{Level: domain.ApprovalVillage, ScopeID: "v1", TownID: "t1", Period: "202603", State: domain.ApprovalSubmitted, Version: 1,
		History: []domain.ApprovalEvent{{Action: domain.ActSubmit, State: domain.ApprovalSubmitted, By: "u1", At: now}}, UpdatedAt: now}
	if err := s.PutApproval(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApproval(ctx, a); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a second version 1: %v", err)
	}
	a2 := a
	a2.State, a2.Version, a2.LockedBy, a2.LockedByName, a2.LockedAt = domain.ApprovalApproved, 2, "u2", "镇管理员", &now
	if err := s.PutApproval(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApproval(ctx, a2); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a second version 2: %v", err)
	}
	other := domain.Approval{Level: domain.ApprovalTown, ScopeID: "t2", TownID: "t2", Period: "2026S1", State: domain.ApprovalSubmitted, Version: 1, UpdatedAt: now}
	if err := s.PutApproval(ctx, other); err != nil {
		t.Fatal(err)
	}
	s = b.Reopen(t, s)
	got, err := s.GetApproval(ctx, domain.ApprovalVillage, "v1", "202603")
	if err != nil || got.State != domain.ApprovalApproved || got.LockedAt == nil || !got.LockedAt.Equal(now) || len(got.History) != 1 {
		t.Fatalf("stored approval %+v %v", got, err)
	}
	if _, err := s.GetApproval(ctx, domain.ApprovalVillage, "v1", "202604"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a period never acted on: %v", err)
	}
	locked, err := s.LockedApprovals(ctx)
	if err != nil || len(locked) != 1 || locked[0].Key() != a.Key() {
		t.Fatalf("locked: %+v %v", locked, err)
	}
	l, err := s.ListApprovals(ctx, domain.ApprovalFilter{TownIDs: []string{"t1"}}, domain.Page{})
	if err != nil || len(l.Items) != 1 || l.Items[0].ScopeID != "v1" {
		t.Fatalf("town t1's approvals: %+v %v", l, err)
	}
	if l, err := s.ListApprovals(ctx, domain.ApprovalFilter{TownIDs: []string{}}, domain.Page{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("no towns lists %+v %v", l, err)
	}
	if l, err := s.ListApprovals(ctx, domain.ApprovalFilter{}, domain.Page{Limit: 1}); err != nil || len(l.Items) != 1 || l.Next == "" {
		t.Fatalf("a page of one: %+v %v", l, err)
	} else if l2, err := s.ListApprovals(ctx, domain.ApprovalFilter{}, domain.Page{Limit: 1, After: l.Next}); err != nil || len(l2.Items) != 1 || l2.Items[0].Key() == l.Items[0].Key() {
		t.Fatalf("the next page: %+v %v", l2, err)
	}

	mk := func(id, cadre, town, village, from, to, state string) domain.Leave {
		return domain.Leave{ID: id, CadreID: cadre, CadreName: "干部", TownIDs: []string{town}, VillageIDs: []string{village}, Kind: domain.LeaveKindLeave,
			From: from, To: to, Reason: "就医", State: state, Hash: "h" + id, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	ids := []string{domain.NewID(now), domain.NewID(now.Add(time.Second)), domain.NewID(now.Add(2 * time.Second))}
	for _, lv := range []domain.Leave{mk(ids[0], "c1", "t1", "v1", "2026-04-01", "2026-04-03", domain.LeavePending),
		mk(ids[1], "c2", "t2", "v2", "2026-04-02", "2026-04-02", domain.LeavePending),
		mk(ids[2], "c1", "t1", "v1", "2026-05-01", "2026-05-02", domain.LeavePending)} {
		if _, err := s.CreateLeave(ctx, lv); err != nil {
			t.Fatal(err)
		}
	}
	if stored, err := s.CreateLeave(ctx, mk(ids[0], "c9", "t9", "v9", "2026-01-01", "2026-01-01", domain.LeavePending)); !errors.Is(err, domain.ErrDuplicate) || stored.CadreID != "c1" {
		t.Fatalf("a second create of one id: %+v %v", stored, err)
	}
	lv, _ := s.GetLeave(ctx, ids[0])
	lv.State, lv.Version = domain.LeaveApproved, 2
	if err := s.ReplaceLeave(ctx, lv); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceLeave(ctx, lv); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a second version 2: %v", err)
	}
	s = b.Reopen(t, s)
	ap, err := s.ApprovedLeaves(ctx, "2026-04-03", "2026-04-30")
	if err != nil || len(ap) != 1 || ap[0].ID != ids[0] {
		t.Fatalf("approved leaves: %+v %v", ap, err)
	}
	if snap, err := s.LedgerSnapshot(ctx); err != nil || len(snap.Leaves) != 1 || snap.Leaves[0].ID != ids[0] {
		t.Fatalf("the ledger's leaves: %+v %v", snap.Leaves, err)
	}
	for _, c := range []struct {
		f    domain.LeaveFilter
		want []string
	}{
		{domain.LeaveFilter{}, []string{ids[2], ids[1], ids[0]}},
		{domain.LeaveFilter{CadreID: "c1"}, []string{ids[2], ids[0]}},
		{domain.LeaveFilter{TownIDs: []string{"t2"}}, []string{ids[1]}},
		{domain.LeaveFilter{VillageIDs: []string{"v1", "v3"}}, []string{ids[2], ids[0]}},
		{domain.LeaveFilter{VillageIDs: []string{}}, nil},
		{domain.LeaveFilter{State: domain.LeavePending}, []string{ids[2], ids[1]}},
		{domain.LeaveFilter{From: "2026-04-03", To: "2026-04-30"}, []string{ids[0]}},
	} {
		l, err := s.ListLeaves(ctx, c.f, domain.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range l.Items {
			got = append(got, x.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("%+v lists %v, want %v", c.f, got, c.want)
		}
	}
	if l, err := s.ListLeaves(ctx, domain.LeaveFilter{}, domain.Page{Limit: 2}); err != nil || len(l.Items) != 2 || l.Next != ids[1] {
		t.Fatalf("a page of two: %+v %v", l, err)
	} else if l2, _ := s.ListLeaves(ctx, domain.LeaveFilter{}, domain.Page{Limit: 2, After: l.Next}); len(l2.Items) != 1 || l2.Items[0].ID != ids[0] {
		t.Fatalf("the next page: %+v", l2)
	}
}
