package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

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
