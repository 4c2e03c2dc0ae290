package mongo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
	"zhucun/storage/internal/recdoc"
)

var _ domain.RecordStore = (*Store)(nil)

// Field records are one collection, every document stamped with its
// village and town; the compound indexes (store.go) serve a village's
// newest first, lists over many villages, the changes feed by village and
// sequence, a project's funds and updates, and the writes whose counts are
// still to apply (pending).
const colRecords = "records"

// recordRow is one field record: the envelope, the content (the same
// field names as the SQLite store's JSON) and, until the counts applier
// has applied it, the write's count delta and audit entry.
type recordRow struct {
	ID        string    `bson:"_id"`
	Type      string    `bson:"type"`
	VillageID string    `bson:"villageId"`
	TownID    string    `bson:"townId"`
	CreatedBy string    `bson:"createdBy"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	Version   int       `bson:"version"`
	Seq       int64     `bson:"seq"`
	Deleted   bool      `bson:"deleted"`
	Hash      string    `bson:"hash"`
	Create    string    `bson:"createHash"`
	Applied   []string  `bson:"applied,omitempty"`
	At        time.Time `bson:"at"`
	Kind      string    `bson:"kind,omitempty"`
	ProjectID string    `bson:"projectId,omitempty"`
	// Review is the review state ("submitted" when missing: records
	// written before reviews).
	Review         string               `bson:"review,omitempty"`
	ReviewHistory  []recdoc.ReviewEvent `bson:"reviewHistory,omitempty"`
	OnPost         bool                 `bson:"onPost,omitempty"`
	recdoc.Content `bson:",inline"`
	Pending        *pendingRow `bson:"pending,omitempty"`
}

// pendingRow is what a write still owes the counts and the audit trail.
type pendingRow struct {
	Seq    int64      `bson:"seq"`
	Events []eventRow `bson:"events,omitempty"`
	Audit  *auditRow  `bson:"audit,omitempty"`
}

// eventRow is one event of a delta.
type eventRow struct {
	D string `bson:"d"`           // YYYY-MM-DD
	M int    `bson:"m"`           // metric index
	N int64  `bson:"n"`           // amount
	C string `bson:"c,omitempty"` // day-counting metrics: the key (StatEvent.Cadre)
	A bool   `bson:"a,omitempty"` // on the approved basis
}

func toEventRows(es []domain.StatEvent) []eventRow {
	out := make([]eventRow, len(es))
	for i, e := range es {
		out[i] = eventRow{D: e.Day, M: e.Metric, N: e.N, C: e.Cadre, A: e.Approved}
	}
	return out
}

func toRecordRow(r domain.Record) recordRow {
	c, kind, project := recdoc.Of(r)
	return recordRow{ID: r.ID, Type: string(r.Type), VillageID: r.VillageID, TownID: r.TownID, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, Seq: r.Seq, Deleted: r.Deleted, Hash: r.Hash,
		Create: r.CreateHash, Applied: r.Applied, At: r.At, Kind: kind, ProjectID: project, Content: c,
		Review: r.ReviewState(), ReviewHistory: recdoc.ReviewOf(r.ReviewHistory), OnPost: r.OnPost}
}

func toRecord(row recordRow) domain.Record {
	r := domain.Record{ID: row.ID, Type: domain.RecordType(row.Type), VillageID: row.VillageID, TownID: row.TownID,
		CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(), Version: row.Version,
		Seq: row.Seq, Deleted: row.Deleted, Hash: row.Hash, At: row.At.UTC(), CreateHash: row.Create, Applied: row.Applied,
		Review: row.Review, ReviewHistory: recdoc.ReviewInto(row.ReviewHistory), OnPost: row.OnPost}
	row.Content.Into(&r)
	return r
}

// rowOf is a record's stored row, its personal fields sealed.
func (s *Store) rowOf(r domain.Record) (recordRow, error) {
	row := toRecordRow(r)
	c, _, _, err := s.codec.Of(r)
	if err != nil {
		return recordRow{}, err
	}
	row.Content = c
	return row, nil
}

// recordOf is a stored row's record, its personal fields opened.
func (s *Store) recordOf(row recordRow) (domain.Record, error) {
	r := toRecord(row)
	if err := s.codec.Into(row.Content, &r); err != nil {
		return domain.Record{}, err
	}
	return r, nil
}

func (s *Store) recordsOf(rows []recordRow) ([]domain.Record, error) {
	out := make([]domain.Record, len(rows))
	for i, row := range rows {
		r, err := s.recordOf(row)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// recordLock serializes the writes of one record, from its write to its
// counts applied (FerretDB loses concurrent updates of one document, and a
// write must not replace another's pending delta).
func (s *Store) recordLock(id string) func() {
	h := sha256.Sum256([]byte(id))
	l := &s.recordLocks[h[0]]
	l.Lock()
	return l.Unlock
}

// pendingOf is the pending part of a write.
func pendingOf(seq int64, w domain.RecordWrite) *pendingRow {
	p := &pendingRow{Seq: seq, Events: toEventRows(w.Delta)}
	if w.Audit != nil {
		a := toAuditRow(*w.Audit)
		p.Audit = &a
	}
	return p
}

// CreateRecord stores a new record with its delta and audit entry pending,
// then waits until the counts applier has applied them. When the id exists
// it stores nothing and answers ErrDuplicate with the stored record.
func (s *Store) CreateRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r := w.Record
	defer s.recordLock(r.ID)()
	var stored domain.Record
	var applied <-chan error
	err := s.sequenced(ctx, func(seq int64) error {
		r.Seq = seq
		row, err := s.rowOf(r)
		if err != nil {
			return err
		}
		row.Pending = pendingOf(seq, w)
		err = insert(ctx, s, colRecords, row)
		if errors.Is(err, domain.ErrDuplicate) {
			got, gerr := s.GetRecord(ctx, r.ID)
			if gerr != nil {
				return gerr
			}
			stored = got
			return domain.ErrDuplicate
		}
		if err == nil {
			applied = s.counts.add(item{seq: seq, id: r.ID, village: r.VillageID, town: r.TownID, pending: row.Pending})
		}
		return err
	})
	if errors.Is(err, domain.ErrDuplicate) {
		return stored, fmt.Errorf("create record: %w", domain.ErrDuplicate)
	}
	if err != nil {
		return domain.Record{}, fmt.Errorf("create record: %w", err)
	}
	s.counts.await(applied)
	return toRecord(toRecordRow(r)), nil
}

// ReplaceRecord stores a new version of a record if the stored version is
// the one before it, with its delta and audit entry pending, then waits
// until they are applied.
func (s *Store) ReplaceRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r := w.Record
	defer s.recordLock(r.ID)()
	var stored domain.Record
	var applied <-chan error
	err := s.sequenced(ctx, func(seq int64) error {
		r.Seq = seq
		row, err := s.rowOf(r)
		if err != nil {
			return err
		}
		row.Pending = pendingOf(seq, w)
		matched, err := matchedBy(ctx, s.write, func(ctx context.Context) (*mongo.UpdateResult, error) {
			return s.db.Collection(colRecords).ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "version", Value: r.Version - 1}}, row)
		})
		if err != nil {
			return err
		}
		if matched == 0 {
			got, gerr := s.GetRecord(ctx, r.ID)
			if gerr != nil {
				return gerr
			}
			stored = got
			return domain.ErrStale
		}
		applied = s.counts.add(item{seq: seq, id: r.ID, village: r.VillageID, town: r.TownID, pending: row.Pending})
		return nil
	})
	if errors.Is(err, domain.ErrStale) {
		return stored, fmt.Errorf("replace record: %w", domain.ErrStale)
	}
	if err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	s.counts.await(applied)
	return toRecord(toRecordRow(r)), nil
}

// GetRecord returns a record, tombstones included.
func (s *Store) GetRecord(ctx context.Context, id string) (domain.Record, error) {
	row, err := findOne[recordRow](ctx, s, colRecords, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Record{}, fmt.Errorf("get record: %w", err)
	}
	return s.recordOf(row)
}

// ListRecords lists live records, newest event first, after the cursor.
func (s *Store) ListRecords(ctx context.Context, f domain.RecordFilter, after *domain.RecordCursor, limit int) ([]domain.Record, error) {
	if len(f.VillageIDs) == 0 || limit <= 0 {
		return nil, nil
	}
	filter := bson.D{{Key: "villageId", Value: bson.D{{Key: "$in", Value: f.VillageIDs}}}, {Key: "type", Value: string(f.Type)}, {Key: "deleted", Value: false}}
	for k, v := range map[string]string{"kind": f.Kind, "createdBy": f.CreatedBy, "projectId": f.ProjectID} {
		if v != "" {
			filter = append(filter, bson.E{Key: k, Value: v})
		}
	}
	switch f.Review {
	case "":
	case domain.ReviewSubmitted: // also the records written before reviews, which have none
		filter = append(filter, bson.E{Key: "review", Value: bson.D{{Key: "$nin", Value: bson.A{domain.ReviewApproved, domain.ReviewReturned}}}})
	default:
		filter = append(filter, bson.E{Key: "review", Value: f.Review})
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		rng := bson.D{}
		if !f.From.IsZero() {
			rng = append(rng, bson.E{Key: "$gte", Value: f.From})
		}
		if !f.To.IsZero() {
			rng = append(rng, bson.E{Key: "$lt", Value: f.To})
		}
		filter = append(filter, bson.E{Key: "at", Value: rng})
	}
	if after != nil {
		at := after.At.Truncate(time.Millisecond)
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: at}}}},
			bson.D{{Key: "at", Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}})
	}
	rows, err := findAllLimit[recordRow](ctx, s, colRecords, filter, bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	return s.recordsOf(rows)
}

// Changes returns records of these villages changed after seq, in seq
// order, never past a number still being written, and the seq up to which
// the answer is complete.
func (s *Store) Changes(ctx context.Context, villageIDs []string, after int64, limit int) ([]domain.Record, int64, error) {
	if limit <= 0 {
		limit = domain.DefaultPageLimit
	}
	top, err := s.committedSeq(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("changes: %w", err)
	}
	if s.readOnly {
		var rows []recordRow
		if rows, err = findAllLimit[recordRow](ctx, s, colRecords, bson.D{}, bson.D{{Key: "seq", Value: -1}}, 1); err == nil && len(rows) == 1 {
			top = rows[0].Seq
		}
	}
	if top <= after || len(villageIDs) == 0 {
		return nil, max(after, top), nil
	}
	rows, err := findAllLimit[recordRow](ctx, s, colRecords, bson.D{
		{Key: "villageId", Value: bson.D{{Key: "$in", Value: villageIDs}}},
		{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: top}}},
	}, bson.D{{Key: "seq", Value: 1}}, int64(limit))
	if err != nil {
		return nil, 0, fmt.Errorf("changes: %w", err)
	}
	next := top
	if len(rows) == limit {
		next = rows[len(rows)-1].Seq
	}
	out, err := s.recordsOf(rows)
	return out, next, err
}

// sealedRow marks the records stored before a data key as sealed.
type sealedRow struct {
	ID      string `bson:"_id"`
	Records int    `bson:"records"`
}

// sealPlainRecords seals, once, the personal fields of the records stored
// before the store had a data key: each such record's content is rewritten
// in place (its version and change number stay), and a marker in the meta
// collection says it is done. It runs as the writer opens, before the
// store takes writes.
func (s *Store) sealPlainRecords(ctx context.Context) error {
	if s.codec.Sealer == nil {
		return nil
	}
	if _, err := findOne[sealedRow](ctx, s, colMeta, bson.D{{Key: "_id", Value: "sealed"}}); err == nil {
		return nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("seal older records: %w", err)
	}
	rows, err := findAll[recordRow](ctx, s, colRecords, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "report.names", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "report.attendeeNames", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "report.candidate.name", Value: bson.D{{Key: "$nin", Value: bson.A{"", nil}}}}},
		bson.D{{Key: "dispute.parties", Value: bson.D{{Key: "$exists", Value: true}}}},
	}}}, nil)
	if err != nil {
		return fmt.Errorf("seal older records: %w", err)
	}
	for _, row := range rows {
		r := toRecord(row)
		c, _, _, err := s.codec.Of(r)
		if err != nil {
			return fmt.Errorf("seal older records: %w", err)
		}
		set := bson.D{}
		if c.Report != nil {
			set = append(set, bson.E{Key: "report", Value: c.Report})
		}
		if c.Dispute != nil {
			set = append(set, bson.E{Key: "dispute", Value: c.Dispute})
		}
		if err := s.write(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(colRecords).UpdateOne(ctx, bson.D{{Key: "_id", Value: row.ID}}, bson.D{{Key: "$set", Value: set}})
			return err
		}); err != nil {
			return fmt.Errorf("seal older records: %w", err)
		}
	}
	if err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colMeta).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "sealed"}}, sealedRow{ID: "sealed", Records: len(rows)},
			options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return fmt.Errorf("seal older records: %w", err)
	}
	if len(rows) > 0 && s.log != nil {
		s.log.Info("sealed the personal fields of older records", "records", len(rows))
	}
	return nil
}
