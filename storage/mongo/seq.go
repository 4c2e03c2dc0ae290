package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// Record writes are numbered (seq) from blocks reserved in the "meta"
// collection before use: a writer that takes over reads the last
// reservation and starts above it, so no number repeats. A number counts
// as committed once it and every number below it are done, so the changes
// feed, which reads only up to it, never passes a write still in flight.
const (
	colMeta  = "meta"
	seqBlock = 1000
)

// sequencer numbers record writes and tracks which are done.
type sequencer struct {
	mu        sync.Mutex
	next      int64 // the next number to hand out
	ceiling   int64 // numbers below it are reserved
	committed atomic.Int64
	loaded    bool
	inflight  map[int64]bool // numbers handed out whose writes are not done
}

type metaRow struct {
	ID   string `bson:"_id"`
	Next int64  `bson:"next"`
}

// reserve makes sure a number is reserved; called with mu held.
func (s *Store) reserve(ctx context.Context) error {
	if err := s.loadSeq(ctx); err != nil {
		return err
	}
	q := &s.seq
	if q.next < q.ceiling {
		return nil
	}
	ceiling := q.next + seqBlock
	err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colMeta).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "seq"}},
			metaRow{ID: "seq", Next: ceiling}, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("reserve sequence: %w", err)
	}
	q.ceiling = ceiling
	return nil
}

// loadSeq reads the reserved ceiling on first use; called with mu held.
func (s *Store) loadSeq(ctx context.Context) error {
	q := &s.seq
	if !q.loaded {
		r, err := findOne[metaRow](ctx, s, colMeta, bson.D{{Key: "_id", Value: "seq"}})
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("load sequence: %w", err)
		}
		// Numbers start at 1: cursor 0 means "from the beginning".
		start := max(r.Next, 1)
		q.next, q.ceiling, q.loaded = start, start, true
		q.committed.Store(start - 1)
	}
	return nil
}

// sequenced runs write with the next number, concurrently with other
// writes; the number is done when write returns, even when it failed.
// done runs before the number is published as done.
func (s *Store) sequenced(ctx context.Context, write func(seq int64) error) error {
	s.seq.mu.Lock()
	if err := s.reserve(ctx); err != nil {
		s.seq.mu.Unlock()
		return err
	}
	seq := s.seq.next
	s.seq.next++
	if s.seq.inflight == nil {
		s.seq.inflight = map[int64]bool{}
	}
	s.seq.inflight[seq] = true
	s.seq.mu.Unlock()

	err := write(seq)

	s.seq.mu.Lock()
	delete(s.seq.inflight, seq)
	done := s.seq.next - 1
	for f := range s.seq.inflight {
		done = min(done, f-1)
	}
	if done > s.seq.committed.Load() {
		s.seq.committed.Store(done)
	}
	s.seq.mu.Unlock()
	s.counts.wake()
	return err
}

// committedSeq is the number up to which every write is done. A read-only
// store has no writes of its own in flight: it answers the last reserved.
func (s *Store) committedSeq(ctx context.Context) (int64, error) {
	s.seq.mu.Lock()
	defer s.seq.mu.Unlock()
	if err := s.loadSeq(ctx); err != nil {
		return 0, err
	}
	return s.seq.committed.Load(), nil
}
