package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RecordType names the kinds of field records a phone creates offline
// with its own ids: reports, disputes, projects and funds.
type RecordType string

// The record types.
const (
	TypeReport  RecordType = "report"
	TypeDispute RecordType = "dispute"
	TypeProject RecordType = "project"
	TypeFund    RecordType = "fund"
	// TypeProjectUpdate is a dated progress note of a project; it is made
	// through its project, not through sync.
	TypeProjectUpdate RecordType = "project_update"
)

// RecordTypes lists every record type.
var RecordTypes = []RecordType{TypeReport, TypeDispute, TypeProject, TypeFund}

// Record is one field record: the envelope every type shares, and the
// type's own content in exactly one of the payload fields.
type Record struct {
	ID        string // the client's UUID
	Type      RecordType
	VillageID string
	TownID    string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
	// Seq orders every change of every record: the changes feed's cursor.
	Seq     int64
	Deleted bool
	// Hash fingerprints what the client sent, so a resent create is told
	// apart from a different record under the same id.
	Hash string
	// CreateHash is Hash as first created: a resent create matches it even
	// after the record was edited.
	CreateHash string
	// Applied are the keys of the last edits applied, so a resent edit is
	// recognised even after later ones.
	Applied []string
	// At is the time of the event the record is about (occurredAt,
	// identifiedAt, receivedAt …), which lists sort by and counts use.
	At time.Time
	// Review is where the record stands in review (review.go): submitted,
	// approved or returned; empty (records filed before reviews) is submitted.
	Review string
	// ReviewHistory is every review decision and resubmission, oldest first.
	ReviewHistory []ReviewEvent
	// OnPost says the record places its author in the village on the day
	// of its event (onpost.go); the server sets it when the record is written.
	OnPost bool

	Report        *Report
	Dispute       *Dispute
	Project       *Project
	Fund          *Fund
	ProjectUpdate *ProjectUpdate
	Photo         *Photo
}

// content is what the hash covers: the type, the village and the payload.
func (r Record) content() any {
	return struct {
		Type      RecordType
		VillageID string
		Payload   any
	}{r.Type, r.VillageID, r.payload()}
}

func (r Record) payload() any {
	switch r.Type {
	case TypeReport:
		return r.Report
	case TypeDispute:
		return r.Dispute
	case TypeProject:
		return r.Project
	case TypeFund:
		return r.Fund
	case TypeProjectUpdate:
		return r.ProjectUpdate
	case TypePhoto:
		return r.Photo
	}
	return nil
}

// Fingerprint returns the hash of the record's client content, stable
// across versions of zhucun: the content as canonical JSON (keys sorted)
// with every field left empty dropped, so a field added to a payload type
// (empty in what older clients send) changes no fingerprint.
func (r Record) Fingerprint() string {
	b, err := json.Marshal(r.content())
	if err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err)) // plain structs always marshal
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err))
	}
	v, _ = pruneEmpty(v)
	if b, err = json.Marshal(v); err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// legacyFingerprint is the fingerprint of zhucun before the stores issue
// (the JSON of the domain structs as they stood, empty fields included),
// which records created then carry. It holds only while those structs keep
// their fields: a field added to a payload type must be left out here
// (TestFingerprintOfOldRecords fails until it is).
func (r Record) legacyFingerprint() string {
	b, err := json.Marshal(r.content())
	if err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// SameCreate reports whether a stored record's first content is what r
// carries (r.Hash its fingerprint), under this fingerprint or the legacy one.
func (r Record) SameCreate(stored Record) bool {
	return stored.Type == r.Type && stored.VillageID == r.VillageID &&
		(stored.CreateHash == r.Hash || stored.CreateHash == r.legacyFingerprint())
}

// pruneEmpty drops the empty values of decoded JSON (null, "", 0, false,
// empty lists and objects, the zero time) and says whether v itself is empty.
func pruneEmpty(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		return x, x == "" || x == "0001-01-01T00:00:00Z"
	case float64:
		return x, x == 0
	case bool:
		return x, !x
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			p, _ := pruneEmpty(e)
			out = append(out, p) // a list keeps its positions
		}
		return out, len(out) == 0
	case map[string]any:
		for k, e := range x {
			if p, empty := pruneEmpty(e); empty {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		return x, len(x) == 0
	}
	return v, false
}

// maxApplied bounds the edit keys a record remembers.
const maxApplied = 32

// WriteOp is what a write does to a record.
type WriteOp string

// The write operations.
const (
	OpCreate WriteOp = "create"
	OpUpdate WriteOp = "update"
	OpDelete WriteOp = "delete"
)

// RecordFilter narrows a record listing. Lists come newest event first.
type RecordFilter struct {
	Type       RecordType
	VillageIDs []string // the villages to read, already scoped
	Kind       string   // reports: the kind; disputes: the status; projects: the stage
	CreatedBy  string
	From, To   time.Time // event time; To exclusive; zero means open
	ProjectID  string    // funds and project updates
	Review     string    // a review state; "" any
}

// RecordCursor is where a record list page ends: the last item's event
// time and id.
type RecordCursor struct {
	At time.Time
	ID string
}

// RecordWrite is one write of a record as the domain decided it: the new
// version, its audit entry and what it changes in the counts (StatDelta of
// the stored version and the new one). A store commits the three together
// or none of them.
type RecordWrite struct {
	Record Record
	Audit  *AuditEntry
	Delta  []StatEvent
}

// RecordStore keeps field records. Every write is numbered (Seq) in the
// order it commits, so the changes feed never skips or repeats.
type RecordStore interface {
	// CreateRecord stores a new record, its audit entry and its count delta,
	// and returns it with Seq set. When the id exists already it stores
	// nothing and returns ErrDuplicate and the stored record (which may be
	// of another village or type).
	CreateRecord(ctx context.Context, w RecordWrite) (Record, error)
	// ReplaceRecord stores w.Record (with its audit entry and delta) if the
	// stored version is w.Record.Version-1: ErrStale (with the stored
	// record) otherwise, ErrNotFound if there is none.
	ReplaceRecord(ctx context.Context, w RecordWrite) (Record, error)
	// GetRecord returns a record, tombstones included.
	GetRecord(ctx context.Context, id string) (Record, error)
	// ListRecords lists live records of the filter's villages, newest event
	// first, after the cursor.
	ListRecords(ctx context.Context, f RecordFilter, after *RecordCursor, limit int) ([]Record, error)
	// Changes returns records of these villages changed after seq, in Seq
	// order, tombstones included, and the seq up to which the answer is
	// complete (the next cursor).
	Changes(ctx context.Context, villageIDs []string, after int64, limit int) ([]Record, int64, error)
	// CountReview counts the live records of these villages in a review state.
	CountReview(ctx context.Context, villageIDs []string, state string) (int64, error)
}

// ErrIDConflict means a client id is taken by a different record.
var ErrIDConflict = errors.New("id conflict")

func idConflict() error {
	return &Error{Kind: KindConflict, Code: "id_conflict",
		Message: "this id belongs to a different record; a resend must carry the same content",
		Fields:  []FieldError{{Field: "id", Code: FieldTaken, Message: "used by a different record"}}, Err: ErrIDConflict}
}
