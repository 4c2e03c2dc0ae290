package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"zhucun/domain"
)

// TestSchemaHasEveryMetric: every event metric of the domain has its count
// column, in the same order; a new metric needs a migration.
func TestSchemaHasEveryMetric(t *testing.T) {
	if !slices.Equal(schemaMetrics, domain.EventMetricNames[:]) {
		t.Fatalf("count columns %v\ndomain metrics %v", schemaMetrics, domain.EventMetricNames)
	}
}

// TestMigrations takes a database from empty, and from every earlier
// version holding data, to the current one; a database newer than the
// code is refused.
func TestMigrations(t *testing.T) {
	ctx := t.Context()
	for from := 0; from < len(migrations); from++ {
		dir := t.TempDir()
		db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), "FULL", false))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrateTo(ctx, db, from); err != nil {
			t.Fatalf("to %d: %v", from, err)
		}
		if from >= 1 {
			if _, err := db.ExecContext(ctx, `INSERT INTO towns (id, name, doc) VALUES ('t1', '市东街道', '{"ID":"t1","Name":"市东街道"}')`); err != nil {
				t.Fatal(err)
			}
		}
		_ = db.Close()
		s, err := Open(ctx, dir, Options{})
		if err != nil {
			t.Fatalf("open a version %d database: %v", from, err)
		}
		var v int
		_ = s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		if v != SchemaVersion() {
			t.Fatalf("from %d: at version %d, want %d", from, v, SchemaVersion())
		}
		if from >= 1 {
			if tw, err := s.GetTown(ctx, "t1", domain.Scope{All: true}); err != nil || tw.Name != "市东街道" {
				t.Fatalf("from %d: the town written before: %+v %v", from, tw, err)
			}
		}
		_ = s.Close(context.Background())
	}
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	raw, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), "FULL", false))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.ExecContext(ctx, "PRAGMA user_version = 999")
	_ = raw.Close()
	if _, err := Open(ctx, dir, Options{}); err == nil {
		t.Fatal("a database newer than the code was opened")
	}
}

// TestMigrationToOnPostDays: a version 1 database holding a checkin (its
// checkin day counted) comes out of version 2 with the checkin on post,
// its day an on-post day, and counts that equal a recount.
func TestMigrationToOnPostDays(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), "FULL", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	r := domain.Record{ID: "01a2b3c4-0000-7000-8000-000000000001", Type: domain.TypeReport, VillageID: "v1", TownID: "t1", CreatedBy: "c1",
		Version: 1, At: at, CreatedAt: at, UpdatedAt: at, Report: &domain.Report{Kind: domain.KindCheckin, OccurredAt: at, Location: &domain.Location{Lat: 37, Lng: 118}}}
	r.Hash = r.Fingerprint()
	doc, kind, project, err := (&Store{}).recordArgs(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO records (id, type, village_id, town_id, created_by, at, seq, version, deleted, kind, project_id, doc)
			VALUES (?, ?, ?, ?, ?, ?, 1, 1, 0, ?, ?, json_remove(?, '$.onPost'))`, []any{r.ID, "report", "v1", "t1", "c1", ms(at), kind, project, doc}},
		{`INSERT INTO counts (scope, day, checkins) VALUES ('v:v1', '2026-03-02', 1), ('t:t1', '2026-03-02', 1), ('d', '2026-03-02', 1)`, nil},
		{`INSERT INTO checkin_days (village_id, day, cadre_id, n) VALUES ('v1', '2026-03-02', 'c1', 1)`, nil},
		{`INSERT INTO audit (id, at, user_id, role, entity, entity_id, action, request_id, town_id) VALUES ('a1', 1, 'c1', 'cadre', 'report', ?, 'create', 'r', 't1')`, []any{r.ID}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	seal := &domain.AuditSeal{Key: []byte("the migration test's audit key")}
	s, err := Open(ctx, dir, Options{Location: loc, AuditSeal: seal})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close(context.Background()) }()
	got, err := s.GetRecord(ctx, r.ID)
	if err != nil || !got.OnPost || got.ReviewState() != domain.ReviewSubmitted {
		t.Fatalf("the checkin after the migration: on post %v, review %s, %v", got.OnPost, got.ReviewState(), err)
	}
	c, err := s.PeriodCounts(ctx, domain.StatsDistrict, domain.Period{From: "2026-03-01", To: "2026-03-31"})
	if err != nil || c[domain.MOnPostDays] != 1 || c[domain.MCheckins] != 1 {
		t.Fatalf("counts %v %v", c, err)
	}
	if days, err := s.CountedDays(ctx, []string{"v1"}, domain.OnPostKey("c1"), "2026-03-01", "2026-03-31"); err != nil || !slices.Equal(days, []string{"2026-03-02"}) {
		t.Fatalf("on-post days %v %v", days, err)
	}
	if diffs, err := s.VerifyStats(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("verify after the migration: %+v %v", diffs, err)
	}
	// The entry of version 1 is sealed at the chain's start; a new one follows it.
	at2 := time.Now().UTC()
	if err := s.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(at2), At: at2, UserID: "u", Entity: "town", EntityID: "t1", Action: "update"}); err != nil {
		t.Fatal(err)
	}
	v := domain.AuditVerifier{Seal: *seal}
	var first domain.AuditEntry
	if err := s.AuditChain(ctx, func(e domain.AuditEntry) error {
		if v.Entries == 0 {
			first = e
		}
		v.Add(e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(v.Problems) != 0 || v.Entries != 2 || first.ID != "a1" || first.Seq != 1 {
		t.Fatalf("the chain after the migration: %d entries, first %+v, problems %+v", v.Entries, first, v.Problems)
	}
}
