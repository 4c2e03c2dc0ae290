package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
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

// testNotificationsAndGrants: a notice is stored once per key; an inbox
// lists what is delivered by now, newest first, and counts the unread;
// marks touch only the owner's delivered notices; a settled item drops
// the undelivered and stops the pushes; grants count up and down; the
// openid of an account is found; review states are counted.
func testNotificationsAndGrants(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 4, 2, 1, 0, 0, 0, time.UTC)
	later := now.Add(6 * time.Hour)
	mk := func(i int, user, rule, item string, at time.Time) domain.Notification {
		return domain.Notification{ID: domain.NewID(now.Add(time.Duration(i) * time.Second)), Key: user + "|" + rule + "|" + item + "|2026-04-02",
			UserID: user, Rule: rule, Item: item, Title: "记录被退回", Body: "缺照片", Data: map[string]string{"recordId": item}, Day: "2026-04-02",
			DeliverAt: at, CreatedAt: now, Push: domain.PushPending, PushNext: at}
	}
	ns := []domain.Notification{mk(0, "u1", domain.RuleRecordReturned, "r1", now), mk(1, "u1", domain.RuleRecordReturned, "r2", now),
		mk(2, "u1", domain.RuleRecordReturned, "r3", later), mk(3, "u2", domain.RuleRecordReturned, "r1", now)}
	for _, n := range ns {
		if added, err := s.AddNotification(ctx, n); err != nil || !added {
			t.Fatalf("add: %v %v", added, err)
		}
	}
	again := mk(9, "u1", domain.RuleRecordReturned, "r1", now)
	if added, err := s.AddNotification(ctx, again); err != nil || added {
		t.Fatalf("a second notice of one key: %v %v", added, err)
	}
	s = b.Reopen(t, s)
	ids := func(l []domain.Notification) []string {
		var out []string
		for _, n := range l {
			out = append(out, n.ID)
		}
		return out
	}
	l, err := s.Notifications(ctx, "u1", now.Add(time.Minute), false, domain.Page{})
	if err != nil || !slices.Equal(ids(l.Items), []string{ns[1].ID, ns[0].ID}) || l.Items[0].Data["recordId"] != "r2" || !l.Items[0].DeliverAt.Equal(now) {
		t.Fatalf("u1's inbox: %+v %v", l.Items, err)
	}
	if p, _ := s.Notifications(ctx, "u1", now.Add(time.Minute), false, domain.Page{Limit: 1}); len(p.Items) != 1 || p.Next != ns[1].ID {
		t.Fatalf("a page of one: %+v", p)
	} else if p2, _ := s.Notifications(ctx, "u1", now.Add(time.Minute), false, domain.Page{Limit: 1, After: p.Next}); !slices.Equal(ids(p2.Items), []string{ns[0].ID}) {
		t.Fatalf("the next page: %+v", p2)
	}
	if n, err := s.UnreadCount(ctx, "u1", now.Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("unread %d %v", n, err)
	}
	// Marks: the owner's delivered notices only.
	if n, err := s.MarkRead(ctx, "u1", []string{ns[0].ID, ns[3].ID, ns[2].ID}, now.Add(time.Minute), now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("marked %d %v", n, err)
	}
	if n, _ := s.UnreadCount(ctx, "u2", now.Add(time.Minute)); n != 1 {
		t.Fatalf("u2's notice was marked")
	}
	if l, _ := s.Notifications(ctx, "u1", now.Add(time.Minute), true, domain.Page{}); !slices.Equal(ids(l.Items), []string{ns[1].ID}) {
		t.Fatalf("unread: %+v", l.Items)
	}
	// A push's state is stored; a read mark made meanwhile stays.
	due, err := s.DuePushes(ctx, now.Add(time.Minute), 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due pushes %d %v", len(due), err)
	}
	for _, n := range due {
		if n.ID == ns[0].ID {
			n.Push, n.PushTries = domain.PushSent, 1
			if err := s.SetPush(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	if l, _ := s.Notifications(ctx, "u1", now.Add(time.Minute), false, domain.Page{}); l.Items[1].Push != domain.PushSent || l.Items[1].ReadAt == nil {
		t.Fatalf("after the push: %+v", l.Items[1])
	}
	// Settling r1 stops u2's push; settling r3 drops its undelivered notice.
	for _, item := range []string{"r1", "r3"} {
		if err := s.DropQueued(ctx, domain.RuleRecordReturned, item, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := s.DuePushes(ctx, later.Add(time.Minute), 10); !slices.Equal(ids(due), []string{ns[1].ID}) {
		t.Fatalf("due after settling: %v", ids(due))
	}
	if l, _ := s.Notifications(ctx, "u1", later.Add(time.Minute), false, domain.Page{}); len(l.Items) != 2 {
		t.Fatalf("the dropped notice was delivered: %+v", l.Items)
	}
	if l, _ := s.Notifications(ctx, "u2", now.Add(time.Minute), false, domain.Page{}); len(l.Items) != 1 || l.Items[0].Push != domain.PushDropped {
		t.Fatalf("u2's settled notice: %+v", l.Items)
	}

	// Grants.
	if err := s.AddGrants(ctx, "u1", []string{"tA", "tA", "tB"}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Grants(ctx, "u1"); err != nil || g["tA"] != 2 || g["tB"] != 1 {
		t.Fatalf("grants %v %v", g, err)
	}
	for i, want := range []bool{true, true, false} {
		if ok, err := s.UseGrant(ctx, "u1", "tA"); err != nil || ok != want {
			t.Fatalf("use %d: %v %v", i, ok, err)
		}
	}
	if err := s.ClearGrants(ctx, "u1", "tB"); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Grants(ctx, "u1"); len(g) != 0 {
		t.Fatalf("grants left %v", g)
	}
	// The openid of an account.
	if _, err := s.WeChatOpenID(ctx, "u1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an unbound account's openid: %v", err)
	}
	if err := s.BindWeChat(ctx, "openid-1", "u1", now); err != nil {
		t.Fatal(err)
	}
	if id, err := s.WeChatOpenID(ctx, "u1"); err != nil || id != "openid-1" {
		t.Fatalf("openid %q %v", id, err)
	}
	// Review states counted: one approved, two never reviewed (submitted).
	for i, st := range []string{domain.ReviewApproved, "", domain.ReviewSubmitted, domain.ReviewReturned} {
		r := visit(domain.NewID(now.Add(time.Duration(i)*time.Second)), "v1", "t1", now, 1)
		r.Review = st
		if _, err := s.CreateRecord(ctx, createW(r)); err != nil {
			t.Fatal(err)
		}
	}
	for st, want := range map[string]int64{domain.ReviewSubmitted: 2, domain.ReviewApproved: 1, domain.ReviewReturned: 1} {
		if n, err := s.CountReview(ctx, []string{"v1", "v2"}, st); err != nil || n != want {
			t.Fatalf("count %s: %d %v", st, n, err)
		}
	}
}

// Seal is the audit key the suite's stores are opened with.
var Seal = domain.AuditSeal{Key: []byte("the conformance suite's audit key")}

// testAuditChain: audit entries appended on their own and with record
// writes, from many goroutines at once and across a crash, form one chain
// — every place once, in order, each seal checking — and the chain finds
// an entry sealed under another key.
func testAuditChain(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	write := func(n int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					at := base.Add(time.Duration(g*1000+i) * time.Second)
					e := domain.AuditEntry{ID: domain.NewID(at), At: at, UserID: "u", Entity: "town", EntityID: "t1", Action: "update", Addr: "10.0.0.1"}
					if i%2 == 0 {
						if err := s.AppendAudit(ctx, e); err != nil {
							t.Error(err)
						}
						continue
					}
					r := visit(domain.NewID(at), "v1", "t1", at, 1)
					e.Entity, e.EntityID, e.Action = "report", r.ID, "create"
					w := createW(r)
					w.Audit = &e
					if _, err := s.CreateRecord(ctx, w); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	verify := func(when string, entries int64) {
		t.Helper()
		v := domain.AuditVerifier{Seal: Seal}
		if err := s.AuditChain(ctx, func(e domain.AuditEntry) error { v.Add(e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(v.Problems) > 0 || v.Entries != entries {
			t.Fatalf("%s: %d entries, problems %+v; want %d entries", when, v.Entries, v.Problems, entries)
		}
	}
	write(10)
	verify("written", 40)
	if b.Crash != nil {
		s = b.Crash(t, s)
	} else {
		s = b.Reopen(t, s)
	}
	write(5)
	verify("after a crash", 60)
	// A listing gives each entry's place and seal, as the chain has them.
	sealOf := map[string]string{}
	_ = s.AuditChain(ctx, func(e domain.AuditEntry) error { sealOf[e.ID] = fmt.Sprint(e.Seq, e.Hash); return nil })
	l, err := s.ListAudit(ctx, domain.AuditFilter{}, domain.Page{Limit: 100})
	if err != nil || len(l.Items) != 60 {
		t.Fatalf("list: %d %v", len(l.Items), err)
	}
	for _, e := range l.Items {
		if e.Seq == 0 || fmt.Sprint(e.Seq, e.Hash) != sealOf[e.ID] {
			t.Fatalf("listed entry %s at %d sealed %q, the chain has %s", e.ID, e.Seq, e.Hash, sealOf[e.ID])
		}
	}
	// An entry written around the store, sealed under another key, is found.
	other := domain.AuditVerifier{Seal: domain.AuditSeal{Key: []byte("another key")}}
	_ = s.AuditChain(ctx, func(e domain.AuditEntry) error { other.Add(e); return nil })
	if len(other.Problems) == 0 {
		t.Fatal("the chain checks under another key")
	}
}

// testAuditPrune: a prune removes the oldest entries as one verified
// segment, keeps a sealed head the rest verifies from, never the last
// entry, and goes on across a restart with the chain whole.
func testAuditPrune(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	add := func(at time.Time) {
		t.Helper()
		if err := s.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(at), At: at, UserID: "u", Entity: "town", EntityID: "t1", Action: "update"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		add(now.AddDate(0, 0, -300+i)) // ten months old
	}
	for i := range 4 {
		add(now.AddDate(0, 0, -10+i))
	}
	p := domain.AuditPruner{Store: s, Seal: Seal, Audit: domain.Auditor{Store: s, Now: func() time.Time { return now }}, Now: func() time.Time { return now }}
	if _, err := p.Prune(ctx, domain.System("test"), now.AddDate(0, 0, -100)); err == nil {
		t.Fatal("a prune of entries 100 days old ran")
	}
	n, err := p.Prune(ctx, domain.System("test"), now.AddDate(0, 0, -200))
	if err != nil || n != 6 {
		t.Fatalf("prune: %d %v", n, err)
	}
	verify := func(when string, want int64) {
		t.Helper()
		head, err := s.AuditHead(ctx)
		if err != nil || head.Seq != 6 {
			t.Fatalf("%s: head %+v %v", when, head, err)
		}
		last, err := s.AuditLast(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := domain.AuditAnchor{Seq: last.Seq, Hash: last.Hash, At: now}
		Seal.SealAnchor(&a)
		v := domain.AuditVerifier{Seal: Seal, Anchor: a}
		v.Start(head)
		if err := s.AuditChain(ctx, func(e domain.AuditEntry) error { v.Add(e); return nil }); err != nil {
			t.Fatal(err)
		}
		v.End()
		if len(v.Problems) > 0 || v.Entries != want {
			t.Fatalf("%s: %d entries, problems %+v", when, v.Entries, v.Problems)
		}
		// Without the head, the gap at the start shows.
		bare := domain.AuditVerifier{Seal: Seal}
		_ = s.AuditChain(ctx, func(e domain.AuditEntry) error { bare.Add(e); return nil })
		if len(bare.Problems) == 0 || bare.Problems[0].Kind != domain.ChainRemoved {
			t.Fatalf("%s: the pruned start does not show without its head: %+v", when, bare.Problems)
		}
	}
	verify("pruned", 5) // four recent entries and the prune's own
	s = b.Reopen(t, s)
	add(now.Add(time.Hour))
	verify("after a restart", 6)
	// Nothing more is old enough; the last entry is never pruned.
	p.Store, p.Audit.Store = s, s
	if n, err := p.Prune(ctx, domain.System("test"), now.AddDate(0, 0, -200)); err != nil || n != 0 {
		t.Fatalf("a second prune: %d %v", n, err)
	}
}

// testFeedback: complaints and suggestions are created once per id (a
// resend answers the stored one), replaced by version, and listed newest
// first by sender and state, page by page.
func testFeedback(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		user := "u1"
		if i%2 == 1 {
			user = "u2"
		}
		f := domain.Feedback{ID: domain.NewID(at.Add(time.Duration(i) * time.Minute)), Kind: domain.FeedbackSuggestion, Topic: domain.FeedbackSystem,
			Text: fmt.Sprintf("建议%d", i), UserID: user, State: domain.FeedbackOpen, CreatedAt: at, UpdatedAt: at, Version: 1}
		if _, err := s.CreateFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	f, err := s.GetFeedback(ctx, ids[0])
	if err != nil || f.Text != "建议0" {
		t.Fatalf("get: %+v %v", f, err)
	}
	again := f
	again.Text = "另一条"
	if stored, err := s.CreateFeedback(ctx, again); !errors.Is(err, domain.ErrDuplicate) || stored.Text != "建议0" {
		t.Fatalf("a second create of one id: %+v %v", stored, err)
	}
	ans := at.Add(time.Hour)
	f.State, f.Answer, f.AnsweredAt, f.Version = domain.FeedbackAnswered, "已处理", &ans, 2
	if err := s.ReplaceFeedback(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceFeedback(ctx, f); !errors.Is(err, domain.ErrStale) {
		t.Fatalf("a stale replace: %v", err)
	}
	if got, _ := s.GetFeedback(ctx, ids[0]); got.Answer != "已处理" || got.AnsweredAt == nil || !got.AnsweredAt.Equal(ans) {
		t.Fatalf("after the answer: %+v", got)
	}
	l, err := s.ListFeedback(ctx, domain.FeedbackFilter{UserID: "u1"}, domain.Page{Limit: 2})
	if err != nil || len(l.Items) != 2 || l.Items[0].ID != ids[4] || l.Next == "" {
		t.Fatalf("u1's first page: %+v %v", l, err)
	}
	l, err = s.ListFeedback(ctx, domain.FeedbackFilter{UserID: "u1"}, domain.Page{Limit: 2, After: l.Next})
	if err != nil || len(l.Items) != 1 || l.Items[0].ID != ids[0] {
		t.Fatalf("u1's second page: %+v %v", l, err)
	}
	if l, _ := s.ListFeedback(ctx, domain.FeedbackFilter{State: domain.FeedbackOpen}, domain.Page{}); len(l.Items) != 4 {
		t.Fatalf("open: %d", len(l.Items))
	}
}
