package mongo

import (
	"testing"

	"zhucun/storage/storetest"
)

// TestConformance runs the stores' suite on the MongoDB store.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open:   func(t *testing.T) storetest.Store { return open(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store { return reopen(t, s.(*Store)) },
		Crash: func(t *testing.T, s storetest.Store) storetest.Store {
			m := s.(*Store)
			name := m.db.Name()
			m.abandon()
			s2, err := Open(t.Context(), server.URI, name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s2.Close(t.Context()) })
			return s2
		},
		Corrupt: func(t *testing.T, s storetest.Store, village, town, day string, n int64) {
			bogus := statEntryRow{Seq: 1 << 40, Village: village, Town: town, Events: []statEventRow{{D: day, M: "households_visited", N: n}}}
			if err := insert(t.Context(), s.(*Store), colStatLog, bogus); err != nil {
				t.Fatal(err)
			}
		},
	})
}
