package mongo

import (
	"context"
	"testing"
	"time"

	"zhucun/domain"
)

func TestPhotoIndexAndPending(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(id, village, status string) domain.Record {
		r := domain.Record{ID: id, Type: domain.TypePhoto, VillageID: village, TownID: "t", Version: 1, At: now, CreatedAt: now,
			Photo: &domain.Photo{Status: status, DeclaredType: "image/jpeg", DeclaredSize: 10}}
		r.Hash = r.Fingerprint()
		got, err := s.CreateRecord(ctx, createW(r))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := mk(domain.NewID(now), "v1", domain.PhotoPending)
	b := mk(domain.NewID(now.Add(time.Second)), "v2", domain.PhotoPending)
	ids := []string{a.ID, b.ID}
	got, err := s.VillagePhotos(ctx, "v1", ids) // loads v1
	if err != nil || len(got) != 1 || got[a.ID].Status != domain.PhotoPending {
		t.Fatalf("v1 photos: %+v %v", got, err)
	}
	// A write after the load reaches the index.
	taken := now.Add(-time.Hour)
	next := a
	next.Version, next.Photo = 2, &domain.Photo{Status: domain.PhotoReady, TakenAt: &taken, GPS: &domain.GeoPoint{Lat: 34, Lng: 113}}
	if _, err := s.ReplaceRecord(ctx, replaceW(t, s, next)); err != nil {
		t.Fatal(err)
	}
	c := mk(domain.NewID(now.Add(2*time.Second)), "v1", domain.PhotoPending)
	got, err = s.VillagePhotos(ctx, "v1", append(ids, c.ID))
	if err != nil || len(got) != 2 || got[a.ID].Status != domain.PhotoReady || got[a.ID].GPS == nil || !got[a.ID].TakenAt.Equal(taken) {
		t.Fatalf("after writes: %+v %v", got, err)
	}
	// A fresh process loads the same from the records.
	s2 := reopen(t, s)
	got2, err := s2.VillagePhotos(ctx, "v1", append(ids, c.ID))
	if err != nil || len(got2) != 2 || got2[a.ID].Status != domain.PhotoReady || got2[c.ID].Status != domain.PhotoPending {
		t.Fatalf("reloaded: %+v %v", got2, err)
	}
	// Tombstones leave.
	tomb := next
	tomb.Version, tomb.Deleted = 3, true
	if _, err := s2.ReplaceRecord(ctx, replaceW(t, s2, tomb)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.VillagePhotos(ctx, "v1", ids); len(got) != 0 {
		t.Fatalf("a deleted photo is still indexed: %+v", got)
	}

	for i, p := range []domain.PendingPhoto{{ID: a.ID, VillageID: "v1", CreatedAt: now}, {ID: b.ID, VillageID: "v2", CreatedAt: now.Add(time.Hour)}, {ID: a.ID, VillageID: "v1", CreatedAt: now}} {
		if err := s2.AddPendingPhoto(ctx, p); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	old, err := s2.PendingPhotos(ctx, now.Add(30*time.Minute), 10)
	if err != nil || len(old) != 1 || old[0].ID != a.ID {
		t.Fatalf("pending before: %+v %v", old, err)
	}
	if err := s2.RemovePendingPhoto(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s2.PendingPhotos(ctx, now.Add(2*time.Hour), 10); len(all) != 1 || all[0].ID != b.ID {
		t.Fatalf("pending after removal: %+v", all)
	}
}

// reopen closes s and opens its database again, as a restart does.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	name := s.db.Name()
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), server.URI, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close(context.Background()) })
	return s2
}
