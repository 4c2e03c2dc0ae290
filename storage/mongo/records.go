package mongo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var _ domain.RecordStore = (*Store)(nil)

// Field records live in one collection per village ("rec_<villageId>"):
// on the embedded store a query costs what its collection holds, so a
// village's list reads only that village's records. New records reach them
// through the inbox (inbox.go); "record_ids" makes ids unique across
// villages, and a directory of 16 collections ("recdir_<hex>", by the first
// hex digit of the id's SHA-256) maps each moved id to its village.
//
// Every record write takes a number (Seq) from the sequencer, which
// publishes the number up to which every write is done, so the changes
// feed, which reads only up to it, never skips a write still in flight. Seq numbers are
// reserved in blocks recorded in the "meta" collection before use, so they
// never repeat after a crash (a crash leaves a gap, which is harmless).
// One process writes a store: run one zhucun instance per database.
const (
	colMeta      = "meta"
	seqBlock     = 1000
	dirFanout    = 16
	recordPrefix = "rec_"
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
func (s *Store) reserve(ctx context.Context) error { return s.reserveN(ctx, 1) }

// reserveN makes sure n numbers are reserved; called with mu held.
func (s *Store) reserveN(ctx context.Context, n int64) error {
	if err := s.loadSeq(ctx); err != nil {
		return err
	}
	q := &s.seq
	if q.next+n <= q.ceiling {
		return nil
	}
	ceiling := q.next + max(seqBlock, n)
	err := s.call(ctx, func(ctx context.Context) error {
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
// writes. A number counts as committed once it and every number before it
// are done, so the changes feed never passes a write still in flight.
func (s *Store) sequenced(ctx context.Context, write func(seq int64) error) error {
	return s.sequencedN(ctx, 1, write)
}

// sequencedN runs write with n consecutive numbers from first.
func (s *Store) sequencedN(ctx context.Context, n int64, write func(first int64) error) error {
	s.seq.mu.Lock()
	if err := s.reserveN(ctx, n); err != nil {
		s.seq.mu.Unlock()
		return err
	}
	first := s.seq.next
	s.seq.next += n
	if s.seq.inflight == nil {
		s.seq.inflight = map[int64]bool{}
	}
	s.seq.inflight[first] = true
	s.seq.mu.Unlock()

	err := write(first)

	// Done even when the write failed: nothing else can take the numbers.
	s.seq.mu.Lock()
	delete(s.seq.inflight, first)
	done := s.seq.next - 1
	for f := range s.seq.inflight {
		done = min(done, f-1)
	}
	if done > s.seq.committed.Load() {
		s.seq.committed.Store(done)
	}
	s.seq.mu.Unlock()
	return err
}

// committedSeq is the number up to which every write is done.
func (s *Store) committedSeq(ctx context.Context) (int64, error) {
	s.seq.mu.Lock()
	defer s.seq.mu.Unlock()
	if err := s.loadSeq(ctx); err != nil {
		return 0, err
	}
	return s.seq.committed.Load(), nil
}

// recordCollection names a village's record collection.
func recordCollection(villageID string) string { return recordPrefix + villageID }

// dirCollection names the directory partition of a record id.
func dirCollection(id string) string {
	h := sha256.Sum256([]byte(id))
	return dirPartition(int(h[0] % dirFanout))
}

// dirPartition names directory partition i (0 ≤ i < dirFanout).
func dirPartition(i int) string { return fmt.Sprintf("recdir_%x", i) }

type dirRow struct {
	ID        string `bson:"_id"`
	VillageID string `bson:"villageId"`
	Type      string `bson:"type"`
}

type locationRow struct {
	Lat      float64 `bson:"lat"`
	Lng      float64 `bson:"lng"`
	Accuracy float64 `bson:"accuracy,omitempty"`
}

type candidateRow struct {
	Name      string `bson:"name"`
	BirthYear int    `bson:"birthYear,omitempty"`
	Gender    string `bson:"gender,omitempty"`
	Education string `bson:"education,omitempty"`
	Stage     string `bson:"stage,omitempty"`
}

type reportRow struct {
	Kind          string        `bson:"kind"`
	OccurredAt    time.Time     `bson:"occurredAt"`
	Location      *locationRow  `bson:"location,omitempty"`
	Notes         string        `bson:"notes,omitempty"`
	PhotoIDs      []string      `bson:"photoIds,omitempty"`
	Visitee       string        `bson:"visitee,omitempty"`
	Count         int           `bson:"count,omitempty"`
	Names         []string      `bson:"names,omitempty"`
	Concerns      string        `bson:"concerns,omitempty"`
	FollowUp      bool          `bson:"followUp,omitempty"`
	MeetingType   string        `bson:"meetingType,omitempty"`
	Attendees     int           `bson:"attendees,omitempty"`
	AttendeeNames []string      `bson:"attendeeNames,omitempty"`
	Topics        []string      `bson:"topics,omitempty"`
	Decisions     []string      `bson:"decisions,omitempty"`
	LeaderID      string        `bson:"leaderId,omitempty"`
	Findings      string        `bson:"findings,omitempty"`
	UnitID        string        `bson:"unitId,omitempty"`
	People        int           `bson:"people,omitempty"`
	Candidate     *candidateRow `bson:"candidate,omitempty"`
	Text          string        `bson:"text,omitempty"`
}

type disputeRow struct {
	IdentifiedAt       time.Time  `bson:"identifiedAt"`
	Category           string     `bson:"category"`
	Parties            []string   `bson:"parties,omitempty"`
	Description        string     `bson:"description"`
	Source             string     `bson:"source,omitempty"`
	Status             string     `bson:"status"`
	ResolvedAt         *time.Time `bson:"resolvedAt,omitempty"`
	Resolution         string     `bson:"resolution,omitempty"`
	LossesRecoveredFen int64      `bson:"lossesRecoveredFen,omitempty"`
	EscalatedTo        string     `bson:"escalatedTo,omitempty"`
	EscalatedAt        *time.Time `bson:"escalatedAt,omitempty"`
	PhotoIDs           []string   `bson:"photoIds,omitempty"`
}

type projectRow struct {
	Name        string   `bson:"name"`
	ProjectType string   `bson:"projectType"`
	BudgetFen   int64    `bson:"budgetFen"`
	Stage       string   `bson:"stage"`
	StartedOn   string   `bson:"startedOn,omitempty"`
	CompletedOn string   `bson:"completedOn,omitempty"`
	Description string   `bson:"description,omitempty"`
	PhotoIDs    []string `bson:"photoIds,omitempty"`
}

type projectUpdateRow struct {
	ProjectID string   `bson:"projectId"`
	Date      string   `bson:"date"`
	Note      string   `bson:"note"`
	Stage     string   `bson:"stage,omitempty"`
	PhotoIDs  []string `bson:"photoIds,omitempty"`
}

type fundRow struct {
	AmountFen    int64  `bson:"amountFen"`
	SourceUnitID string `bson:"sourceUnitId,omitempty"`
	Source       string `bson:"source,omitempty"`
	Purpose      string `bson:"purpose"`
	ProjectID    string `bson:"projectId,omitempty"`
	ReceivedOn   string `bson:"receivedOn"`
}

// recordRow is one field record. The type's content is in the field named
// after the type; kind, status and stage are copied to "kind" for filters.
type recordRow struct {
	ID        string            `bson:"_id"`
	Type      string            `bson:"type"`
	VillageID string            `bson:"villageId"`
	TownID    string            `bson:"townId"`
	CreatedBy string            `bson:"createdBy"`
	CreatedAt time.Time         `bson:"createdAt"`
	UpdatedAt time.Time         `bson:"updatedAt"`
	Version   int               `bson:"version"`
	Seq       int64             `bson:"seq"`
	Deleted   bool              `bson:"deleted"`
	Hash      string            `bson:"hash"`
	Create    string            `bson:"createHash"`
	Applied   []string          `bson:"applied,omitempty"`
	At        time.Time         `bson:"at"`
	Kind      string            `bson:"kind,omitempty"`
	ProjectID string            `bson:"projectId,omitempty"`
	Report    *reportRow        `bson:"report,omitempty"`
	Dispute   *disputeRow       `bson:"dispute,omitempty"`
	Project   *projectRow       `bson:"project,omitempty"`
	Fund      *fundRow          `bson:"fund,omitempty"`
	Update    *projectUpdateRow `bson:"projectUpdate,omitempty"`
	Photo     *photoRow         `bson:"photo,omitempty"`
	// Audit is the entry of the create, carried in the inbox until the
	// mover writes it to the audit trail.
	Audit *auditRow `bson:"audit,omitempty"`
	// Stat is the create's delta of the counts, carried in the inbox until
	// the mover writes it to the count log (stats.go).
	Stat *statEntryRow `bson:"stat,omitempty"`
}

func toRecordRow(r domain.Record) recordRow {
	row := recordRow{ID: r.ID, Type: string(r.Type), VillageID: r.VillageID, TownID: r.TownID, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, Seq: r.Seq, Deleted: r.Deleted, Hash: r.Hash, At: r.At,
		Create: r.CreateHash, Applied: r.Applied}
	if p := r.Report; p != nil {
		rr := reportRow{Kind: p.Kind, OccurredAt: p.OccurredAt, Notes: p.Notes, PhotoIDs: p.PhotoIDs, Visitee: p.Visitee,
			Count: p.Count, Names: p.Names, Concerns: p.Concerns, FollowUp: p.FollowUp, MeetingType: p.MeetingType,
			Attendees: p.Attendees, AttendeeNames: p.AttendeeNames, Topics: p.Topics, Decisions: p.Decisions,
			LeaderID: p.LeaderID, Findings: p.Findings, UnitID: p.UnitID, People: p.People, Text: p.Text}
		if p.Location != nil {
			rr.Location = &locationRow{Lat: p.Location.Lat, Lng: p.Location.Lng, Accuracy: p.Location.Accuracy}
		}
		if p.Candidate != nil {
			c := candidateRow(*p.Candidate)
			rr.Candidate = &c
		}
		row.Report, row.Kind = &rr, p.Kind
	}
	if p := r.Dispute; p != nil {
		d := disputeRow(*p)
		row.Dispute, row.Kind = &d, p.Status
	}
	if p := r.Project; p != nil {
		pr := projectRow(*p)
		row.Project, row.Kind = &pr, p.Stage
	}
	if p := r.Fund; p != nil {
		f := fundRow(*p)
		row.Fund, row.ProjectID = &f, p.ProjectID
	}
	if p := r.ProjectUpdate; p != nil {
		u := projectUpdateRow(*p)
		row.Update, row.ProjectID = &u, p.ProjectID
	}
	if p := r.Photo; p != nil {
		row.Photo, row.Kind = toPhotoRow(*p), p.Status
	}
	return row
}

func toRecord(row recordRow) domain.Record {
	r := domain.Record{ID: row.ID, Type: domain.RecordType(row.Type), VillageID: row.VillageID, TownID: row.TownID,
		CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(), Version: row.Version,
		Seq: row.Seq, Deleted: row.Deleted, Hash: row.Hash, At: row.At.UTC(), CreateHash: row.Create, Applied: row.Applied}
	if p := row.Report; p != nil {
		rp := domain.Report{Kind: p.Kind, OccurredAt: p.OccurredAt.UTC(), Notes: p.Notes, PhotoIDs: p.PhotoIDs, Visitee: p.Visitee,
			Count: p.Count, Names: p.Names, Concerns: p.Concerns, FollowUp: p.FollowUp, MeetingType: p.MeetingType,
			Attendees: p.Attendees, AttendeeNames: p.AttendeeNames, Topics: p.Topics, Decisions: p.Decisions,
			LeaderID: p.LeaderID, Findings: p.Findings, UnitID: p.UnitID, People: p.People, Text: p.Text}
		if p.Location != nil {
			rp.Location = &domain.Location{Lat: p.Location.Lat, Lng: p.Location.Lng, Accuracy: p.Location.Accuracy}
		}
		if p.Candidate != nil {
			c := domain.Candidate(*p.Candidate)
			rp.Candidate = &c
		}
		r.Report = &rp
	}
	if p := row.Dispute; p != nil {
		d := domain.Dispute(*p)
		d.IdentifiedAt = d.IdentifiedAt.UTC()
		if d.ResolvedAt != nil {
			t := d.ResolvedAt.UTC()
			d.ResolvedAt = &t
		}
		if d.EscalatedAt != nil {
			t := d.EscalatedAt.UTC()
			d.EscalatedAt = &t
		}
		r.Dispute = &d
	}
	if p := row.Project; p != nil {
		pr := domain.Project(*p)
		r.Project = &pr
	}
	if p := row.Fund; p != nil {
		f := domain.Fund(*p)
		r.Fund = &f
	}
	if p := row.Update; p != nil {
		u := domain.ProjectUpdate(*p)
		r.ProjectUpdate = &u
	}
	if p := row.Photo; p != nil {
		ph := toPhoto(*p)
		r.Photo = &ph
	}
	return r
}

// CreateRecord stores a new record in the inbox, its id checked against the
// id set first (ids are unique across villages). When the id is taken it
// answers ErrDuplicate with the stored record.
func (s *Store) CreateRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r, audit := w.Record, w.Audit
	var out domain.Record
	err := s.sequenced(ctx, func(seq int64) error {
		r.Seq = seq
		// From the id check to the end of the insert: no inbox switch
		// (inbox.go).
		s.inbox.flip.RLock()
		defer s.inbox.flip.RUnlock()
		if s.ids.add(r.ID) {
			// Maybe taken: by a stored record (a resend, or another record),
			// by a create of the id still writing, by one that failed, or
			// by a hash collision. Only a stored record answers now; the
			// inbox's unique _id settles a create still writing.
			stored, gerr := s.GetRecord(ctx, r.ID)
			if gerr == nil {
				out = stored
				return domain.ErrDuplicate
			}
			if !errors.Is(gerr, domain.ErrNotFound) {
				return gerr
			}
		}
		row := toRecordRow(r)
		if audit != nil {
			a := toAuditRow(*audit)
			row.Audit = &a
		}
		delta := w.Delta
		if len(delta) > 0 {
			row.Stat = &statEntryRow{Seq: seq, Village: r.VillageID, Town: r.TownID, Events: toEventRows(delta)}
		}
		ierr := s.inboxInsert(ctx, row)
		if !errors.Is(ierr, domain.ErrDuplicate) {
			if ierr == nil {
				out = r
				s.pushStat(seq, r.VillageID, r.TownID, delta)
			}
			return ierr
		}
		// Another create of this id won the race: answer with it.
		stored, gerr := s.GetRecord(ctx, r.ID)
		if gerr != nil {
			return gerr
		}
		out = stored
		return domain.ErrDuplicate
	})
	if err != nil && !errors.Is(err, domain.ErrDuplicate) {
		return domain.Record{}, fmt.Errorf("create record: %w", err)
	}
	if err == nil {
		s.notePhoto(out)
	}
	return out, err
}

// ensureRecordIndexes creates a village collection's indexes the first time
// this process writes to it (creating an existing index is a no-op).
func (s *Store) ensureRecordIndexes(ctx context.Context, villageID string) error {
	name := recordCollection(villageID)
	if _, done := s.indexed.Load(name); done {
		return nil
	}
	col := s.db.Collection(name)
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "type", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("type_at")},
		{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetName("seq")},
	} {
		if err := s.call(ctx, func(ctx context.Context) error { _, err := col.Indexes().CreateOne(ctx, m); return err }); err != nil {
			return fmt.Errorf("index %s: %w", col.Name(), err)
		}
	}
	s.indexed.Store(name, true)
	return nil
}

// ReplaceRecord stores a new version of a record. Replaces of one record
// are serialized in the process: FerretDB loses concurrent updates of one
// document, and the version check must see the previous write.
func (s *Store) ReplaceRecord(ctx context.Context, w domain.RecordWrite) (domain.Record, error) {
	r, err := s.replaceRecord(ctx, w.Record, w.Delta)
	if errors.Is(err, domain.ErrStale) {
		if stored, gerr := s.GetRecord(ctx, w.Record.ID); gerr == nil {
			return stored, err
		}
	}
	if err != nil || w.Audit == nil {
		return r, err
	}
	// The audit entry follows the write it describes (no transactions here).
	if err := s.AppendAudit(ctx, *w.Audit); err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	return r, nil
}

func (s *Store) replaceRecord(ctx context.Context, r domain.Record, delta []domain.StatEvent) (domain.Record, error) {
	h := sha256.Sum256([]byte(r.ID))
	lock := &s.replaceLocks[h[0]]
	lock.Lock()
	defer lock.Unlock()
	if in, i, ok := s.inboxRecord(r.ID); ok {
		// Not moved yet: the mover, which waits for this lock, moves the new
		// version, and the create's audit entry and counts that ride with it.
		err := s.replaceCounted(ctx, in, &r, delta, func(row recordRow) error {
			row.Audit, row.Stat = in.Audit, in.Stat
			err := replaceVersion(ctx, s, inboxCollections()[i], r.ID, r.Version, row)
			known := err == nil || errors.Is(err, domain.ErrStale) || errors.Is(err, domain.ErrNotFound)
			s.inboxNote(i, row, err == nil, !known)
			return err
		})
		if err != nil {
			return domain.Record{}, fmt.Errorf("replace record: %w", err)
		}
		s.notePhoto(r)
		return r, nil
	}
	col := recordCollection(r.VillageID)
	old, err := findOne[recordRow](ctx, s, col, bson.D{{Key: "_id", Value: r.ID}})
	if err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	err = s.replaceCounted(ctx, old, &r, delta, func(row recordRow) error {
		return replaceVersion(ctx, s, col, r.ID, r.Version, row)
	})
	if err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	s.notePhoto(r)
	if err := s.updateHead(ctx, r.VillageID, []recordRow{toRecordRow(r)}); err != nil {
		return domain.Record{}, fmt.Errorf("replace record: %w", err)
	}
	return r, nil
}

// replaceCounted writes a new version of a record with its delta of the
// counts: the delta's intent first, then the record, then the delta to the
// in-memory counts (stats.go).
func (s *Store) replaceCounted(ctx context.Context, old recordRow, r *domain.Record, delta []domain.StatEvent, write func(row recordRow) error) error {
	if old.Version != r.Version-1 {
		return domain.ErrStale
	}
	return s.sequenced(ctx, func(seq int64) error {
		r.Seq = seq
		if err := s.logIntent(ctx, seq, *r, delta); err != nil {
			return err
		}
		if s.crash.afterIntent {
			return errCrash
		}
		if err := write(toRecordRow(*r)); err != nil {
			s.dropIntent(seq, delta)
			return err
		}
		s.pushStat(seq, r.VillageID, r.TownID, delta)
		return nil
	})
}

// GetRecord finds a record through the directory.
func (s *Store) GetRecord(ctx context.Context, id string) (domain.Record, error) {
	if row, _, ok := s.inboxRecord(id); ok {
		return toRecord(row), nil
	}
	d, err := findOne[dirRow](ctx, s, dirCollection(id), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Record{}, fmt.Errorf("get record: %w", err)
	}
	row, err := findOne[recordRow](ctx, s, recordCollection(d.VillageID), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Record{}, fmt.Errorf("get record: %w", err)
	}
	return toRecord(row), nil
}

// recordKey orders lists: newest event first, then id descending.
func recordLess(a, b domain.Record) int {
	return cmp.Or(b.At.Compare(a.At), strings.Compare(b.ID, a.ID))
}

// ListRecords lists live records, newest event first, merging the
// villages' collections.
func (s *Store) ListRecords(ctx context.Context, f domain.RecordFilter, after *domain.RecordCursor, limit int) ([]domain.Record, error) {
	filter := bson.D{{Key: "type", Value: string(f.Type)}, {Key: "deleted", Value: false}}
	if f.Kind != "" {
		filter = append(filter, bson.E{Key: "kind", Value: f.Kind})
	}
	if f.CreatedBy != "" {
		filter = append(filter, bson.E{Key: "createdBy", Value: f.CreatedBy})
	}
	if f.ProjectID != "" {
		filter = append(filter, bson.E{Key: "projectId", Value: f.ProjectID})
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		r := bson.D{}
		if !f.From.IsZero() {
			r = append(r, bson.E{Key: "$gte", Value: f.From})
		}
		if !f.To.IsZero() {
			r = append(r, bson.E{Key: "$lt", Value: f.To})
		}
		filter = append(filter, bson.E{Key: "at", Value: r})
	}
	if after != nil {
		filter = and(filter, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: after.At}}}},
			bson.D{{Key: "at", Value: after.At}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}}})
	}
	// The inbox first: a record moved meanwhile is then found in its village.
	inbox := s.inboxRows(func(row recordRow) bool {
		return slices.Contains(f.VillageIDs, row.VillageID) && matches(toRecord(row), f) &&
			(after == nil || recordLess(domain.Record{ID: after.ID, At: after.At}, toRecordHead(row)) < 0)
	})
	out := make([]domain.Record, 0, len(inbox))
	for _, r := range inbox {
		out = append(out, toRecord(r))
	}
	for _, v := range f.VillageIDs {
		if after == nil && f.Type == domain.TypeReport {
			rs, ok, err := s.headList(ctx, v, f, limit)
			if err != nil {
				return nil, err
			}
			if ok {
				out = newest(append(out, rs...), recordLess, limit)
				continue
			}
		}
		rows, err := findAllLimit[recordRow](ctx, s, recordCollection(v), filter,
			bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, int64(limit))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, toRecord(r))
		}
		out = newest(out, recordLess, limit)
	}
	return newest(out, recordLess, limit), nil
}

// newest keeps one copy of each record (the highest version: a record
// being moved may be read from the inbox and its village), sorted, at most limit.
func newest(rs []domain.Record, less func(a, b domain.Record) int, limit int) []domain.Record {
	best := make(map[string]int, len(rs))
	var out []domain.Record
	for _, r := range rs {
		if i, ok := best[r.ID]; ok {
			if r.Version > out[i].Version {
				out[i] = r
			}
			continue
		}
		best[r.ID] = len(out)
		out = append(out, r)
	}
	slices.SortFunc(out, less)
	return out[:min(len(out), limit)]
}

// Changes reads the villages' records changed after a seq, up to the
// committed number.
func (s *Store) Changes(ctx context.Context, villageIDs []string, after int64, limit int) ([]domain.Record, int64, error) {
	upto, err := s.committedSeq(ctx)
	if err != nil {
		return nil, after, err
	}
	if upto <= after {
		return nil, after, nil
	}
	filter := bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: upto}}}}
	bySeq := func(a, b domain.Record) int { return cmp.Compare(a.Seq, b.Seq) }
	inbox := s.inboxRows(func(row recordRow) bool {
		return row.Seq > after && row.Seq <= upto && slices.Contains(villageIDs, row.VillageID)
	})
	var out []domain.Record
	for _, r := range inbox {
		out = append(out, toRecord(r))
	}
	for _, v := range villageIDs {
		rows, err := findAllLimit[recordRow](ctx, s, recordCollection(v), filter, bson.D{{Key: "seq", Value: 1}}, int64(limit))
		if err != nil {
			return nil, after, err
		}
		for _, r := range rows {
			out = append(out, toRecord(r))
		}
		out = newest(out, bySeq, limit)
	}
	out = newest(out, bySeq, limit)
	next := upto
	if len(out) == limit {
		// Full page: more may follow the last one.
		next = out[len(out)-1].Seq
	}
	return out, next, nil
}

// findAllLimit decodes at most limit (0: every) documents matching filter,
// in the given order (nil: the collection's).
func findAllLimit[R any](ctx context.Context, s *Store, col string, filter, sort bson.D, limit int64) ([]R, error) {
	var rows []R
	err := s.call(ctx, func(ctx context.Context) error {
		o := options.Find()
		if limit > 0 {
			o.SetLimit(limit)
		}
		if sort != nil {
			o.SetSort(sort)
		}
		cur, err := s.db.Collection(col).Find(ctx, filter, o)
		if err != nil {
			return err
		}
		return cur.All(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", col, err)
	}
	return rows, nil
}
