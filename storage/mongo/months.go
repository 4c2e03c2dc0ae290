package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A village's records are split by the month of their event into
// collections "rec_<villageId>_<yyyymm>" (UTC months): a village's newest
// records sort one month's worth of documents, not the village's whole
// history, and every sorted read on the embedded store costs its collection.

// recordCollection names the collection of a village's records of a month.
func recordCollection(villageID string, at time.Time) string {
	return recordPrefix + villageID + "_" + at.UTC().Format("200601")
}

// monthIndex knows which month collections each village has.
type monthIndex struct {
	mu       sync.Mutex
	loaded   bool
	villages map[string][]string // village → months (yyyymm), newest first
}

// loadMonths lists the record collections once; called with mu held.
func (s *Store) loadMonths(ctx context.Context) error {
	m := &s.months
	if m.loaded {
		return nil
	}
	var names []string
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		names, err = s.db.ListCollectionNames(ctx, bson.D{})
		return err
	})
	if err != nil {
		return fmt.Errorf("list record collections: %w", err)
	}
	m.villages = map[string][]string{}
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, recordPrefix)
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '_')
		if i < 0 {
			continue
		}
		m.villages[rest[:i]] = append(m.villages[rest[:i]], rest[i+1:])
	}
	for v := range m.villages {
		slices.Sort(m.villages[v])
		slices.Reverse(m.villages[v])
	}
	m.loaded = true
	return nil
}

// villageMonths returns the months of a village's records, newest first.
func (s *Store) villageMonths(ctx context.Context, villageID string) ([]string, error) {
	s.months.mu.Lock()
	defer s.months.mu.Unlock()
	if err := s.loadMonths(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(s.months.villages[villageID]), nil
}

// addMonth records that a village has records of a month.
func (s *Store) addMonth(ctx context.Context, villageID, month string) error {
	s.months.mu.Lock()
	defer s.months.mu.Unlock()
	if err := s.loadMonths(ctx); err != nil {
		return err
	}
	ms := s.months.villages[villageID]
	if slices.Contains(ms, month) {
		return nil
	}
	ms = append(ms, month)
	slices.Sort(ms)
	slices.Reverse(ms)
	s.months.villages[villageID] = ms
	return nil
}

func monthCollection(villageID, month string) string { return recordPrefix + villageID + "_" + month }

func monthOf(at time.Time) string { return at.UTC().Format("200601") }
