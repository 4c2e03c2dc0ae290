package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhucun/crypt"
	"zhucun/domain"
)

// visit is a household visit of n households at a time.
func visit(id, village, town string, at time.Time, n int) domain.Record {
	r := domain.Record{ID: id, Type: domain.TypeReport, VillageID: village, TownID: town, CreatedBy: "c1", Version: 1, At: at,
		CreatedAt: at, UpdatedAt: at, Report: &domain.Report{Kind: domain.KindVisit, OccurredAt: at, Visitee: "household", Count: n}}
	r.Hash = r.Fingerprint()
	r.CreateHash = r.Hash
	return r
}

// testConcurrentEditsOfOneVersion: of many concurrent replaces of one
// version of a record, one wins and the rest are stale, with the stored
// record; the counts follow the winner only.
func testConcurrentEditsOfOneVersion(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r, err := s.CreateRecord(ctx, createW(visit(domain.NewID(at), "v1", "t1", at, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for round := 2; round <= 5; round++ {
		var won, stale atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := r
				rep := *r.Report
				rep.Count = 10*round + i
				next.Report, next.Version = &rep, round
				next.Hash = next.Fingerprint()
				got, err := s.ReplaceRecord(ctx, domain.RecordWrite{Record: next, Delta: domain.StatDelta(&r, next, shanghai)})
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, domain.ErrStale) && got.Version == round:
					stale.Add(1)
				default:
					t.Errorf("replace: %v, %+v", err, got)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || stale.Load() != 7 {
			t.Fatalf("version %d: %d won, %d stale", round, won.Load(), stale.Load())
		}
		if r, err = s.GetRecord(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	mar, _ := domain.ParsePeriod("202603")
	c, err := s.PeriodCounts(ctx, domain.StatsDistrict, mar)
	if err != nil || c[domain.MHouseholdsVisited] != int64(r.Report.Count) {
		t.Fatalf("households %d (%v), the stored record has %d", c[domain.MHouseholdsVisited], err, r.Report.Count)
	}
}

// testChangesPagedWhileWriting: a reader pages the changes feed in small
// pages while writers create and edit; every change number comes once and
// in order, and the last state seen of every record is its stored one.
func testChangesPagedWhileWriting(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	villages := []string{"va", "vb", "vc"}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var ids sync.Map
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				r := visit(domain.NewID(at), villages[(w+i)%3], "t", at.Add(time.Duration(i)*time.Minute), 1)
				got, err := s.CreateRecord(ctx, createW(r))
				if err != nil {
					t.Error(err)
					return
				}
				ids.Store(got.ID, true)
				if i%4 == 0 {
					next := got
					rep := *got.Report
					rep.Count = 2
					next.Report, next.Version = &rep, 2
					next.Hash = next.Fingerprint()
					if _, err := s.ReplaceRecord(ctx, domain.RecordWrite{Record: next, Delta: domain.StatDelta(&got, next, shanghai)}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]domain.Record{}
	var last, cursor int64
	read := func() int {
		page, next, err := s.Changes(ctx, villages, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.Seq <= last {
				t.Fatalf("seq %d after %d: a change twice or out of order", r.Seq, last)
			}
			last = r.Seq
			seen[r.ID] = r
		}
		if next < cursor {
			t.Fatalf("cursor went back from %d to %d", cursor, next)
		}
		cursor = next
		return len(page)
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	for read() > 0 {
	}
	n := 0
	ids.Range(func(k, _ any) bool {
		n++
		want, err := s.GetRecord(ctx, k.(string))
		if err != nil {
			t.Fatal(err)
		}
		if got := seen[k.(string)]; got.Version != want.Version || got.Seq != want.Seq {
			t.Errorf("record %s: the feed last gave version %d (seq %d), stored %d (seq %d)", k, got.Version, got.Seq, want.Version, want.Seq)
		}
		return true
	})
	if n != 160 || len(seen) != n {
		t.Fatalf("%d records written, %d seen in the feed", n, len(seen))
	}
}

// testResendAfterCrash: a create acknowledged before a crash is there
// after it, a resend is a duplicate with the stored record, and the counts
// hold it once.
func testResendAfterCrash(t *testing.T, b Backend) {
	if b.Crash == nil {
		t.Skip("the backend cannot crash in-process")
	}
	ctx := t.Context()
	s := b.Open(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := visit(domain.NewID(at), "v1", "t1", at, 4)
	if _, err := s.CreateRecord(ctx, createW(r)); err != nil {
		t.Fatal(err)
	}
	s = b.Crash(t, s)
	got, err := s.CreateRecord(ctx, createW(r))
	if !errors.Is(err, domain.ErrDuplicate) || got.CreateHash != r.Hash {
		t.Fatalf("resend after the crash: %v, %+v", err, got)
	}
	mar, _ := domain.ParsePeriod("202603")
	if c, err := s.PeriodCounts(ctx, domain.StatsTown("t1"), mar); err != nil || c[domain.MHouseholdsVisited] != 4 {
		t.Fatalf("households after the crash and resend: %v %v", c, err)
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("verify: %+v %v", diffs, err)
	}
}

// testCountsExactAcrossCrashes drives random creates, resends, edits that
// move a visit to another day and change its count, deletes and checkins,
// crashing the store between steps; after every restart every summary
// equals what the acknowledged writes add up to, and verify is clean.
func testCountsExactAcrossCrashes(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	base := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	live := map[string]domain.Record{}
	var ids []string
	type tally struct{ households, checkins, onPost int64 }
	want := func(approved bool) tally {
		var out tally
		days, onPost := map[[3]string]bool{}, map[[3]string]bool{}
		for _, r := range live {
			if approved && r.ReviewState() != domain.ReviewApproved {
				continue
			}
			k := [3]string{r.VillageID, r.At.In(shanghai).Format(domain.DateLayout), r.CreatedBy}
			if r.Report.Kind == domain.KindCheckin {
				days[k] = true
			} else {
				out.households += int64(r.Report.Count)
			}
			if r.OnPost {
				onPost[k] = true
			}
		}
		out.checkins, out.onPost = int64(len(days)), int64(len(onPost))
		return out
	}
	check := func(when string) {
		t.Helper()
		q, _ := domain.ParsePeriod("2026Q1")
		for _, approved := range []bool{false, true} {
			key := func(k string) string {
				if approved {
					return domain.ApprovedScope(k)
				}
				return k
			}
			var sum int64
			scopes := []string{key(domain.StatsTown("t1")), key(domain.StatsTown("t2")), key(domain.StatsDistrict), key("t:none")}
			many, err := s.PeriodCountsOf(ctx, scopes, q)
			if err != nil {
				t.Fatal(err)
			}
			manyCum, err := s.CumulativeCountsOf(ctx, scopes, q.To)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range scopes {
				c, err := s.PeriodCounts(ctx, sc, q)
				if err != nil {
					t.Fatal(err)
				}
				cum, err := s.CumulativeCounts(ctx, sc, q.To)
				if err != nil {
					t.Fatal(err)
				}
				// One read of several scopes answers what a read of each does.
				if many[sc] != c || manyCum[sc] != cum {
					t.Fatalf("%s: %s counts %v in one read of several, %v alone (cumulative %v, %v)", when, sc, many[sc], c, manyCum[sc], cum)
				}
				if sc == key(domain.StatsTown("t1")) || sc == key(domain.StatsTown("t2")) {
					sum += c[domain.MHouseholdsVisited]
				}
			}
			d, err := s.PeriodCounts(ctx, key(domain.StatsDistrict), q)
			if err != nil {
				t.Fatal(err)
			}
			w := want(approved)
			if d[domain.MHouseholdsVisited] != w.households || sum != w.households || d[domain.MCheckins] != w.checkins || d[domain.MOnPostDays] != w.onPost {
				t.Fatalf("%s (approved %v): district households %d, towns %d, checkins %d, on-post days %d; the writes add up to %+v",
					when, approved, d[domain.MHouseholdsVisited], sum, d[domain.MCheckins], d[domain.MOnPostDays], w)
			}
		}
	}
	// reviewed sets a random review state.
	reviewed := func(r *domain.Record) {
		r.Review = domain.ReviewStates[rng.IntN(len(domain.ReviewStates))]
	}
	for round := range 6 {
		for range 15 + rng.IntN(15) {
			switch op := rng.IntN(10); {
			case op < 5 || len(ids) == 0:
				v := rng.IntN(4)
				at := base.Add(time.Duration(rng.IntN(28*24)) * time.Hour)
				r := visit(domain.NewID(at), fmt.Sprint("v", v), fmt.Sprint("t", 1+v%2), at, 1+rng.IntN(9))
				r.CreatedBy = fmt.Sprint("c", rng.IntN(2))
				if rng.IntN(4) == 0 {
					r.Report.Kind, r.Report.Visitee, r.Report.Count = domain.KindCheckin, "", 0
					r.Hash = r.Fingerprint()
					r.CreateHash = r.Hash
				}
				r.OnPost = r.Report.Kind == domain.KindCheckin || rng.IntN(2) == 0
				reviewed(&r)
				got, err := s.CreateRecord(ctx, createW(r))
				if err != nil {
					t.Fatal(err)
				}
				live[got.ID], ids = got, append(ids, got.ID)
				if rng.IntN(3) == 0 {
					if _, err := s.CreateRecord(ctx, createW(r)); !errors.Is(err, domain.ErrDuplicate) {
						t.Fatalf("resend: %v", err)
					}
				}
			case op < 8:
				id := ids[rng.IntN(len(ids))]
				old := live[id]
				next := old
				rep := *old.Report
				next.At = base.Add(time.Duration(rng.IntN(28*24)) * time.Hour)
				rep.OccurredAt = next.At
				if rep.Kind == domain.KindVisit {
					rep.Count = 1 + rng.IntN(9)
				}
				next.Report, next.Version = &rep, old.Version+1
				next.Hash = next.Fingerprint()
				if rng.IntN(2) == 0 {
					reviewed(&next) // a review decision, with or without an edit
				}
				if rep.Kind != domain.KindCheckin && rng.IntN(3) == 0 {
					next.OnPost = !old.OnPost
				}
				got, err := s.ReplaceRecord(ctx, domain.RecordWrite{Record: next, Delta: domain.StatDelta(&old, next, shanghai)})
				if err != nil {
					t.Fatal(err)
				}
				live[id] = got
			default:
				i := rng.IntN(len(ids))
				old := live[ids[i]]
				tomb := old
				tomb.Deleted, tomb.Version = true, old.Version+1
				if _, err := s.ReplaceRecord(ctx, domain.RecordWrite{Record: tomb, Delta: domain.StatDelta(&old, tomb, shanghai)}); err != nil {
					t.Fatal(err)
				}
				delete(live, ids[i])
				ids = append(ids[:i], ids[i+1:]...)
			}
		}
		check(fmt.Sprintf("round %d", round))
		if b.Crash != nil && rng.IntN(3) > 0 {
			s = b.Crash(t, s)
		} else {
			s = b.Reopen(t, s)
		}
		check(fmt.Sprintf("round %d after the restart", round))
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("verify: %+v %v", diffs, err)
	}
}

// testStatsVerifyAndRebuild: a count that differs from the records is
// reported, and a rebuild repairs it, also across a restart.
func testStatsVerifyAndRebuild(t *testing.T, b Backend) {
	if b.Corrupt == nil {
		t.Skip("the backend cannot corrupt its counts")
	}
	ctx := t.Context()
	s := b.Open(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := s.CreateRecord(ctx, createW(visit(domain.NewID(at), "v1", "t1", at, 3))); err != nil {
		t.Fatal(err)
	}
	ck := visit(domain.NewID(at), "v1", "t1", at, 0)
	ck.Report.Kind, ck.Report.Visitee = domain.KindCheckin, ""
	for range 2 { // two checkins of one day count once
		ck.ID = domain.NewID(at)
		if _, err := s.CreateRecord(ctx, createW(ck)); err != nil {
			t.Fatal(err)
		}
	}
	b.Corrupt(t, s, "v1", "t1", "2026-03-02", 5)
	s = b.Reopen(t, s)
	diffs, err := s.VerifyStats(ctx)
	if err != nil || len(diffs) != 3 || diffs[0].Have != 8 || diffs[0].Want != 3 || diffs[0].Metric != "households_visited" {
		t.Fatalf("verify: %+v %v", diffs, err)
	}
	if err := s.RebuildStats(ctx); err != nil {
		t.Fatal(err)
	}
	s = b.Reopen(t, s)
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("after the rebuild: %+v %v", diffs, err)
	}
	mar, _ := domain.ParsePeriod("202603")
	if c, _ := s.PeriodCounts(ctx, "t:t1", mar); c[domain.MHouseholdsVisited] != 3 || c[domain.MCheckins] != 1 {
		t.Fatalf("town after the rebuild: %v", c)
	}
	// After the rebuild one of the two checkins goes: the day still counts.
	first, err := s.GetRecord(ctx, ck.ID)
	if err != nil {
		t.Fatal(err)
	}
	tomb := first
	tomb.Deleted, tomb.Version = true, 2
	if _, err := s.ReplaceRecord(ctx, domain.RecordWrite{Record: tomb, Delta: domain.StatDelta(&first, tomb, shanghai)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.PeriodCounts(ctx, "v:v1", mar); c[domain.MCheckins] != 1 {
		t.Fatalf("a day with a checkin left: %v", c)
	}
	if c, _ := s.CumulativeCounts(ctx, domain.StatsDistrict, "2026-03-02"); c[domain.MHouseholdsVisited] != 3 {
		t.Fatalf("cumulative: %v", c)
	}
	_ = context.Background
}

// Sealer is the data key the suite opens stores with: every test runs
// with the personal fields of records encrypted at rest.
var Sealer = func() *crypt.Sealer {
	s, err := crypt.NewSealer(crypt.Default, []byte("the conformance suite's data key, 32+ bytes"))
	if err != nil {
		panic(err)
	}
	return s
}()

// testPersonalFieldsSealed: the names a record holds of villagers,
// attendees, parties and candidates are not in the database as text, and
// every read gives them back.
func testPersonalFieldsSealed(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v := visit(domain.NewID(at), "v1", "t1", at, 2)
	v.Report.Names = []string{"张三丰", "李四光"}
	m := visit(domain.NewID(at.Add(time.Second)), "v1", "t1", at, 0)
	m.Report = &domain.Report{Kind: domain.KindMeeting, OccurredAt: at, MeetingType: "two_committees", Attendees: 2, AttendeeNames: []string{"王五岳"}}
	c := visit(domain.NewID(at.Add(2*time.Second)), "v1", "t1", at, 0)
	c.Report = &domain.Report{Kind: domain.KindReserveCandidate, OccurredAt: at,
		Candidate: &domain.Candidate{Name: "赵六合", BirthYear: 1990, Gender: "female", Education: "本科", Stage: "training"}}
	d := domain.Record{ID: domain.NewID(at.Add(3 * time.Second)), Type: domain.TypeDispute, VillageID: "v1", TownID: "t1", CreatedBy: "c1",
		Version: 1, At: at, CreatedAt: at, UpdatedAt: at, Dispute: &domain.Dispute{IdentifiedAt: at, Category: "land",
			Parties: []string{"孙七星", "周八方"}, Description: "地界", Status: domain.DisputeIdentified}}
	secret := []string{"张三丰", "李四光", "王五岳", "赵六合", "孙七星", "周八方", "本科", "female"}
	want := map[string]domain.Record{}
	for _, r := range []domain.Record{v, m, c, d} {
		r.Hash = r.Fingerprint()
		r.CreateHash = r.Hash
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		want[r.ID] = got
		raw := b.Raw(t, s, r.ID)
		for _, name := range secret {
			if strings.Contains(raw, name) {
				t.Fatalf("%s is stored as text: %s", name, raw)
			}
		}
		if !strings.Contains(raw, "sealed") {
			t.Fatalf("nothing sealed: %s", raw)
		}
	}
	check := func(how string, got domain.Record) {
		t.Helper()
		w := want[got.ID]
		switch {
		case w.Report != nil && (!slices.Equal(got.Report.Names, w.Report.Names) || !slices.Equal(got.Report.AttendeeNames, w.Report.AttendeeNames) ||
			(w.Report.Candidate == nil) != (got.Report.Candidate == nil) || w.Report.Candidate != nil && *w.Report.Candidate != *got.Report.Candidate):
			t.Fatalf("%s: report %+v, want %+v", how, got.Report, w.Report)
		case w.Dispute != nil && !slices.Equal(got.Dispute.Parties, w.Dispute.Parties):
			t.Fatalf("%s: dispute %+v, want %+v", how, got.Dispute, w.Dispute)
		}
	}
	for id := range want {
		got, err := s.GetRecord(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		check("get", got)
	}
	for _, typ := range []domain.RecordType{domain.TypeReport, domain.TypeDispute} {
		page, err := s.ListRecords(ctx, domain.RecordFilter{Type: typ, VillageIDs: []string{"v1"}}, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			check("list", r)
		}
	}
	page, _, err := s.Changes(ctx, []string{"v1"}, 0, 10)
	if err != nil || len(page) != 4 {
		t.Fatalf("changes: %d %v", len(page), err)
	}
	for _, r := range page {
		check("changes", r)
	}
	s = b.Reopen(t, s)
	got, err := s.GetRecord(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("after a restart", got)
}

// testPlainRecordsSealedOnOpen: records written before the store had a
// data key hold their names as text; the first open with a key seals
// them in place (version and change number kept), once.
func testPlainRecordsSealedOnOpen(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.OpenPlain(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v := visit(domain.NewID(at), "v1", "t1", at, 1)
	v.Report.Names = []string{"郭集人"}
	d := domain.Record{ID: domain.NewID(at.Add(time.Second)), Type: domain.TypeDispute, VillageID: "v1", TownID: "t1", CreatedBy: "c1",
		Version: 1, At: at, CreatedAt: at, UpdatedAt: at, Dispute: &domain.Dispute{IdentifiedAt: at, Category: "land",
			Parties: []string{"东玉人"}, Description: "地界", Status: domain.DisputeIdentified}}
	plain := visit(domain.NewID(at.Add(2*time.Second)), "v1", "t1", at, 3)
	var before []domain.Record
	for _, r := range []domain.Record{v, d, plain} {
		r.Hash = r.Fingerprint()
		r.CreateHash = r.Hash
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, got)
	}
	if raw := b.Raw(t, s, v.ID); !strings.Contains(raw, "郭集人") {
		t.Fatalf("a store without a key sealed: %s", raw)
	}
	s = b.ReopenSealed(t, s)
	for i, name := range []string{"郭集人", "东玉人"} {
		if raw := b.Raw(t, s, before[i].ID); strings.Contains(raw, name) || !strings.Contains(raw, "sealed") {
			t.Fatalf("not sealed on open: %s", raw)
		}
	}
	for _, w := range before {
		got, err := s.GetRecord(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != w.Version || got.Seq != w.Seq || got.Fingerprint() != w.Fingerprint() {
			t.Fatalf("sealing changed the record: %+v, was %+v", got, w)
		}
	}
	s = b.Reopen(t, s)
	if got, err := s.GetRecord(ctx, v.ID); err != nil || !slices.Equal(got.Report.Names, v.Report.Names) {
		t.Fatalf("after a reopen: %+v %v", got.Report, err)
	}
}
