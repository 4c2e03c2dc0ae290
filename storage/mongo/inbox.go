package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// New records are written ahead to an inbox collection, in one group insert
// for all the concurrent creates of every village (their ids are checked in
// memory, ids.go): a create costs a share of one insert, not an insert of
// its own. A mover then copies the inbox into the village collections and
// the id directory in large batches. There are two inboxes: creates write
// to the active one while the mover empties the other, and each round the
// mover switches them, copies everything in the one just left, and drops
// it — on FerretDB a delete decodes every document of its collection, a
// drop none. Readers read the inboxes (their copy in memory) first and then
// the village collections, so a record being moved is seen once or twice
// (the newer version wins), never missed.
//
// A create holds the switch's read lock from its id check to the end of its
// insert, so two concurrent creates of one id meet in one inbox, whose
// unique _id lets one through; and the mover, after switching, waits until
// every insert into the inbox it left has settled (even one whose caller
// gave up), so nothing lands there after it is read.
const (
	colInbox  = "inbox"
	colInbox2 = "inbox_b"
	// moveBatch: a round that moved at least this many goes again at once.
	moveBatch = 2000
	moveIdle  = 50 * time.Millisecond
)

// inboxCollections names the inboxes.
func inboxCollections() []string { return []string{colInbox, colInbox2} }

// inboxes holds which inbox creates write to, and a copy in memory of
// what each inbox holds. Readers and the mover read the copy, so an inbox
// is written but never read back while the process runs (on FerretDB a
// read decodes every document of the collection); Open fills the copy
// from the collections.
type inboxes struct {
	move    sync.Mutex // one mover round at a time: a second switch would send creates into the inbox being dropped
	flip    sync.RWMutex
	active  int               // index into inboxCollections(); changed under flip's write lock
	pending [2]sync.WaitGroup // inserts in flight into each inbox

	mu   sync.Mutex
	rows [2]map[string]recordRow // by id: each inbox's records as stored
	// unsure: a write to the inbox ended with an unknown outcome (it may
	// have been stored): the mover reads that inbox's collection instead.
	unsure [2]bool
}

// inboxNote records the outcome of a write of row into inbox i.
func (s *Store) inboxNote(i int, row recordRow, stored, unknown bool) {
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	switch {
	case stored:
		s.inbox.rows[i][row.ID] = row
	case unknown:
		s.inbox.unsure[i] = true
	}
}

// inboxRows returns the inboxes' records for which keep says yes.
func (s *Store) inboxRows(keep func(recordRow) bool) []recordRow {
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	var out []recordRow
	for i := range s.inbox.rows {
		for _, r := range s.inbox.rows[i] {
			if keep(r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// inboxRecord finds a record in the inboxes, and says which holds it.
func (s *Store) inboxRecord(id string) (recordRow, int, bool) {
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	for i := range s.inbox.rows {
		if r, ok := s.inbox.rows[i][id]; ok {
			return r, i, true
		}
	}
	return recordRow{}, 0, false
}

// loadInboxes fills the copy in memory from the inbox collections.
func (s *Store) loadInboxes(ctx context.Context) error {
	for i, col := range inboxCollections() {
		rows, err := findAll[recordRow](ctx, s, col, bson.D{}, nil)
		if err != nil {
			return fmt.Errorf("load inbox: %w", err)
		}
		s.inbox.rows[i] = make(map[string]recordRow, len(rows))
		for _, r := range rows {
			s.inbox.rows[i][r.ID] = r
		}
	}
	return nil
}

// startMover runs the mover until the store closes.
func (s *Store) startMover() {
	s.batchWG.Add(1)
	go func() {
		defer s.batchWG.Done()
		for {
			n, err := s.moveOnce(context.Background())
			select {
			case <-s.stop:
				return // a round cut short by the close is no failure
			default:
			}
			if err != nil {
				if s.moveErrs.Add(1)%100 == 1 {
					s.log.Error("moving the inbox to the village collections", "err", err, "failures", s.moveErrs.Load())
				}
			}
			if n >= moveBatch && err == nil {
				continue // busy: the other inbox has filled meanwhile
			}
			select {
			case <-s.stop:
				return
			case <-time.After(moveIdle):
			}
		}
	}()
}

// inboxInsert group-inserts a new record into the active inbox; the caller
// holds the switch's read lock.
func (s *Store) inboxInsert(ctx context.Context, row recordRow) error {
	i := s.inbox.active
	s.inbox.pending[i].Add(1)
	return s.batcherFor(inboxCollections()[i]).insertThen(ctx, row, func(stored, unknown bool) {
		s.inboxNote(i, row, stored, unknown)
		s.inbox.pending[i].Done()
	})
}

// switchInbox makes the other inbox the active one and returns the one
// left, once every insert into it has settled.
func (s *Store) switchInbox(ctx context.Context) (int, error) {
	s.inbox.flip.Lock()
	left := s.inbox.active
	s.inbox.active = 1 - left
	s.inbox.flip.Unlock()
	settled := make(chan struct{})
	go func() {
		s.inbox.pending[left].Wait()
		close(settled)
	}()
	select {
	case <-settled:
		return left, nil
	case <-s.stop:
		return 0, fmt.Errorf("switch inbox: %w", domain.ErrUnavailable)
	case <-ctx.Done():
		return 0, fmt.Errorf("switch inbox: %w", ctx.Err())
	}
}

// lockAllRecords holds every replace stripe: no record changes while held.
func (s *Store) lockAllRecords() func() {
	for i := range s.replaceLocks {
		s.replaceLocks[i].Lock()
	}
	return func() {
		for i := range s.replaceLocks {
			s.replaceLocks[i].Unlock()
		}
	}
}

// moveOnce switches the inboxes, moves everything in the one left to the
// village collections and the directory, drops it, and returns how many
// records it moved.
func (s *Store) moveOnce(ctx context.Context) (int, error) {
	s.inbox.move.Lock()
	defer s.inbox.move.Unlock()
	left, err := s.switchInbox(ctx)
	if err != nil {
		return 0, err
	}
	col := inboxCollections()[left]
	unlock := s.lockAllRecords()
	defer unlock()
	s.inbox.mu.Lock()
	unsure := s.inbox.unsure[left]
	rows := make([]recordRow, 0, len(s.inbox.rows[left]))
	for _, r := range s.inbox.rows[left] {
		rows = append(rows, r)
	}
	s.inbox.mu.Unlock()
	if unsure {
		// A write's outcome is unknown: the collection says what it holds.
		if rows, err = findAll[recordRow](ctx, s, col, bson.D{}, nil); err != nil {
			return 0, err
		}
	}
	if len(rows) == 0 && !unsure {
		return 0, nil
	}
	groups := map[string][]recordRow{}
	dirs := map[string][]any{}
	for _, r := range rows {
		r.Audit, r.Stat = nil, nil // stay in the audit trail and the count log only
		groups[r.VillageID] = append(groups[r.VillageID], r)
		col := dirCollection(r.ID)
		dirs[col] = append(dirs[col], dirRow{ID: r.ID, VillageID: r.VillageID, Type: r.Type})
	}
	for village, rs := range groups {
		if err := s.ensureRecordIndexes(ctx, village); err != nil {
			return 0, err
		}
		col := recordCollection(village)
		docs := make([]any, len(rs))
		for i := range rs {
			docs[i] = rs[i]
		}
		dups, err := s.insertManyDups(ctx, col, docs)
		if err != nil {
			return 0, err
		}
		for _, i := range dups {
			// Copied before (a move cut short): keep the newer version.
			old, err := findOne[recordRow](ctx, s, col, bson.D{{Key: "_id", Value: rs[i].ID}})
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return 0, err
			}
			if err == nil && old.Version >= rs[i].Version {
				continue
			}
			if err := s.call(ctx, func(ctx context.Context) error {
				_, err := s.db.Collection(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: rs[i].ID}}, rs[i], options.Replace().SetUpsert(true))
				return err
			}); err != nil {
				return 0, err
			}
		}
	}
	for col, ds := range dirs {
		dups, err := s.insertManyDups(ctx, col, ds)
		if err != nil {
			return 0, err
		}
		for _, i := range dups {
			d := ds[i].(dirRow)
			if err := replace(ctx, s, col, d.ID, d); err != nil {
				return 0, err
			}
		}
	}
	// The creates' audit entries (a repeat after a move cut short is a duplicate, skipped).
	var audits []any
	for i := range rows {
		if rows[i].Audit != nil {
			audits = append(audits, *rows[i].Audit)
		}
	}
	if len(audits) > 0 {
		if _, err := s.insertManyDups(ctx, colAudit, audits); err != nil {
			return 0, err
		}
	}
	// The creates' deltas of the counts, before their inbox documents go.
	var stats []any
	for i := range rows {
		if rows[i].Stat != nil {
			stats = append(stats, *rows[i].Stat)
		}
	}
	if len(stats) > 0 {
		if _, err := s.insertManyDups(ctx, colStatLog, stats); err != nil {
			return 0, err
		}
	}
	byVillage := map[string][]recordRow{}
	for _, r := range rows {
		byVillage[r.VillageID] = append(byVillage[r.VillageID], r)
	}
	for v, rs := range byVillage {
		if err := s.updateHead(ctx, v, rs); err != nil {
			return 0, err
		}
	}
	if err := s.call(ctx, func(ctx context.Context) error { return s.db.Collection(col).Drop(ctx) }); err != nil {
		return 0, fmt.Errorf("drop the moved inbox: %w", err)
	}
	// Moved: readers now find these records in their villages.
	s.inbox.mu.Lock()
	s.inbox.rows[left], s.inbox.unsure[left] = map[string]recordRow{}, false
	s.inbox.mu.Unlock()
	return len(rows), nil
}

// insertManyDups inserts docs unordered and returns the indexes of those
// whose _id was taken.
func (s *Store) insertManyDups(ctx context.Context, col string, docs []any) ([]int, error) {
	var dups []int
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(col).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err != nil && errors.As(err, &bwe) && bwe.WriteConcernError == nil {
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 && we.Code != 11001 {
					return err
				}
				dups = append(dups, we.Index)
			}
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("insert into %s: %w", col, err)
	}
	return dups, nil
}
