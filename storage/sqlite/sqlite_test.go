package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"zhucun/domain"
	"zhucun/storage/storetest"
)

func dirOf(s storetest.Store) string { return filepath.Dir(s.(*Store).Path()) }

func open(t *testing.T, dir string) *Store { return openWith(t, dir, storetest.Sealer) }

func openWith(t *testing.T, dir string, sealer domain.Sealer) *Store {
	t.Helper()
	s, err := Open(t.Context(), dir, Options{AuditSeal: &storetest.Seal, Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// crash leaves the store as a killed process would: the writer and the
// connections gone, no checkpoint; what was committed is in the WAL.
func (s *Store) crash() {
	s.w.stop()
	_ = s.rdb.Close()
	_ = s.wdb.Close()
}

// TestConformance runs the stores' suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) storetest.Store { return open(t, t.TempDir()) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			return open(t, dirOf(s))
		},
		Crash: func(t *testing.T, s storetest.Store) storetest.Store {
			s.(*Store).crash()
			return open(t, dirOf(s))
		},
		Corrupt: func(t *testing.T, s storetest.Store, village, town, day string, n int64) {
			err := s.(*Store).write(t.Context(), func(tx *wtx) error {
				return bump(tx, village, town, domain.StatEvent{Day: day, Metric: domain.MHouseholdsVisited}, n)
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		OpenPlain: func(t *testing.T) storetest.Store { return openWith(t, t.TempDir(), nil) },
		ReopenSealed: func(t *testing.T, s storetest.Store) storetest.Store {
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			return open(t, dirOf(s))
		},
		Raw: func(t *testing.T, s storetest.Store, id string) string {
			var doc string
			if err := s.(*Store).rdb.QueryRowContext(t.Context(), "SELECT doc FROM records WHERE id = ?", id).Scan(&doc); err != nil {
				t.Fatal(err)
			}
			return doc
		},
	})
}
