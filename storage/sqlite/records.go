package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"zhucun/domain"
	"zhucun/storage/internal/recdoc"
)

// recordDoc is what a record keeps as JSON: everything its columns do not.
type recordDoc struct {
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Hash      string    `json:"hash"`
	// CreateHash is left out while it equals Hash (a record never edited).
	CreateHash string   `json:"createHash,omitempty"`
	Applied    []string `json:"applied,omitempty"`
	// Review is kept in the review column; the history and OnPost here.
	ReviewHistory []recdoc.ReviewEvent `json:"reviewHistory,omitempty"`
	OnPost        bool                 `json:"onPost,omitempty"`
	recdoc.Content
}

// recordCols are the columns a record is read from, in scan order.
const recordCols = "id, type, village_id, town_id, created_by, at, seq, version, deleted, review, doc"

// manyVillages is where a list over villages reads the type's time index
// (or the sequence) in order instead of each village's.
const manyVillages = 8

type recordScanner interface{ Scan(...any) error }

func (s *Store) scanRecord(sc recordScanner) (domain.Record, error) {
	var r domain.Record
	var typ, doc string
	var at int64
	var deleted int
	if err := sc.Scan(&r.ID, &typ, &r.VillageID, &r.TownID, &r.CreatedBy, &at, &r.Seq, &r.Version, &deleted, &r.Review, &doc); err != nil {
		return domain.Record{}, err
	}
	var d recordDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return domain.Record{}, fmt.Errorf("decode record %s: %w", r.ID, err)
	}
	r.Type, r.At, r.Deleted = domain.RecordType(typ), fromMS(at), deleted != 0
	r.CreatedAt, r.UpdatedAt, r.Hash, r.CreateHash, r.Applied = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), d.Hash, d.CreateHash, d.Applied
	r.ReviewHistory, r.OnPost = recdoc.ReviewInto(d.ReviewHistory), d.OnPost
	if r.CreateHash == "" {
		r.CreateHash = r.Hash
	}
	if err := s.codec.Into(d.Content, &r); err != nil {
		return domain.Record{}, err
	}
	return r, nil
}

// recordArgs are a record's column values after id, in the order of
// recordCols, and its kind and project for the filter columns.
func (s *Store) recordArgs(r domain.Record) (doc, kind, project string, err error) {
	c, kind, project, err := s.codec.Of(r)
	if err != nil {
		return "", "", "", err
	}
	d := recordDoc{CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Hash: r.Hash, Applied: r.Applied, Content: c,
		ReviewHistory: recdoc.ReviewOf(r.ReviewHistory), OnPost: r.OnPost}
	if r.CreateHash != r.Hash {
		d.CreateHash = r.CreateHash
	}
	doc, err = encode(d)
	return doc, kind, project, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// getRecordTx reads a record within a write.
func (s *Store) getRecordTx(tx *wtx, id string) (domain.Record, error) {
	return s.scanRecord(tx.queryRow("SELECT "+recordCols+" FROM records WHERE id = ?", id))
}

// CreateRecord stores a new record, its audit entry and its count delta in
// one write. When the id exists it stores nothing and answers ErrDuplicate
// with the stored record.
func (s *Store) CreateRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r := w.Record
	doc, kind, project, err := s.recordArgs(r)
	if err != nil {
		return domain.Record{}, fmt.Errorf("create record: %w", err)
	}
	var stored domain.Record
	err = s.write(ctx, func(tx *wtx) error {
		existing, err := s.getRecordTx(tx, r.ID)
		if err == nil {
			stored = existing
			return domain.ErrDuplicate
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r.Seq = tx.nextSeq()
		if _, err := tx.exec(`INSERT INTO records (id, type, village_id, town_id, created_by, at, seq, version, deleted, kind, project_id, review, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, string(r.Type), r.VillageID, r.TownID, r.CreatedBy, ms(r.At), r.Seq, r.Version, boolInt(r.Deleted), kind, project, r.ReviewState(), doc); err != nil {
			return err
		}
		if w.Audit != nil {
			if err := insertAudit(tx, s.seal, *w.Audit); err != nil {
				return err
			}
		}
		return applyDelta(tx, r.VillageID, r.TownID, w.Delta)
	})
	if errors.Is(err, domain.ErrDuplicate) {
		return stored, fmt.Errorf("create record: %w", domain.ErrDuplicate)
	}
	if err != nil {
		return domain.Record{}, fmt.Errorf("create record: %w", err)
	}
	r.At = fromMS(ms(r.At))
	return r, nil
}

// errStaleRecord carries the stored record of a version conflict.
type errStaleRecord struct{ stored domain.Record }

func (e *errStaleRecord) Error() string { return "stale record" }
func (e *errStaleRecord) Unwrap() error { return domain.ErrStale }

// ReplaceRecord stores a new version of a record, with its audit entry and
// count delta, if the stored version is the one before it.
func (s *Store) ReplaceRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r := w.Record
	doc, kind, project, err := s.recordArgs(r)
	if err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		r.Seq = tx.nextSeq()
		res, err := tx.exec(`UPDATE records SET at = ?, seq = ?, version = ?, deleted = ?, kind = ?, project_id = ?, review = ?, doc = ?
			WHERE id = ? AND version = ?`,
			ms(r.At), r.Seq, r.Version, boolInt(r.Deleted), kind, project, r.ReviewState(), doc, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			stored, err := s.getRecordTx(tx, r.ID)
			if err != nil {
				return err // not found
			}
			return &errStaleRecord{stored: stored}
		}
		if w.Audit != nil {
			if err := insertAudit(tx, s.seal, *w.Audit); err != nil {
				return err
			}
		}
		return applyDelta(tx, r.VillageID, r.TownID, w.Delta)
	})
	var stale *errStaleRecord
	if errors.As(err, &stale) {
		return stale.stored, fmt.Errorf("replace record: %w", domain.ErrStale)
	}
	if err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	r.At = fromMS(ms(r.At))
	return r, nil
}

// GetRecord returns a record, tombstones included.
func (s *Store) GetRecord(ctx context.Context, id string) (domain.Record, error) {
	var r domain.Record
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var err error
		r, err = s.scanRecord(db.QueryRowContext(ctx, "SELECT "+recordCols+" FROM records WHERE id = ?", id))
		return err
	})
	if err != nil {
		return domain.Record{}, fmt.Errorf("get record: %w", err)
	}
	return r, nil
}

func (s *Store) queryRecords(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]domain.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Record
	for rows.Next() {
		r, err := s.scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListRecords lists live records of the filter's villages, newest event
// first, after the cursor. A few villages read the village index, each in
// order; more read the type's time index in order, filtering the villages.
func (s *Store) ListRecords(ctx context.Context, f domain.RecordFilter, after *domain.RecordCursor, limit int) ([]domain.Record, error) {
	if len(f.VillageIDs) == 0 || limit <= 0 {
		return nil, nil
	}
	index := "records_list"
	if len(f.VillageIDs) > manyVillages {
		index = "records_type_at"
	}
	w := (&where{}).raw("type = ?", string(f.Type)).raw("deleted = 0").in("village_id", f.VillageIDs).
		eq("kind", f.Kind).eq("created_by", f.CreatedBy).eq("project_id", f.ProjectID)
	switch f.Review {
	case "":
	case domain.ReviewReturned:
		// The few returned records have their own index; the literal lets
		// SQLite use it (a partial index is not used for a parameter).
		index = "records_returned"
		w.raw("review = 'returned'")
	default:
		w.raw("review = ?", f.Review)
	}
	if !f.From.IsZero() {
		w.raw("at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		w.raw("at < ?", ms(f.To))
	}
	if after != nil {
		a := ms(after.At)
		w.raw("(at < ? OR (at = ? AND id < ?))", a, a, after.ID)
	}
	var out []domain.Record
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var err error
		out, err = s.queryRecords(ctx, db, "SELECT "+recordCols+" FROM records INDEXED BY "+index+w.sql()+
			" ORDER BY at DESC, id DESC LIMIT ?", append(w.args, limit)...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	return out, nil
}

// Changes returns records of these villages changed after seq, in seq
// order, and the seq up to which the answer is complete: the last one
// returned when the page is full, else the last committed (read in the
// same snapshot, so no change below it can still appear).
func (s *Store) Changes(ctx context.Context, villageIDs []string, after int64, limit int) ([]domain.Record, int64, error) {
	if limit <= 0 {
		limit = domain.DefaultPageLimit
	}
	var out []domain.Record
	next := after
	err := s.snapshot(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT max(seq) FROM records").Scan(&top); err != nil {
			return err
		}
		if len(villageIDs) > 0 {
			index := "records_village_seq"
			if len(villageIDs) > manyVillages {
				index = "records_seq"
			}
			w := (&where{}).in("village_id", villageIDs).raw("seq > ?", after)
			var err error
			out, err = s.queryRecords(ctx, tx, "SELECT "+recordCols+" FROM records INDEXED BY "+index+w.sql()+" ORDER BY seq LIMIT ?",
				append(w.args, limit)...)
			if err != nil {
				return err
			}
		}
		switch {
		case len(out) == limit:
			next = out[len(out)-1].Seq
		case top.Valid && top.Int64 > after:
			next = top.Int64
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("changes: %w", err)
	}
	return out, next, nil
}

// VillagePhotos returns those of ids that are live photos of a village.
func (s *Store) VillagePhotos(ctx context.Context, villageID string, ids []string) (map[string]domain.PhotoBrief, error) {
	out := map[string]domain.PhotoBrief{}
	if len(ids) == 0 {
		return out, nil
	}
	w := (&where{}).in("id", ids).raw("village_id = ?", villageID).raw("type = ?", string(domain.TypePhoto)).raw("deleted = 0")
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rs, err := s.queryRecords(ctx, db, "SELECT "+recordCols+" FROM records"+w.sql(), w.args...)
		for _, r := range rs {
			if r.Photo != nil {
				out[r.ID] = domain.PhotoBrief{Status: r.Photo.Status, TakenAt: r.Photo.TakenAt, GPS: r.Photo.GPS}
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("village photos: %w", err)
	}
	return out, nil
}

// AddPendingPhoto lists a photo waiting for its bytes; listing it twice is fine.
func (s *Store) AddPendingPhoto(ctx context.Context, p domain.PendingPhoto) error {
	if err := s.marker(ctx, "INSERT OR IGNORE INTO photo_pending (id, village_id, created_at) VALUES (?, ?, ?)",
		p.ID, p.VillageID, ms(p.CreatedAt)); err != nil {
		return fmt.Errorf("add pending photo: %w", err)
	}
	return nil
}

// RemovePendingPhoto takes a photo off the list.
func (s *Store) RemovePendingPhoto(ctx context.Context, id string) error {
	if err := s.marker(ctx, "DELETE FROM photo_pending WHERE id = ?", id); err != nil {
		return fmt.Errorf("remove pending photo: %w", err)
	}
	return nil
}

// PendingPhotos lists those created before a time, oldest first.
func (s *Store) PendingPhotos(ctx context.Context, before time.Time, limit int) ([]domain.PendingPhoto, error) {
	var out []domain.PendingPhoto
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, "SELECT id, village_id, created_at FROM photo_pending WHERE created_at < ? ORDER BY created_at, id LIMIT ?",
			ms(before), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p domain.PendingPhoto
			var at int64
			if err := rows.Scan(&p.ID, &p.VillageID, &at); err != nil {
				return err
			}
			p.CreatedAt = fromMS(at)
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pending photos: %w", err)
	}
	return out, nil
}

// sealPlainRecords seals, once, the personal fields of the records stored
// before the store had a data key: it rewrites each such record's content
// in place (its version and change number stay: nothing about it changed
// for its readers), and marks the store so it never looks again.
func (s *Store) sealPlainRecords(ctx context.Context) error {
	if s.codec.Sealer == nil {
		return nil
	}
	// Every record is read at once: more time than one call gets.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var done int
	err := s.write(ctx, func(tx *wtx) error {
		var v string
		switch err := tx.queryRow("SELECT value FROM store_meta WHERE key = 'sealed'").Scan(&v); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		rows, err := tx.query("SELECT " + recordCols + " FROM records WHERE type IN ('report', 'dispute') AND instr(doc, '\"sealed\"') = 0")
		if err != nil {
			return err
		}
		var plain []domain.Record
		for rows.Next() {
			r, err := s.scanRecord(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if r.Report != nil && (r.Report.Names != nil || r.Report.AttendeeNames != nil || r.Report.Candidate != nil) ||
				r.Dispute != nil && r.Dispute.Parties != nil {
				plain = append(plain, r)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, r := range plain {
			doc, _, _, err := s.recordArgs(r)
			if err != nil {
				return err
			}
			if _, err := tx.exec("UPDATE records SET doc = ? WHERE id = ?", doc, r.ID); err != nil {
				return err
			}
		}
		done = len(plain)
		_, err = tx.exec("INSERT INTO store_meta (key, value) VALUES ('sealed', ?)", strconv.Itoa(len(plain)))
		return err
	})
	if err != nil {
		return fmt.Errorf("seal the personal fields of older records: %w", err)
	}
	if done > 0 && s.log != nil {
		s.log.Info("sealed the personal fields of older records", "records", done)
	}
	return nil
}
