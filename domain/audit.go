package domain

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry records one write: who made it, when, to what, and in which request.
type AuditEntry struct {
	ID        string
	At        time.Time
	UserID    string
	Role      Role
	Entity    string // "town", "village", "user", "session", ...
	EntityID  string
	Action    string // "create", "update", "import", "login", ...
	RequestID string
	TownID    string // the town the entity belongs to, when it has one
	Addr      string // the client's address
	Outcome   string // success, failure (a sign-in refused …) or denied (403)
	// Seq is the entry's place in the chain (from 1), and Hash its seal:
	// the store sets both when it appends the entry (AuditSeal).
	Seq  int64
	Hash string
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditFilter narrows an audit listing; empty fields match everything.
type AuditFilter struct {
	Entity   string
	EntityID string
	UserID   string
	Action   string
	Outcome  string
	From, To time.Time // To is exclusive; zero means open
}

// AuditStore keeps the audit trail. It appends each entry at the end of
// one chain (Seq, and Hash when it has a seal) and never changes one.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter, p Page) (List[AuditEntry], error)
	// AuditChain calls f with every entry in chain order (entries outside
	// the chain, Seq 0, first), until f returns an error.
	AuditChain(ctx context.Context, f func(AuditEntry) error) error
	// AuditHead is where the stored chain begins after prunes (zero: none).
	AuditHead(ctx context.Context) (AuditHead, error)
	// AuditLast is the chain's last entry (ErrNotFound when it is empty).
	AuditLast(ctx context.Context) (AuditEntry, error)
	// PruneAudit removes the entries up to the head's place and keeps the
	// head; it answers how many it removed.
	PruneAudit(ctx context.Context, h AuditHead) (int64, error)
}

// Auditor appends audit entries for a caller's writes.
type Auditor struct {
	Store AuditStore
	Now   Clock
}

// Entry makes the entry Record would append, for a store that writes it
// together with the write it describes.
func (a Auditor) Entry(c Caller, entity, id, action, townID string) AuditEntry {
	now := a.Now()
	return AuditEntry{ID: NewID(now), At: now, UserID: c.UserID, Role: c.Role,
		Entity: entity, EntityID: id, Action: action, RequestID: c.RequestID, TownID: townID, Addr: c.Addr, Outcome: OutcomeSuccess}
}

// Refusal appends the entry of a refused attempt (outcome failure or
// denied). The attempt changed nothing; an error here is returned.
func (a Auditor) Refusal(ctx context.Context, c Caller, entity, id, action, outcome, townID string) error {
	e := a.Entry(c, entity, id, action, townID)
	e.Outcome = outcome
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, entity, err)
	}
	return nil
}

// Record appends one entry. The write it describes has already happened;
// an error here is returned so the caller learns the trail is incomplete.
func (a Auditor) Record(ctx context.Context, c Caller, entity, id, action, townID string) error {
	if err := a.Store.AppendAudit(ctx, a.Entry(c, entity, id, action, townID)); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, entity, err)
	}
	return nil
}

// List returns audit entries to the audit administrator, the one role
// that reads the trail.
func (a Auditor) List(ctx context.Context, c Caller, f AuditFilter, p Page) (List[AuditEntry], error) {
	if !c.Is(RoleAuditAdmin) {
		return List[AuditEntry]{}, Forbidden()
	}
	return a.Store.ListAudit(ctx, f, p)
}
