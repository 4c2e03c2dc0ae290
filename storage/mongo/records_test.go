package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

func TestBulkLoadRecords(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(n int) []domain.Record {
		var rs []domain.Record
		for i := range n {
			r := domain.Record{ID: domain.NewID(base), Type: domain.TypeReport, VillageID: "v9", TownID: "t", Version: 1,
				At: base.Add(time.Duration(i) * time.Minute), Report: &domain.Report{Kind: "visit", OccurredAt: base}}
			r.Hash = r.Fingerprint()
			rs = append(rs, r)
		}
		return rs
	}
	first := mk(1500) // more than one reserved block
	if err := s.BulkLoadRecords(ctx, "v9", first); err != nil {
		t.Fatal(err)
	}
	one := mk(1)[0]
	got, err := s.CreateRecord(ctx, createW(one))
	if err != nil || got.Seq != first[len(first)-1].Seq+1 {
		t.Fatalf("create after bulk: seq %d, %v", got.Seq, err)
	}
	if r, err := s.GetRecord(ctx, first[700].ID); err != nil || r.Seq != first[700].Seq {
		t.Fatalf("GetRecord of a bulk record: %+v, %v", r, err)
	}
	page, next, err := s.Changes(ctx, []string{"v9"}, 0, 500)
	if err != nil || len(page) != 500 || page[0].Seq != first[0].Seq || next != page[499].Seq {
		t.Fatalf("changes: %d items, next %d, %v", len(page), next, err)
	}
}

// TestInboxMover: records read the same before, during and after the mover
// copies them out of the inbox; a copy cut short (the record in both
// places) resolves to the newer version.
func TestInboxMover(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	var made []domain.Record
	for i := range 30 {
		r := domain.Record{ID: domain.NewID(at), Type: domain.TypeReport, VillageID: fmt.Sprint("mv", i%3), TownID: "t", Version: 1,
			At: at.Add(time.Duration(i) * time.Hour), Report: &domain.Report{Kind: "visit", OccurredAt: at}}
		r.Hash = r.Fingerprint()
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, got)
	}
	check := func(stage string) {
		t.Helper()
		for _, r := range made {
			got, err := s.GetRecord(ctx, r.ID)
			if err != nil || got.ID != r.ID {
				t.Fatalf("%s: GetRecord(%s): %v", stage, r.ID, err)
			}
		}
		l, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypeReport, VillageIDs: []string{"mv0", "mv1", "mv2"}}, nil, 100)
		if err != nil || len(l) != 30 {
			t.Fatalf("%s: listed %d, %v", stage, len(l), err)
		}
		ch, _, err := s.Changes(ctx, []string{"mv0", "mv1", "mv2"}, 0, 100)
		if err != nil || len(ch) != 30 {
			t.Fatalf("%s: %d changes, %v", stage, len(ch), err)
		}
	}
	check("before the move")
	moveAll(t, s)
	for _, col := range inboxCollections() {
		if n, err := s.db.Collection(col).CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
			t.Fatalf("%s holds %d after moving, %v", col, n, err)
		}
	}
	check("after the move")
	// An edit after the move goes to the month; a resend of the create is a duplicate.
	up := made[4]
	up.Version, up.Deleted = 2, true
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, up)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CreateRecord(ctx, createW(made[4])); !errors.Is(err, domain.ErrDuplicate) || got.Version != 2 {
		t.Fatalf("resend after the move: %v, version %d", err, got.Version)
	}
	// A move cut short by a crash: the record is in its village (version 2)
	// and in an inbox with version 3; after the restart the reads and the
	// mover keep version 3.
	s.stopBatchers()
	row := toRecordRow(up)
	row.Version, row.Seq = 3, row.Seq+1000
	if err := insert(ctx, s, colInbox2, row); err != nil {
		t.Fatal(err)
	}
	_ = s.client.Disconnect(ctx)
	s, err := Open(ctx, server.URI, s.db.Name(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	if got, err := s.GetRecord(ctx, up.ID); err != nil || got.Version != 3 {
		t.Fatalf("while in both places: %+v, %v", got, err)
	}
	moveAll(t, s)
	if got, err := s.GetRecord(ctx, up.ID); err != nil || got.Version != 3 {
		t.Fatalf("after the second move: version %d, %v", got.Version, err)
	}
}

// TestVillageHead: the first page of a village's reports comes from its
// head, which follows creates, edits, deletes and backfilled old reports,
// and agrees with reading the records themselves.
func TestVillageHead(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int) domain.Record {
		at := base.Add(time.Duration(i) * time.Hour)
		r := domain.Record{ID: domain.NewID(at), Type: domain.TypeReport, VillageID: "hv", TownID: "t", Version: 1, At: at,
			Report: &domain.Report{Kind: []string{"visit", "meeting"}[i%2], OccurredAt: at}}
		r.Hash = r.Fingerprint()
		return r
	}
	var all []domain.Record
	bulk := make([]domain.Record, 150)
	for i := range bulk {
		bulk[i] = mk(i)
	}
	if err := s.BulkLoadRecords(ctx, "hv", bulk); err != nil {
		t.Fatal(err)
	}
	all = append(all, bulk...)
	// Created newest first: the mover meets them in any order (PostgreSQL
	// returns the inbox in no particular order), and none may be left out.
	for i := 169; i >= 150; i-- {
		r, err := s.CreateRecord(ctx, createW(mk(i)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	// A backfilled old report, and one far newer.
	for _, i := range []int{-500, 900} {
		r, err := s.CreateRecord(ctx, createW(mk(i)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	moveAll(t, s)
	// Delete the newest, edit another.
	del := all[len(all)-1]
	del.Version, del.Deleted = 2, true
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, del)); err != nil {
		t.Fatal(err)
	}
	ed := all[160]
	ed.Version = 2
	ed.Report = &domain.Report{Kind: "visit", OccurredAt: ed.At, Notes: "改"}
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, ed)); err != nil {
		t.Fatal(err)
	}
	all[160] = ed // a meeting before its edit
	var live []domain.Record
	for _, r := range all {
		if r.ID != del.ID {
			live = append(live, r)
		}
	}
	slices.SortFunc(live, recordLess)
	for _, f := range []domain.RecordFilter{{Type: domain.TypeReport}, {Type: domain.TypeReport, Kind: "meeting"}} {
		got, err := s.ListRecords(ctx, domain.RecordFilter{Type: f.Type, Kind: f.Kind, VillageIDs: []string{"hv"}}, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range live {
			if f.Kind == "" || r.Report.Kind == f.Kind {
				want = append(want, r.ID)
			}
		}
		want = want[:50]
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
			if r.ID == ed.ID && r.Report.Notes != "改" {
				t.Errorf("the head holds the old version of an edited report")
			}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("kind %q: listed\n%v\nwant\n%v", f.Kind, ids, want)
		}
	}
	h, err := findOne[headRow](ctx, s, recordCollection("hv"), bson.D{{Key: "_id", Value: headID}})
	if err != nil || len(h.Records) < 50 || len(h.Records) > headSize || h.Complete {
		t.Fatalf("head: %d records, complete %v, %v", len(h.Records), h.Complete, err)
	}
}

// TestIDsAcrossRestarts: after a restart the id set knows every stored
// record — bulk-loaded, moved, or still in the inbox — so resends are
// duplicates and an id of another village's record is refused; an id the
// set holds without a record (a failed create, a hash collision) can still
// be created.
func TestIDsAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	name := s.db.Name()
	base := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	mk := func(i int) domain.Record {
		r := reportRec(domain.NewID(base.Add(time.Duration(i)*time.Minute)), "ia", "t", domain.KindVisit, base, 1, "c")
		r.Hash = r.Fingerprint()
		r.CreateHash = r.Hash
		return r
	}
	var all []domain.Record
	for i := range 10 {
		all = append(all, mk(i))
	}
	if err := s.BulkLoadRecords(ctx, "ia", all); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 15; i++ {
		r, err := s.CreateRecord(ctx, createW(mk(i)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	moveAll(t, s)
	// One left in the inbox when the process dies.
	s.stopBatchers()
	in := mk(15)
	in.Seq = all[len(all)-1].Seq + 1
	if err := insert(ctx, s, colInbox, toRecordRow(in)); err != nil {
		t.Fatal(err)
	}
	all = append(all, in)
	_ = s.client.Disconnect(ctx)

	s, err := Open(ctx, server.URI, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	if n := s.ids.len(); n != len(all) {
		t.Fatalf("the id set holds %d ids, want %d", n, len(all))
	}
	for _, r := range all {
		got, err := s.CreateRecord(ctx, createW(r))
		if !errors.Is(err, domain.ErrDuplicate) || got.ID != r.ID || got.VillageID != "ia" {
			t.Fatalf("resend of %s after a restart: %v, %+v", r.ID, err, got)
		}
	}
	other := all[3]
	other.VillageID = "ib"
	if got, err := s.CreateRecord(ctx, createW(other)); !errors.Is(err, domain.ErrDuplicate) || got.VillageID != "ia" {
		t.Fatalf("another village's create under a taken id: %v, %+v", err, got)
	}
	ghost := mk(99)
	s.ids.add(ghost.ID)
	if _, err := s.CreateRecord(ctx, createW(ghost)); err != nil {
		t.Fatalf("an id in the set without a record: %v", err)
	}
	if got, err := s.GetRecord(ctx, ghost.ID); err != nil || got.ID != ghost.ID {
		t.Fatalf("the record of that id: %+v, %v", got, err)
	}
}

// moveAll runs mover rounds until two in a row (one per inbox) find
// nothing to move.
func moveAll(t *testing.T, s *Store) {
	t.Helper()
	for empty := 0; empty < 2; {
		n, err := s.moveOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
	}
}

// TestCreatesWhileInboxesSwitch: concurrent creates, each sent twice at
// once, while mover rounds switch the inboxes as fast as they can: every
// id is created exactly once, stored once, and the counts equal a recount.
func TestCreatesWhileInboxesSwitch(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	stop := make(chan struct{})
	moverDone := make(chan struct{})
	go func() {
		defer close(moverDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.moveOnce(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	const workers, each = 8, 60
	var created atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := reportRec(domain.NewID(base.Add(time.Duration(i)*time.Second)), fmt.Sprint("sw", w%3), "t", domain.KindVisit, base, 1+i%3, "c")
				r.Hash = r.Fingerprint()
				r.CreateHash = r.Hash
				var twice sync.WaitGroup
				for range 2 {
					twice.Add(1)
					go func() {
						defer twice.Done()
						_, err := s.CreateRecord(ctx, createW(r))
						switch {
						case err == nil:
							created.Add(1)
							// Acknowledged, so readable at once.
							if _, err := s.GetRecord(ctx, r.ID); err != nil {
								t.Errorf("a created record read back: %v", err)
							}
						case errors.Is(err, domain.ErrDuplicate):
						default:
							t.Error(err)
						}
					}()
				}
				twice.Wait()
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-moverDone
	moveAll(t, s)
	if created.Load() != workers*each {
		t.Fatalf("%d creates answered created, want %d", created.Load(), workers*each)
	}
	stored := int64(0)
	for v := range 3 {
		n, err := s.db.Collection(recordCollection(fmt.Sprint("sw", v))).CountDocuments(ctx, bson.D{{Key: "type", Value: "report"}})
		if err != nil {
			t.Fatal(err)
		}
		stored += n
	}
	if stored != workers*each {
		t.Fatalf("%d records stored, want %d", stored, workers*each)
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("counts differ from a recount: %v, %v", diffs, err)
	}
}

// TestInboxUnknownOutcome: a record whose inbox write ended without a known
// outcome (so the copy in memory lacks it) is still moved: the mover reads
// that inbox's collection.
func TestInboxUnknownOutcome(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	base := time.Date(2026, 8, 1, 8, 0, 0, 0, time.UTC)
	r := reportRec(domain.NewID(base), "un", "t", domain.KindVisit, base, 1, "c")
	r.Hash = r.Fingerprint()
	s.inbox.flip.Lock() // no switch while the write is planted
	i := s.inbox.active
	if err := insert(ctx, s, inboxCollections()[i], toRecordRow(r)); err != nil {
		t.Fatal(err)
	}
	s.inboxNote(i, toRecordRow(r), false, true)
	s.inbox.flip.Unlock()
	moveAll(t, s)
	if got, err := s.GetRecord(ctx, r.ID); err != nil || got.VillageID != "un" {
		t.Fatalf("the record of the unknown write: %+v, %v", got, err)
	}
	if s.inbox.unsure[0] || s.inbox.unsure[1] {
		t.Fatal("the inbox is still marked unsure after its move")
	}
}

// TestIDSnapshot: a clean close leaves the id set for the next open, which
// uses it and drops it at once; after a crash there is none, and the ids are
// read again. Either way a resend is a duplicate.
func TestIDSnapshot(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	name := s.db.Name()
	base := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	var all []domain.Record
	for i := range 30 {
		r := reportRec(domain.NewID(base.Add(time.Duration(i)*time.Minute)), "sn", "t", domain.KindVisit, base, 1, "c")
		r.Hash = r.Fingerprint()
		r.CreateHash = r.Hash
		if _, err := s.CreateRecord(ctx, createW(r)); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	want := s.ids.len()
	// A hash no record has: only the snapshot carries it, so it shows which
	// way the set was filled.
	s.ids.addHash(12345)
	snapshots := func(s *Store) int64 {
		n, err := s.db.Collection(colIDSnapshot).CountDocuments(ctx, bson.D{{Key: "_id", Value: "head"}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s = reopen(t, s)
	if s.ids.len() != want+1 || snapshots(s) != 0 {
		t.Fatalf("after a clean restart: %d ids (want %d from the snapshot), %d snapshots left", s.ids.len(), want+1, snapshots(s))
	}
	check := func(stage string) {
		for _, r := range all {
			if _, err := s.CreateRecord(ctx, createW(r)); !errors.Is(err, domain.ErrDuplicate) {
				t.Fatalf("%s: resend of %s: %v", stage, r.ID, err)
			}
		}
	}
	check("after a clean restart")
	// A crash: no snapshot, so the ids are read from the records.
	s.abandon()
	s, err := Open(ctx, server.URI, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	if s.ids.len() != want {
		t.Fatalf("after a crash: %d ids, want %d", s.ids.len(), want)
	}
	check("after a crash")
}
