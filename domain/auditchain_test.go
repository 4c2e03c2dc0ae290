package domain

import (
	"crypto/sha512"
	"strings"
	"testing"
	"time"
)

func TestAuditChainFindsTampering(t *testing.T) {
	seal := AuditSeal{Key: []byte("a key outside the database")}
	var chain []AuditEntry
	var prevSeq int64
	prev := ""
	base := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	for i := range 6 {
		e := AuditEntry{ID: NewID(base.Add(time.Duration(i) * time.Second)), At: base.Add(time.Duration(i) * time.Second), UserID: "u1",
			Entity: "report", EntityID: "r1", Action: "create", Addr: "10.0.0.1"}
		seal.Seal(prevSeq, prev, &e)
		prevSeq, prev = e.Seq, e.Hash
		chain = append(chain, e)
	}
	check := func(name string, entries []AuditEntry, want ...string) {
		t.Helper()
		v := AuditVerifier{Seal: seal}
		for _, e := range entries {
			v.Add(e)
		}
		var got []string
		for _, p := range v.Problems {
			got = append(got, p.Kind)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: problems %v, want %v", name, v.Problems, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: problems %v, want %v", name, v.Problems, want)
			}
		}
	}
	check("intact", chain)
	changed := append([]AuditEntry(nil), chain...)
	changed[2].Action = "delete"
	check("changed", changed, ChainChanged)
	check("removed", append(append([]AuditEntry(nil), chain[:3]...), chain[4:]...), ChainRemoved)
	outside := AuditEntry{ID: NewID(base), At: base, UserID: "u9", Entity: "user", Action: "update"}
	check("inserted outside", append([]AuditEntry{outside}, chain...), ChainInserted)
	twice := chain[3]
	twice.ID = NewID(base.Add(time.Hour))
	check("inserted twice", append(append(append([]AuditEntry(nil), chain[:4]...), twice), chain[4:]...), ChainInserted)
	other := AuditVerifier{Seal: AuditSeal{Key: []byte("another key")}}
	other.Add(chain[0])
	if len(other.Problems) != 1 {
		t.Fatalf("a chain sealed under another key passes")
	}
}

// A chain sealed partly with SHA-256 and, after a switch of suite, with the
// national hash verifies whole; without that hash its later part does not.
func TestAuditChainAcrossASwitchOfSuite(t *testing.T) {
	seal := AuditSeal{Key: []byte("a key outside the database"), SM3: sha512.New} // a stand-in hash: domain imports no SM3
	var chain []AuditEntry
	var prevSeq int64
	prev := ""
	base := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	for i := range 6 {
		seal.UseSM3 = i >= 3
		e := AuditEntry{ID: NewID(base.Add(time.Duration(i) * time.Second)), At: base.Add(time.Duration(i) * time.Second), UserID: "u1", Action: "create"}
		seal.Seal(prevSeq, prev, &e)
		prevSeq, prev = e.Seq, e.Hash
		chain = append(chain, e)
	}
	if strings.HasPrefix(chain[2].Hash, "sm3:") || !strings.HasPrefix(chain[3].Hash, "sm3:") {
		t.Fatalf("seals %s %s", chain[2].Hash, chain[3].Hash)
	}
	for _, s := range []AuditSeal{seal, {Key: seal.Key, SM3: sha512.New}} {
		v := AuditVerifier{Seal: s}
		for _, e := range chain {
			v.Add(e)
		}
		if len(v.Problems) != 0 {
			t.Fatalf("the switched chain: %v", v.Problems)
		}
	}
	v := AuditVerifier{Seal: AuditSeal{Key: seal.Key}}
	for _, e := range chain {
		v.Add(e)
	}
	if len(v.Problems) == 0 || v.Problems[0].Seq != 4 {
		t.Fatalf("without the national hash: %v", v.Problems)
	}
}

// A head not sealed with the key, or one that pruned entries younger than
// 180 days, is a removal; a sealed one of old entries is not.
func TestAuditHeadSealed(t *testing.T) {
	seal := AuditSeal{Key: []byte("a key outside the database")}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		head AuditHead
		ok   bool
	}{
		"sealed":   {AuditHead{Seq: 5, Hash: "h", Before: at.AddDate(0, 0, -200), At: at}, true},
		"too soon": {AuditHead{Seq: 5, Hash: "h", Before: at.AddDate(0, 0, -100), At: at}, false},
		"forged":   {AuditHead{Seq: 5, Hash: "h", Before: at.AddDate(0, 0, -200), At: at, Seal: "forged"}, false},
	} {
		h := c.head
		if h.Seal == "" {
			seal.SealHead(&h)
		}
		v := AuditVerifier{Seal: seal}
		v.Start(h)
		if (len(v.Problems) == 0) != c.ok {
			t.Errorf("%s: %v", name, v.Problems)
		}
	}
}
