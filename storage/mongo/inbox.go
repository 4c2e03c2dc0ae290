package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// New records are written ahead to one "inbox" collection, in one group
// insert for all the concurrent creates of every village (their ids are
// checked in memory, ids.go): a create costs a share of one insert, not an
// insert of its own. A mover then copies the inbox into
// the village collections and the id directory in large batches and
// deletes what it copied. Readers read the inbox first and then the village
// collections, so a record being moved is seen once or twice (the newer
// version wins), never missed.
const (
	colInbox = "inbox"
	// colRecordIDs held every record id before the id set (ids.go); Open
	// drops it.
	colRecordIDs = "record_ids"
	moveBatch    = 2000
	moveIdle     = 50 * time.Millisecond
)

// inboxCollections names the inboxes.
func inboxCollections() []string { return []string{colInbox} }

// startMover runs the mover until the store closes.
func (s *Store) startMover() {
	s.batchWG.Add(1)
	go func() {
		defer s.batchWG.Done()
		for {
			n, err := s.moveOnce(context.Background())
			if err != nil {
				if s.moveErrs.Add(1)%100 == 1 {
					s.log.Error("moving the inbox to the village collections", "err", err, "failures", s.moveErrs.Load())
				}
			}
			if n == moveBatch && err == nil {
				continue // more waiting
			}
			select {
			case <-s.stop:
				return
			case <-time.After(moveIdle):
			}
		}
	}()
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

// moveOnce moves up to moveBatch inbox records to their village collections and
// the directory, and returns how many it moved.
func (s *Store) moveOnce(ctx context.Context) (int, error) {
	unlock := s.lockAllRecords()
	defer unlock()
	rows, err := findAllLimit[recordRow](ctx, s, colInbox, bson.D{}, nil, moveBatch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	groups := map[string][]recordRow{}
	dirs := map[string][]any{}
	ids := make([]string, len(rows))
	for i, r := range rows {
		r.Audit, r.Stat = nil, nil // stay in the audit trail and the count log only
		groups[r.VillageID] = append(groups[r.VillageID], r)
		col := dirCollection(r.ID)
		dirs[col] = append(dirs[col], dirRow{ID: r.ID, VillageID: r.VillageID, Type: r.Type})
		ids[i] = r.ID
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
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colInbox).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("empty inbox: %w", err)
	}
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

// inboxRows reads inbox records matching filter.
func (s *Store) inboxRows(ctx context.Context, filter bson.D) ([]recordRow, error) {
	return findAll[recordRow](ctx, s, colInbox, filter, nil)
}
