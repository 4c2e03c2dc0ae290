package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/storage/storetest"
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

// testLease is the writer lease in tests: short, so a test that crashes a
// store waits little for the lease to lapse.
const testLease = 2 * time.Second

func open(t *testing.T) *Store { return openName(t, testdb.NewName()) }

// openName opens a database as its writer, waiting for a crashed writer's
// lease to lapse.
func openName(t *testing.T, name string) *Store { return openNameWith(t, name, storetest.Sealer) }

// openNameWith opens a database with a data key (nil: none).
func openNameWith(t *testing.T, name string, sealer domain.Sealer) *Store {
	t.Helper()
	deadline := time.Now().Add(3 * testLease)
	for {
		s, err := Open(t.Context(), server.URI, name, Options{LeaseTTL: testLease, Logger: testLog, AuditSeal: &storetest.Seal, Sealer: sealer})
		var held *LeaseHeldError
		if errors.As(err, &held) && time.Now().Before(deadline) {
			time.Sleep(testLease / 10)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
}

// reopen closes s and opens its database again, as a restart does.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return openName(t, s.db.Name())
}

// abandon leaves the store as a killed process would: the background work
// stopped and the connection gone, the lease neither renewed nor released.
func (s *Store) abandon() {
	s.halt()
	_ = s.client.Disconnect(context.Background())
}

// TestReopen opens a database that has data and indexes already, as every
// start after the first does.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	name := testdb.NewName()
	now := time.Now().UTC()
	for i := range 3 {
		s, err := Open(ctx, server.URI, name, Options{LeaseTTL: testLease})
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

// testLog shows the stores' background errors in the test output.
var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// TestUpgradeToOnPostDays: data written before on-post days (a checkin not
// marked, no data version) is upgraded by the next writer: the checkin is
// on post, its day an on-post day, and the counts equal a recount.
func TestUpgradeToOnPostDays(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	r := domain.Record{ID: domain.NewID(at), Type: domain.TypeReport, VillageID: "v1", TownID: "t1", CreatedBy: "c1",
		Version: 1, At: at, CreatedAt: at, UpdatedAt: at, Report: &domain.Report{Kind: domain.KindCheckin, OccurredAt: at}}
	r.Hash = r.Fingerprint()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if _, err := s.CreateRecord(ctx, domain.RecordWrite{Record: r, Delta: domain.StatDelta(nil, r, loc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Collection(colMeta).DeleteOne(ctx, map[string]string{"_id": "schema"}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	got, err := s.GetRecord(ctx, r.ID)
	if err != nil || !got.OnPost {
		t.Fatalf("the checkin after the upgrade: on post %v, %v", got.OnPost, err)
	}
	c, err := s.PeriodCounts(ctx, domain.StatsDistrict, domain.Period{From: "2026-03-01", To: "2026-03-31"})
	if err != nil || c[domain.MOnPostDays] != 1 || c[domain.MCheckins] != 1 {
		t.Fatalf("counts %v %v", c, err)
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("verify after the upgrade: %+v %v", diffs, err)
	}
}

// TestRetakenDropsMemory: a writer that takes its lease back after losing
// it drops what it keeps in memory (another writer may have changed it).
func TestRetakenDropsMemory(t *testing.T) {
	s := open(t)
	var n atomic.Int32
	s.OnRetaken(func() { n.Add(1) })
	s.lease.lose()
	for deadline := time.Now().Add(5 * testLease); n.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n.Load() != 1 {
		t.Fatalf("retaken: the services' memory was dropped %d times", n.Load())
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("writing again: %v", err)
	}
}
