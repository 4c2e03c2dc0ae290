package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/storage/storetest"
	"zhucun/storage/testdb"
)

// TestConformance runs the stores' suite on the MongoDB store.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open:   func(t *testing.T) storetest.Store { return open(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store { return reopen(t, s.(*Store)) },
		Crash: func(t *testing.T, s storetest.Store) storetest.Store {
			m := s.(*Store)
			m.abandon()
			return openName(t, m.db.Name())
		},
		Corrupt: func(t *testing.T, s storetest.Store, village, town, day string, n int64) {
			m := s.(*Store)
			for _, sc := range scopesOf(village, town, false) {
				o := countOp{ID: countID(sc, day[:7]), Scope: sc, Month: day[:7], W0: -1,
					Incs: []incRow{{P: "tot.households_visited", N: n}, {P: "days.d" + day[8:] + ".households_visited", N: n}}}
				if d, err := findOne[countDoc](t.Context(), m, colCounts, bson.D{{Key: "_id", Value: o.ID}}); err == nil {
					o.W0 = d.W
				}
				o.W = o.W0 + 1
				if err := m.applyOp(t.Context(), o); err != nil {
					t.Fatal(err)
				}
			}
		},
		OpenPlain:    func(t *testing.T) storetest.Store { return openNameWith(t, testdb.NewName(), nil) },
		ReopenSealed: func(t *testing.T, s storetest.Store) storetest.Store { return reopen(t, s.(*Store)) },
		Raw: func(t *testing.T, s storetest.Store, id string) string {
			raw, err := s.(*Store).db.Collection(colRecords).FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
			if err != nil {
				t.Fatal(err)
			}
			return raw.String()
		},
	})
}
