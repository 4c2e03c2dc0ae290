package mongo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// A village's head is one document holding its newest reports (at most
// headSize, by event time): bounded and read together, so it is embedded.
// It lives in the village's own collection under the _id "~head" (it has no
// type or seq, so record queries pass it by): on the embedded store a
// lookup by _id reads every document of its collection, so a separate heads
// collection of 602 large documents would cost far more to read.
// Opening a village's list reads it instead of sorting the village's whole
// history, which on the embedded store costs ≈80 µs a record. Heads are
// written by this process only, one village at a time (FerretDB loses
// concurrent updates of one document), and rebuilt from the records when
// missing.
const (
	headID   = "~head"
	headSize = 100
)

type headRow struct {
	ID      string      `bson:"_id"` // headID
	Village string      `bson:"village"`
	Records []recordRow `bson:"records"`
	// Complete says the head holds every live report of the village.
	Complete  bool      `bson:"complete"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// headLocks serializes head writes per village.
type headLocks [64]sync.Mutex

func (h *headLocks) of(village string) *sync.Mutex {
	f := fnv.New32a()
	_, _ = f.Write([]byte(village))
	return &h[f.Sum32()%uint32(len(h))]
}

// loadHead returns a village's head, building it when missing; called with
// the village's head lock held.
func (s *Store) loadHead(ctx context.Context, village string) (headRow, error) {
	h, err := findOne[headRow](ctx, s, recordCollection(village), bson.D{{Key: "_id", Value: headID}})
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return headRow{}, err
	}
	h = headRow{ID: headID, Village: village}
	filter := bson.D{{Key: "type", Value: string(domain.TypeReport)}, {Key: "deleted", Value: false}}
	h.Records, err = findAllLimit[recordRow](ctx, s, recordCollection(village), filter,
		bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, headSize+1)
	if err != nil {
		return headRow{}, err
	}
	h.Complete = len(h.Records) <= headSize
	h.Records = trimHead(h.Records)
	return h, s.saveHead(ctx, h)
}

func (s *Store) saveHead(ctx context.Context, h headRow) error {
	h.UpdatedAt = time.Now().UTC()
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(recordCollection(h.Village)).ReplaceOne(ctx, bson.D{{Key: "_id", Value: headID}}, h, options.Replace().SetUpsert(true))
		return err
	})
}

// trimHead sorts newest first and keeps headSize.
func trimHead(rs []recordRow) []recordRow {
	slices.SortFunc(rs, func(a, b recordRow) int { return recordLess(toRecordHead(a), toRecordHead(b)) })
	return rs[:min(len(rs), headSize)]
}

func toRecordHead(r recordRow) domain.Record { return domain.Record{ID: r.ID, At: r.At} }

// updateHead lays changed reports of a village over its head: newer
// versions replace older ones, tombstones leave, and a report that falls
// off the end makes the head incomplete.
func (s *Store) updateHead(ctx context.Context, village string, changed []recordRow) error {
	var reports []recordRow
	for _, r := range changed {
		if r.Type == string(domain.TypeReport) {
			reports = append(reports, r)
		}
	}
	if len(reports) == 0 {
		return nil
	}
	lock := s.heads.of(village)
	lock.Lock()
	defer lock.Unlock()
	h, err := s.loadHead(ctx, village)
	if err != nil {
		return fmt.Errorf("update head: %w", err)
	}
	byID := map[string]int{}
	for i, r := range h.Records {
		byID[r.ID] = i
	}
	// The oldest report of a full, incomplete head as loaded (its records
	// are newest first); reports are appended below in any order.
	var floor *recordRow
	if !h.Complete && len(h.Records) >= headSize {
		floor = &recordRow{ID: h.Records[len(h.Records)-1].ID, At: h.Records[len(h.Records)-1].At}
	}
	for _, r := range reports {
		if i, ok := byID[r.ID]; ok {
			if r.Version >= h.Records[i].Version {
				h.Records[i] = r
			}
			continue
		}
		// A report older than an incomplete head's oldest stays out: the
		// head is the newest ones only.
		if floor != nil && recordLess(toRecordHead(*floor), toRecordHead(r)) < 0 {
			continue
		}
		byID[r.ID] = len(h.Records)
		h.Records = append(h.Records, r)
	}
	live := h.Records[:0]
	for _, r := range h.Records {
		if !r.Deleted {
			live = append(live, r)
		}
	}
	if len(live) > headSize {
		h.Complete = false
	}
	if !h.Complete && len(live) < headSize/2 {
		// Deletes have thinned an incomplete head: build it again from the
		// records (which already hold these changes).
		if err := s.call(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(recordCollection(village)).DeleteOne(ctx, bson.D{{Key: "_id", Value: headID}})
			return err
		}); err != nil {
			return fmt.Errorf("update head: %w", err)
		}
		if _, err := s.loadHead(ctx, village); err != nil {
			return fmt.Errorf("update head: %w", err)
		}
		return nil
	}
	h.Records = trimHead(live)
	if err := s.saveHead(ctx, h); err != nil {
		return fmt.Errorf("update head: %w", err)
	}
	return nil
}

// headList answers a first page of a village's reports from its head, when
// the head can: ok false means read the records.
func (s *Store) headList(ctx context.Context, village string, f domain.RecordFilter, limit int) ([]domain.Record, bool, error) {
	lock := s.heads.of(village)
	lock.Lock()
	h, err := s.loadHead(ctx, village)
	lock.Unlock()
	if err != nil {
		return nil, false, err
	}
	var out []domain.Record
	for _, row := range h.Records {
		r := toRecord(row)
		if matches(r, f) {
			out = append(out, r)
		}
	}
	if len(out) >= limit || h.Complete {
		return out[:min(len(out), limit)], true, nil
	}
	return nil, false, nil
}

// matches applies a record filter in memory.
func matches(r domain.Record, f domain.RecordFilter) bool {
	if r.Deleted || r.Type != f.Type {
		return false
	}
	kind := ""
	switch {
	case r.Report != nil:
		kind = r.Report.Kind
	case r.Dispute != nil:
		kind = r.Dispute.Status
	case r.Project != nil:
		kind = r.Project.Stage
	}
	projectID := ""
	switch {
	case r.Fund != nil:
		projectID = r.Fund.ProjectID
	case r.ProjectUpdate != nil:
		projectID = r.ProjectUpdate.ProjectID
	}
	return (f.Kind == "" || kind == f.Kind) && (f.CreatedBy == "" || r.CreatedBy == f.CreatedBy) &&
		(f.ProjectID == "" || projectID == f.ProjectID) &&
		(f.From.IsZero() || !r.At.Before(f.From)) && (f.To.IsZero() || r.At.Before(f.To))
}
