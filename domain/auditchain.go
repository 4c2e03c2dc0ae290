package domain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"time"
)

// The audit trail is tamper-evident: each entry carries an HMAC-SHA-256 of
// itself and of the entry before it, under a key the database does not
// hold. Changing an entry breaks its seal; removing one leaves a gap in the
// sequence; inserting one leaves it outside the chain (or doubles a place).

// AuditSeal seals audit entries with a key kept outside the database:
// HMAC-SHA-256, or HMAC-SM3 under the national suite. An SM3 seal starts
// with "sm3:", so a chain sealed partly before a switch of suite verifies.
type AuditSeal struct {
	Key []byte
	// SM3, when set, is the SM3 hash; UseSM3 seals new entries with it.
	SM3    func() hash.Hash
	UseSM3 bool
}

const sm3Prefix = "sm3:"

// sealed is what an entry's seal covers, in a fixed form.
type sealed struct {
	Seq       int64  `json:"seq"`
	ID        string `json:"id"`
	At        int64  `json:"at"` // Unix ms, what the stores keep
	UserID    string `json:"user"`
	Role      string `json:"role"`
	Entity    string `json:"entity"`
	EntityID  string `json:"entityId"`
	Action    string `json:"action"`
	RequestID string `json:"request"`
	TownID    string `json:"town"`
	Addr      string `json:"addr"`
	Outcome   string `json:"outcome"`
}

// Hash is the seal of an entry after the one sealed prev, with the
// suite's hash.
func (s AuditSeal) Hash(prev string, e AuditEntry) string {
	return s.hashWith(s.UseSM3 && s.SM3 != nil, prev, e)
}

// Matches reports whether an entry's seal is right, by the hash it names.
func (s AuditSeal) Matches(prev string, e AuditEntry) bool {
	gm := strings.HasPrefix(e.Hash, sm3Prefix)
	if gm && s.SM3 == nil {
		return false
	}
	return hmac.Equal([]byte(s.hashWith(gm, prev, e)), []byte(e.Hash))
}

func (s AuditSeal) hashWith(gm bool, prev string, e AuditEntry) string {
	outcome := e.Outcome
	if outcome == "" {
		outcome = OutcomeSuccess
	}
	b, err := json.Marshal(sealed{e.Seq, e.ID, e.At.UnixMilli(), e.UserID, string(e.Role), e.Entity, e.EntityID, e.Action,
		e.RequestID, e.TownID, e.Addr, outcome})
	if err != nil {
		panic(fmt.Sprintf("seal audit entry: %v", err)) // plain strings always marshal
	}
	h, prefix := sha256.New, ""
	if gm {
		h, prefix = s.SM3, sm3Prefix
	}
	m := hmac.New(h, s.Key)
	m.Write([]byte(prev))
	m.Write([]byte{0})
	m.Write(b)
	return prefix + hex.EncodeToString(m.Sum(nil))
}

// Seal places e after the entry (prevSeq, prevHash) and seals it.
func (s *AuditSeal) Seal(prevSeq int64, prevHash string, e *AuditEntry) {
	e.Seq = prevSeq + 1
	e.Hash = ""
	if s != nil {
		e.Hash = s.Hash(prevHash, *e)
	}
}

// Chain problems.
const (
	ChainChanged  = "changed"  // the entry is not what was sealed
	ChainRemoved  = "removed"  // entries are missing before this one
	ChainInserted = "inserted" // the entry is not in the chain, or takes a place another holds
)

// ChainProblem is one sign of tampering with the audit trail.
type ChainProblem struct {
	Kind   string
	Seq    int64
	ID     string
	Detail string
}

// AuditVerifier checks a chain entry by entry, in chain order.
type AuditVerifier struct {
	Seal AuditSeal
	// Anchor, when set, is the chain's end as seen from outside the
	// database: End checks the chain still reaches it.
	Anchor   AuditAnchor
	Problems []ChainProblem
	Entries  int64
	seq      int64
	hash     string
	atAnchor string // the seal stored at the anchor's place
}

// Add checks the next entry.
func (v *AuditVerifier) Add(e AuditEntry) {
	v.Entries++
	switch {
	case e.Seq == 0:
		v.Problems = append(v.Problems, ChainProblem{ChainInserted, 0, e.ID, "an entry outside the chain"})
		return
	case e.Seq <= v.seq:
		v.Problems = append(v.Problems, ChainProblem{ChainInserted, e.Seq, e.ID, fmt.Sprintf("a second entry at place %d", e.Seq)})
		return
	case e.Seq > v.seq+1:
		// The seal of the entry after a gap covers the missing one's: it
		// cannot be checked, and the gap is the problem.
		v.Problems = append(v.Problems, ChainProblem{ChainRemoved, e.Seq, e.ID, fmt.Sprintf("places %d to %d are missing", v.seq+1, e.Seq-1)})
	default:
		if !v.Seal.Matches(v.hash, e) {
			v.Problems = append(v.Problems, ChainProblem{ChainChanged, e.Seq, e.ID, "the entry does not match its seal"})
		}
	}
	// Go on from what is stored, so one change is one problem.
	v.seq, v.hash = e.Seq, e.Hash
	if e.Seq == v.Anchor.Seq {
		v.atAnchor = e.Hash
	}
}

// AuditRetentionMin is the least time audit entries are kept
// (Cybersecurity Law art. 21: network logs for at least six months).
const AuditRetentionMin = 180 * 24 * time.Hour

// AuditHead is where a pruned chain begins: the place and seal of the
// last entry removed, the cut-off the prune kept to and when it ran,
// sealed with the audit key so that no one without it can move the head.
type AuditHead struct {
	Seq    int64
	Hash   string
	Before time.Time // every removed entry is older than this
	At     time.Time // when the prune ran
	Seal   string
}

// AuditAnchor is the chain's end as last seen from outside the database
// (a file beside the keys), so that entries removed from the end are
// found: the chain must still reach it, with the same seal there.
type AuditAnchor struct {
	Seq  int64
	Hash string
	At   time.Time
	Seal string
}

func (s AuditSeal) mark(kind string, seq int64, hash string, times ...time.Time) string {
	m := hmac.New(sha256.New, s.Key)
	fmt.Fprintf(m, "%s|%d|%s", kind, seq, hash)
	for _, t := range times {
		fmt.Fprintf(m, "|%d", t.UnixMilli())
	}
	return hex.EncodeToString(m.Sum(nil))
}

// SealHead seals a head.
func (s AuditSeal) SealHead(h *AuditHead) { h.Seal = s.mark("head", h.Seq, h.Hash, h.Before, h.At) }

// SealAnchor seals an anchor.
func (s AuditSeal) SealAnchor(a *AuditAnchor) { a.Seal = s.mark("anchor", a.Seq, a.Hash, a.At) }

// AnchorMatches reports whether an anchor was sealed with this key.
func (s AuditSeal) AnchorMatches(a AuditAnchor) bool {
	return hmac.Equal([]byte(s.mark("anchor", a.Seq, a.Hash, a.At)), []byte(a.Seal))
}

// Start makes the verifier begin after a pruned head (the zero head: the
// chain's start). A head that is not sealed, or that removed entries
// younger than AuditRetentionMin, is a problem.
func (v *AuditVerifier) Start(h AuditHead) {
	if h.Seq == 0 {
		return
	}
	switch {
	case !hmac.Equal([]byte(v.Seal.mark("head", h.Seq, h.Hash, h.Before, h.At)), []byte(h.Seal)):
		v.Problems = append(v.Problems, ChainProblem{ChainRemoved, h.Seq, "", fmt.Sprintf("places 1 to %d are gone and the head that says so is not sealed: removed outside a prune", h.Seq)})
	case h.At.Sub(h.Before) < AuditRetentionMin:
		v.Problems = append(v.Problems, ChainProblem{ChainRemoved, h.Seq, "", "a prune removed entries younger than 180 days"})
	}
	v.seq, v.hash = h.Seq, h.Hash
}

// End checks, after the last entry, that the chain reached the anchor
// with the anchor's seal.
func (v *AuditVerifier) End() {
	a := v.Anchor
	switch {
	case a.Seq == 0:
	case !v.Seal.AnchorMatches(a):
		v.Problems = append(v.Problems, ChainProblem{ChainChanged, a.Seq, "", "the anchor is not sealed with the audit key"})
	case v.seq < a.Seq:
		v.Problems = append(v.Problems, ChainProblem{ChainRemoved, a.Seq, "", fmt.Sprintf("places %d to %d at the end are missing (the anchor of %s saw them)", v.seq+1, a.Seq, a.At.Format(time.RFC3339))})
	case v.atAnchor != a.Hash:
		v.Problems = append(v.Problems, ChainProblem{ChainChanged, a.Seq, "", "the entry at the anchor's place is not the one the anchor saw"})
	}
}

// AuditPruner removes old audit entries as whole verified segments.
type AuditPruner struct {
	Store AuditStore
	Seal  AuditSeal
	Audit Auditor
	Now   Clock
}

// Prune removes the entries older than before, which must be at least
// AuditRetentionMin ago, when the whole chain verifies: the oldest
// entries up to the last one older than before, never the chain's last.
// It answers how many it removed; the prune itself is audited.
func (p AuditPruner) Prune(ctx context.Context, c Caller, before time.Time) (int64, error) {
	now := p.Now()
	if now.Sub(before) < AuditRetentionMin {
		return 0, &Error{Kind: KindInvalid, Code: "retention_too_short",
			Message: fmt.Sprintf("audit entries are kept at least 180 days: prune before %s at the latest", now.Add(-AuditRetentionMin).Format("2006-01-02"))}
	}
	head, err := p.Store.AuditHead(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	v := AuditVerifier{Seal: p.Seal}
	v.Start(head)
	var cut, last AuditEntry
	older := true
	if err := p.Store.AuditChain(ctx, func(e AuditEntry) error {
		if e.Seq != 0 && e.Seq <= head.Seq {
			return nil // removed by a prune that did not finish (MongoDB writes the head first)
		}
		v.Add(e)
		if older && e.At.Before(before) {
			cut = e
		} else {
			older = false
		}
		last = e
		return nil
	}); err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	if len(v.Problems) > 0 {
		return 0, &Error{Kind: KindConflict, Code: "audit_chain_broken",
			Message: fmt.Sprintf("the audit chain does not verify (%d problems; run zhucun audit verify): nothing is pruned", len(v.Problems))}
	}
	if cut.Seq == 0 || cut.Seq >= last.Seq {
		return 0, nil
	}
	h := AuditHead{Seq: cut.Seq, Hash: cut.Hash, Before: before, At: now}
	p.Seal.SealHead(&h)
	n, err := p.Store.PruneAudit(ctx, h)
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return n, p.Audit.Record(ctx, c, "audit", fmt.Sprintf("%d-%d", head.Seq+1, cut.Seq), "audit_pruned", "")
}
