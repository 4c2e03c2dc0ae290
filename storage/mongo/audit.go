package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
}

func (r auditRow) id() string { return r.ID }

func toAuditEntry(r auditRow) domain.AuditEntry {
	e := domain.AuditEntry{ID: r.ID, At: r.At.UTC(), UserID: r.UserID, Role: domain.Role(r.Role), Entity: r.Entity,
		EntityID: r.EntityID, Action: r.Action, RequestID: r.RequestID, TownID: r.TownID, Addr: r.Addr, Outcome: r.Outcome}
	if e.Outcome == "" {
		e.Outcome = domain.OutcomeSuccess
	}
	return e
}

func toAuditRow(e domain.AuditEntry) auditRow {
	row := auditRow{ID: e.ID, At: e.At, UserID: e.UserID, Role: string(e.Role), Entity: e.Entity,
		EntityID: e.EntityID, Action: e.Action, RequestID: e.RequestID, TownID: e.TownID, Addr: e.Addr, Outcome: e.Outcome}
	if row.Outcome == domain.OutcomeSuccess {
		row.Outcome = ""
	}
	return row
}

// AppendAudit adds an audit entry.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEntry) error {
	if err := insert(ctx, s, colAudit, toAuditRow(e)); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
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
