package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

type auditRow struct {
	ID        string    `bson:"_id"`
	At        time.Time `bson:"at"`
	UserID    string    `bson:"userId"`
	Role      string    `bson:"role,omitempty"`
	Entity    string    `bson:"entity"`
	EntityID  string    `bson:"entityId"`
	Action    string    `bson:"action"`
	RequestID string    `bson:"requestId,omitempty"`
	TownID    string    `bson:"townId,omitempty"`
	Addr      string    `bson:"addr,omitempty"`
	Outcome   string    `bson:"outcome,omitempty"` // missing: success (entries written before outcomes)
	Seq       int64     `bson:"seq,omitempty"`     // the place in the chain; missing: outside it
	Hash      string    `bson:"hash,omitempty"`
}

func (r auditRow) id() string { return r.ID }

func toAuditEntry(r auditRow) domain.AuditEntry {
	e := domain.AuditEntry{ID: r.ID, At: r.At.UTC(), UserID: r.UserID, Role: domain.Role(r.Role), Entity: r.Entity,
		EntityID: r.EntityID, Action: r.Action, RequestID: r.RequestID, TownID: r.TownID, Addr: r.Addr, Outcome: r.Outcome,
		Seq: r.Seq, Hash: r.Hash}
	if e.Outcome == "" {
		e.Outcome = domain.OutcomeSuccess
	}
	return e
}

func toAuditRow(e domain.AuditEntry) auditRow {
	row := auditRow{ID: e.ID, At: e.At, UserID: e.UserID, Role: string(e.Role), Entity: e.Entity,
		EntityID: e.EntityID, Action: e.Action, RequestID: e.RequestID, TownID: e.TownID, Addr: e.Addr, Outcome: e.Outcome,
		Seq: e.Seq, Hash: e.Hash}
	if row.Outcome == domain.OutcomeSuccess {
		row.Outcome = ""
	}
	return row
}

// AppendAudit adds an audit entry at the end of the chain.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEntry) error {
	err := s.chained(ctx, func(seal func(*auditRow)) error {
		row := toAuditRow(e)
		seal(&row)
		return insert(ctx, s, colAudit, row)
	})
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// auditChain is where the chain ends: the place and seal of its last entry.
// Every entry is appended by this process (the writer), under mu.
type auditChain struct {
	mu     sync.Mutex
	loaded bool
	seq    int64
	hash   string
}

// chained runs write with a sealer that places rows at the chain's end, one
// after the other; the chain moves on only when write succeeds (a failed
// write leaves no gap).
func (s *Store) chained(ctx context.Context, write func(seal func(*auditRow)) error) error {
	c := &s.chain
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		last, err := findAllLimit[auditRow](ctx, s, colAudit, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: 0}}}}, bson.D{{Key: "seq", Value: -1}}, 1)
		if err != nil {
			return fmt.Errorf("the audit chain's end: %w", translate(err))
		}
		c.seq, c.hash = 0, ""
		if len(last) == 1 {
			c.seq, c.hash = last[0].Seq, last[0].Hash
		}
		c.loaded = true
	}
	seq, hash := c.seq, c.hash
	err := write(func(r *auditRow) {
		e := toAuditEntry(*r)
		s.seal.Seal(seq, hash, &e)
		r.Seq, r.Hash = e.Seq, e.Hash
		seq, hash = e.Seq, e.Hash
	})
	if err != nil {
		return err
	}
	c.seq, c.hash = seq, hash
	return nil
}

// AuditChain calls f with every entry in chain order, those outside it first.
func (s *Store) AuditChain(ctx context.Context, f func(domain.AuditEntry) error) error {
	// A whole trail is read at once: more time than one call gets.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cur, err := s.db.Collection(colAudit).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("audit chain: %w", translate(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r auditRow
		if err := cur.Decode(&r); err != nil {
			return fmt.Errorf("audit chain: %w", err)
		}
		if err := f(toAuditEntry(r)); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("audit chain: %w", translate(err))
	}
	return nil
}

// sealLegacy places the entries written before the chain (data version
// 1), in id order, at its end; run once, by the upgrade to version 2.
func (s *Store) sealLegacy(ctx context.Context) error {
	rows, err := findAll[auditRow](ctx, s, colAudit, bson.D{{Key: "seq", Value: bson.D{{Key: "$exists", Value: false}}}}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("seal the audit entries: %w", translate(err))
	}
	return s.chained(ctx, func(seal func(*auditRow)) error {
		for i := range rows {
			seal(&rows[i])
			err := s.write(ctx, func(ctx context.Context) error {
				_, err := s.db.Collection(colAudit).UpdateOne(ctx, bson.D{{Key: "_id", Value: rows[i].ID}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: rows[i].Seq}, {Key: "hash", Value: rows[i].Hash}}}})
				return err
			})
			if err != nil {
				return fmt.Errorf("seal the audit entries: %w", err)
			}
		}
		return nil
	})
}

// ListAudit lists audit entries, oldest first.
func (s *Store) ListAudit(ctx context.Context, f domain.AuditFilter, p domain.Page) (domain.List[domain.AuditEntry], error) {
	filter := bson.D{}
	add := func(k, v string) {
		if v != "" {
			filter = append(filter, bson.E{Key: k, Value: v})
		}
	}
	add("entity", f.Entity)
	add("entityId", f.EntityID)
	add("userId", f.UserID)
	add("action", f.Action)
	switch f.Outcome {
	case "":
	case domain.OutcomeSuccess: // also the entries written before outcomes
		filter = append(filter, bson.E{Key: "outcome", Value: bson.D{{Key: "$nin", Value: bson.A{domain.OutcomeFailure, domain.OutcomeDenied}}}})
	default:
		add("outcome", f.Outcome)
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
	return findPage(ctx, s, colAudit, filter, p, toAuditEntry)
}

// auditHeadRow is the chain's head after prunes, in the meta collection.
type auditHeadRow struct {
	ID     string    `bson:"_id"`
	Seq    int64     `bson:"seq"`
	Hash   string    `bson:"hash"`
	Before time.Time `bson:"before"`
	At     time.Time `bson:"at"`
	Seal   string    `bson:"seal"`
}

const auditHeadID = "auditHead"

// AuditHead is where the stored chain begins after prunes.
func (s *Store) AuditHead(ctx context.Context) (domain.AuditHead, error) {
	r, err := findOne[auditHeadRow](ctx, s, colMeta, bson.D{{Key: "_id", Value: auditHeadID}})
	if errors.Is(err, domain.ErrNotFound) {
		return domain.AuditHead{}, nil
	} else if err != nil {
		return domain.AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	return domain.AuditHead{Seq: r.Seq, Hash: r.Hash, Before: r.Before.UTC(), At: r.At.UTC(), Seal: r.Seal}, nil
}

// AuditLast is the chain's last entry.
func (s *Store) AuditLast(ctx context.Context) (domain.AuditEntry, error) {
	last, err := findAllLimit[auditRow](ctx, s, colAudit, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: 0}}}}, bson.D{{Key: "seq", Value: -1}}, 1)
	if err != nil {
		return domain.AuditEntry{}, fmt.Errorf("audit last: %w", translate(err))
	}
	if len(last) == 0 {
		return domain.AuditEntry{}, fmt.Errorf("audit last: %w", domain.ErrNotFound)
	}
	return toAuditEntry(last[0]), nil
}

// PruneAudit keeps the head first, then removes the entries it covers: a
// prune cut short leaves entries the head already covers, which the
// verifier passes over, never a gap without a head.
func (s *Store) PruneAudit(ctx context.Context, h domain.AuditHead) (int64, error) {
	row := auditHeadRow{ID: auditHeadID, Seq: h.Seq, Hash: h.Hash, Before: h.Before, At: h.At, Seal: h.Seal}
	if err := s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colMeta).ReplaceOne(ctx, bson.D{{Key: "_id", Value: auditHeadID}}, row, options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	var n int64
	if err := s.write(ctx, func(ctx context.Context) error {
		r, err := s.db.Collection(colAudit).DeleteMany(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: h.Seq}}}})
		if err == nil {
			n = r.DeletedCount
		}
		return err
	}); err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return n, nil
}
