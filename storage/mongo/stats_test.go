package mongo

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"zhucun/domain"
)

// abandon stops the store as a crash would: no last write of the counts.
func (s *Store) abandon() {
	s.stopBatchers()
	_ = s.client.Disconnect(context.Background())
}

func reportRec(id, village, town, kind string, at time.Time, n int, cadre string) domain.Record {
	r := domain.Record{ID: id, Type: domain.TypeReport, VillageID: village, TownID: town, Version: 1, At: at, CreatedBy: cadre,
		Report: &domain.Report{Kind: kind, OccurredAt: at}}
	switch kind {
	case domain.KindVisit:
		r.Report.Visitee, r.Report.Count = "household", n
	case domain.KindMeeting:
		r.Report.MeetingType = "two_committees"
	case domain.KindUnitResearch:
		r.Report.People = n
	}
	return r
}

// TestStatsExactAcrossCrashes writes, edits and deletes at random, with
// the store abandoned (no last write of the counts) between steps, and
// checks after each reopening that every count equals a recount.
func TestStatsExactAcrossCrashes(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	name := s.db.Name()
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("ZHUCUN_TEST_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	villages := []string{"v1", "v2", "v3"}
	townOf := map[string]string{"v1": "t1", "v2": "t1", "v3": "t2"}
	kinds := []string{domain.KindVisit, domain.KindMeeting, domain.KindCheckin, domain.KindUnitResearch, domain.KindLeaderResearch}
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var live []domain.Record
	reopen := func() {
		s.abandon()
		var err error
		s, err = Open(ctx, server.URI, name, Options{})
		if err != nil {
			t.Fatal(err)
		}
	}
	for step := range 240 {
		switch op := rng.IntN(10); {
		case op < 5 || len(live) == 0:
			v := villages[rng.IntN(len(villages))]
			r := reportRec(domain.NewID(base.Add(time.Duration(step)*time.Second)), v, townOf[v], kinds[rng.IntN(len(kinds))],
				base.Add(time.Duration(rng.IntN(60*24))*time.Hour), 1+rng.IntN(5), []string{"c1", "c2"}[rng.IntN(2)])
			r.Hash = r.Fingerprint()
			got, err := s.CreateRecord(ctx, createW(r))
			if err != nil {
				t.Fatal(err)
			}
			live = append(live, got)
			if rng.IntN(4) == 0 { // a resend: nothing changes
				if _, err := s.CreateRecord(ctx, createW(r)); err == nil {
					t.Fatal("a resent create was stored twice")
				}
			}
		case op < 8:
			i := rng.IntN(len(live))
			r := live[i]
			next := r
			rep := *r.Report
			next.Report = &rep
			rep.OccurredAt = base.Add(time.Duration(rng.IntN(60*24)) * time.Hour) // another day, maybe another month
			if rep.Kind == domain.KindVisit {
				rep.Count = 1 + rng.IntN(9)
			}
			next.Version++
			got, err := s.ReplaceRecord(ctx, replaceW(t, s, next))
			if err != nil {
				t.Fatal(err)
			}
			live[i] = got
		default:
			i := rng.IntN(len(live))
			tomb := live[i]
			tomb.Deleted, tomb.Version = true, tomb.Version+1
			if _, err := s.ReplaceRecord(ctx, replaceW(t, s, tomb)); err != nil {
				t.Fatal(err)
			}
			live = append(live[:i], live[i+1:]...)
		}
		if rng.IntN(8) == 0 { // the flusher's turn, whole or cut short
			s.crash.flushDocs = rng.IntN(4)
			err := s.flushStats(ctx)
			if s.crash.flushDocs > 0 && err != nil {
				reopen()
			}
			s.crash.flushDocs = 0
		}
		if rng.IntN(12) == 0 && len(live) > 0 { // a crash between an edit's intent and its record
			i := rng.IntN(len(live))
			next := live[i]
			rep := *next.Report
			next.Report, next.Version = &rep, next.Version+1
			rep.OccurredAt = rep.OccurredAt.Add(-48 * time.Hour)
			s.crash.afterIntent = true
			if _, err := s.ReplaceRecord(ctx, replaceW(t, s, next)); err == nil {
				t.Fatal("the crash point did not stop the edit")
			}
			reopen()
		}
		if rng.IntN(25) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // let the mover and the flusher run, or not
			reopen()
			diffs, err := s.VerifyStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) > 0 {
				t.Fatalf("step %d: %d counts differ from a recount, first %+v", step, len(diffs), diffs[0])
			}
		}
	}
	diffs, err := s.VerifyStats(ctx)
	if err != nil || len(diffs) > 0 {
		t.Fatalf("at the end: %v %+v", err, diffs)
	}
	// The period and range sums agree with the days.
	mar, _ := domain.ParsePeriod("202603")
	month, _ := s.PeriodCounts(ctx, "d", mar)
	custom, _ := s.PeriodCounts(ctx, "d", domain.Period{From: "2026-03-01", To: "2026-03-31"})
	if month != custom {
		t.Fatalf("March %v, the same days as a range %v", month, custom)
	}
	var towns domain.Counts
	for _, tw := range []string{"t1", "t2"} {
		c, _ := s.PeriodCounts(ctx, "t:"+tw, mar)
		for i := range c {
			towns[i] += c[i]
		}
	}
	if towns != month {
		t.Fatalf("towns add up to %v, the district has %v", towns, month)
	}
	_ = s.Close(ctx)
}

// TestStatsVerifyAndRebuild: a count that differs from the records is
// reported, and a rebuild repairs it, also across a restart.
func TestStatsVerifyAndRebuild(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := reportRec(domain.NewID(at), "v1", "t1", domain.KindVisit, at, 3, "c1")
	r.Hash = r.Fingerprint()
	if _, err := s.CreateRecord(ctx, createW(r)); err != nil {
		t.Fatal(err)
	}
	// A delta no record made: a bug or a hand edit of the log.
	bogus := statEntryRow{Seq: 1 << 40, Village: "v1", Town: "t1", Events: []statEventRow{{D: "2026-03-02", M: "households_visited", N: 5}}}
	if err := insert(ctx, s, colStatLog, bogus); err != nil {
		t.Fatal(err)
	}
	name := s.db.Name()
	s.abandon()
	s, err := Open(ctx, server.URI, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	diffs, err := s.VerifyStats(ctx)
	if err != nil || len(diffs) != 3 || diffs[0].Have != 8 || diffs[0].Want != 3 {
		t.Fatalf("verify: %+v %v", diffs, err)
	}
	if err := s.RebuildStats(ctx); err != nil {
		t.Fatal(err)
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("after the rebuild: %+v %v", diffs, err)
	}
	mar, _ := domain.ParsePeriod("202603")
	if c, _ := s.PeriodCounts(ctx, "t:t1", mar); c[domain.MHouseholdsVisited] != 3 {
		t.Fatalf("town after the rebuild: %v", c)
	}
}
