package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
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
	Seal     AuditSeal
	Problems []ChainProblem
	Entries  int64
	seq      int64
	hash     string
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
}
