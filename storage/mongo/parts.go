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

// A village's records may be split by the time of their event into
// partitions, "rec_<villageId>_<part>"; with one partition per village
// (part "", the collection "rec_<villageId>") they are not. Measured on the
// embedded store: splitting by month made a village's newest records sort a
// month's worth of documents, but every query on a FerretDB database costs
// ≈1.1 µs per collection it holds, and 602 villages × 12 months made every
// query ≈8 ms dearer. So records are not split (partOf returns ""), and a
// village's newest reports are read from its head document (heads.go).

// partOf names the partition of an event time.
func partOf(time.Time) string { return "" }

// recordCollection names the collection of a village's records of a time.
func recordCollection(villageID string, at time.Time) string {
	return partCollection(villageID, partOf(at))
}

// partIndex knows which partitions each village has.
type partIndex struct {
	mu       sync.Mutex
	loaded   bool
	villages map[string][]string // village → partitions, newest first
}

// loadParts lists the record collections once; called with mu held.
func (s *Store) loadParts(ctx context.Context) error {
	m := &s.parts
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
		village, part := rest, ""
		if i := strings.LastIndexByte(rest, '_'); i >= 0 {
			village, part = rest[:i], rest[i+1:]
		}
		m.villages[village] = append(m.villages[village], part)
	}
	for v := range m.villages {
		slices.Sort(m.villages[v])
		slices.Reverse(m.villages[v])
	}
	m.loaded = true
	return nil
}

// villageParts returns the partitions of a village's records, newest first.
func (s *Store) villageParts(ctx context.Context, villageID string) ([]string, error) {
	s.parts.mu.Lock()
	defer s.parts.mu.Unlock()
	if err := s.loadParts(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(s.parts.villages[villageID]), nil
}

// addPart records that a village has records of a month.
func (s *Store) addPart(ctx context.Context, villageID, month string) error {
	s.parts.mu.Lock()
	defer s.parts.mu.Unlock()
	if err := s.loadParts(ctx); err != nil {
		return err
	}
	ms := s.parts.villages[villageID]
	if slices.Contains(ms, month) {
		return nil
	}
	ms = append(ms, month)
	slices.Sort(ms)
	slices.Reverse(ms)
	s.parts.villages[villageID] = ms
	return nil
}

func partCollection(villageID, part string) string {
	if part == "" {
		return recordPrefix + villageID
	}
	return recordPrefix + villageID + "_" + part
}
