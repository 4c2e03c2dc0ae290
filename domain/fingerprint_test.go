package domain

import (
	"testing"
	"time"
)

// oldVisit is a visit as zhucun stored it before the stores issue, and the
// fingerprint that code gave it (sha256 of the domain structs' JSON),
// computed by running commit ae7662a's Record.Fingerprint on this record.
func oldVisit() Record {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	return Record{Type: TypeReport, VillageID: "0196f0c2-7d3a-7c1e-9a41-3f2b8c6d5e10",
		Report: &Report{Kind: KindVisit, OccurredAt: at, Visitee: "household", Count: 3, Notes: "走访低保户"}}
}

const oldVisitFingerprint = "d39de020e88611c30db0700bea4fcbd8497e0b23e676ebf2fb8038a25c5ccecb"

// TestFingerprintOfOldRecords: a create stored by the old code, resent with
// the same content, is still the same create; another content is not.
func TestFingerprintOfOldRecords(t *testing.T) {
	r := oldVisit()
	if got := r.legacyFingerprint(); got != oldVisitFingerprint {
		t.Fatalf("the legacy fingerprint is %s, the old code wrote %s: a payload type changed; leave the new field out of legacyFingerprint", got, oldVisitFingerprint)
	}
	stored := r
	stored.CreateHash = oldVisitFingerprint
	resend := r
	resend.Hash = resend.Fingerprint()
	if resend.Hash == oldVisitFingerprint {
		t.Fatal("the new fingerprint should be the canonical one, not the old")
	}
	if !resend.SameCreate(stored) {
		t.Fatal("a resend of a create stored by the old code is not recognised")
	}
	other := r
	other.Report = &Report{Kind: KindVisit, OccurredAt: r.Report.OccurredAt, Visitee: "household", Count: 4}
	other.Hash = other.Fingerprint()
	if other.SameCreate(stored) {
		t.Fatal("other content passed as the stored create")
	}
}

// TestFingerprintIgnoresEmptyFields: content that differs only by fields
// left empty has one fingerprint (a field added later, absent from what an
// older phone sends, changes nothing); any value set changes it.
func TestFingerprintIgnoresEmptyFields(t *testing.T) {
	a := oldVisit()
	b := oldVisit()
	b.Report.Names, b.Report.Topics = []string{}, nil
	if a.Fingerprint() != b.Fingerprint() {
		t.Fatal("empty fields changed the fingerprint")
	}
	b.Report.FollowUp = true
	if a.Fingerprint() == b.Fingerprint() {
		t.Fatal("a set field did not change the fingerprint")
	}
	c := oldVisit()
	c.Report.PhotoIDs = []string{"x", ""}
	d := oldVisit()
	d.Report.PhotoIDs = []string{"", "x"}
	if c.Fingerprint() == d.Fingerprint() {
		t.Fatal("a list's order did not count")
	}
}
