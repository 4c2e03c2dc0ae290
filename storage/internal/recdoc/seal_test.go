package recdoc

import (
	"strings"
	"testing"
	"time"

	"zhucun/crypt"
	"zhucun/domain"
)

func TestCodecSealsPersonalFields(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := domain.Record{ID: "r1", Type: domain.TypeReport, Report: &domain.Report{Kind: domain.KindReserveCandidate, OccurredAt: at,
		Candidate: &domain.Candidate{Name: "赵六合", BirthYear: 1990, Gender: "female", Education: "本科", Stage: "training"}}}
	key := []byte("a data key of thirty-two bytes!!")
	sl, _ := crypt.NewSealer(crypt.Default, key)
	k := Codec{Sealer: sl}
	c, _, _, err := k.Of(r)
	if err != nil {
		t.Fatal(err)
	}
	if c.Report.Candidate.Name != "" || c.Report.Candidate.Stage != "training" || !strings.HasPrefix(c.Report.Sealed, "a1:") {
		t.Fatalf("stored %+v %+v", c.Report, c.Report.Candidate)
	}
	var back domain.Record
	back.ID = "r1"
	if err := k.Into(c, &back); err != nil || *back.Report.Candidate != *r.Report.Candidate {
		t.Fatalf("read back %+v %v", back.Report, err)
	}
	// Without the key, or with another, a sealed record does not read.
	if err := (Codec{}).Into(c, &back); err == nil {
		t.Fatal("a sealed record read without a key")
	}
	other, _ := crypt.NewSealer(crypt.Default, []byte("another data key of 32 bytes!!!!"))
	if err := (Codec{Sealer: other}).Into(c, &back); err == nil {
		t.Fatal("a sealed record read with another key")
	}
	// Content stored before a key was set reads as it is.
	plain, _, _ := Of(r)
	var old domain.Record
	if err := k.Into(plain, &old); err != nil || old.Report.Candidate.Name != "赵六合" {
		t.Fatalf("plain content: %+v %v", old.Report, err)
	}
	// A record with no personal field seals nothing.
	v := domain.Record{ID: "r2", Type: domain.TypeReport, Report: &domain.Report{Kind: domain.KindVisit, OccurredAt: at, Count: 3}}
	if c, _, _, _ := k.Of(v); c.Report.Sealed != "" {
		t.Fatalf("sealed %q for no names", c.Report.Sealed)
	}
}
