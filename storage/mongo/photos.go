package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

var (
	_ domain.PendingPhotoStore = (*Store)(nil)
	_ domain.PhotoIndex        = (*Store)(nil)
)

// Photos are records of type "photo" (records.go). Besides them:
// "photo_pending" lists the photos waiting for their bytes (small: each
// leaves on completion or after a day), and each village's photos are
// indexed in memory for the evidence of the records that cite them.
const colPhotoPending = "photo_pending"

type geoRow struct {
	Lat float64 `bson:"lat"`
	Lng float64 `bson:"lng"`
}

type photoRow struct {
	Status         string     `bson:"status"`
	DeclaredType   string     `bson:"declaredType,omitempty"`
	DeclaredSize   int64      `bson:"declaredSize,omitempty"`
	DeclaredSHA256 string     `bson:"declaredSha256,omitempty"`
	ContentType    string     `bson:"contentType,omitempty"`
	Size           int64      `bson:"size,omitempty"`
	SHA256         string     `bson:"sha256,omitempty"`
	BlobKey        string     `bson:"blobKey,omitempty"`
	ThumbKey       string     `bson:"thumbKey,omitempty"`
	Width          int        `bson:"width,omitempty"`
	Height         int        `bson:"height,omitempty"`
	TakenAt        *time.Time `bson:"takenAt,omitempty"`
	GPS            *geoRow    `bson:"gps,omitempty"`
	CompletedAt    *time.Time `bson:"completedAt,omitempty"`
}

func toPhotoRow(p domain.Photo) *photoRow {
	row := &photoRow{Status: p.Status, DeclaredType: p.DeclaredType, DeclaredSize: p.DeclaredSize, DeclaredSHA256: p.DeclaredSHA256,
		ContentType: p.ContentType, Size: p.Size, SHA256: p.SHA256, BlobKey: p.BlobKey, ThumbKey: p.ThumbKey,
		Width: p.Width, Height: p.Height, TakenAt: p.TakenAt, CompletedAt: p.CompletedAt}
	if p.GPS != nil {
		row.GPS = &geoRow{Lat: p.GPS.Lat, Lng: p.GPS.Lng}
	}
	return row
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toPhoto(row photoRow) domain.Photo {
	p := domain.Photo{Status: row.Status, DeclaredType: row.DeclaredType, DeclaredSize: row.DeclaredSize, DeclaredSHA256: row.DeclaredSHA256,
		ContentType: row.ContentType, Size: row.Size, SHA256: row.SHA256, BlobKey: row.BlobKey, ThumbKey: row.ThumbKey,
		Width: row.Width, Height: row.Height, TakenAt: utcPtr(row.TakenAt), CompletedAt: utcPtr(row.CompletedAt)}
	if row.GPS != nil {
		p.GPS = &domain.GeoPoint{Lat: row.GPS.Lat, Lng: row.GPS.Lng}
	}
	return p
}

type pendingRow struct {
	ID        string    `bson:"_id"`
	VillageID string    `bson:"villageId"`
	CreatedAt time.Time `bson:"createdAt"`
}

// AddPendingPhoto lists a photo as waiting; listing it again is no error.
func (s *Store) AddPendingPhoto(ctx context.Context, p domain.PendingPhoto) error {
	err := insert(ctx, s, colPhotoPending, pendingRow{ID: p.ID, VillageID: p.VillageID, CreatedAt: p.CreatedAt})
	if err != nil && !errors.Is(err, domain.ErrDuplicate) {
		return fmt.Errorf("add pending photo: %w", err)
	}
	return nil
}

// RemovePendingPhoto takes a photo off the waiting list.
func (s *Store) RemovePendingPhoto(ctx context.Context, id string) error {
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colPhotoPending).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		return err
	})
	if err != nil {
		return fmt.Errorf("remove pending photo: %w", err)
	}
	return nil
}

// PendingPhotos lists waiting photos created before a time, oldest first.
func (s *Store) PendingPhotos(ctx context.Context, before time.Time, limit int) ([]domain.PendingPhoto, error) {
	rows, err := findAllLimit[pendingRow](ctx, s, colPhotoPending, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: before}}}},
		bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("pending photos: %w", err)
	}
	out := make([]domain.PendingPhoto, len(rows))
	for i, r := range rows {
		out[i] = domain.PendingPhoto{ID: r.ID, VillageID: r.VillageID, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// photoIndex holds each village's live photos, loaded on first use and
// then kept current by this process's photo writes (one process writes a
// store). A load holds its village's lock, so a write that lands meanwhile
// is applied after it, never lost.
type photoIndex struct {
	mu       sync.Mutex
	villages map[string]*villagePhotos
}

type villagePhotos struct {
	mu     sync.Mutex
	loaded bool
	photos map[string]domain.PhotoBrief
}

func (x *photoIndex) village(id string) *villagePhotos {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.villages == nil {
		x.villages = map[string]*villagePhotos{}
	}
	v, ok := x.villages[id]
	if !ok {
		v = &villagePhotos{}
		x.villages[id] = v
	}
	return v
}

func brief(r domain.Record) domain.PhotoBrief {
	return domain.PhotoBrief{Status: r.Photo.Status, TakenAt: r.Photo.TakenAt, GPS: r.Photo.GPS}
}

// notePhoto applies a photo write to a loaded village index.
func (s *Store) notePhoto(r domain.Record) {
	if r.Type != domain.TypePhoto || r.Photo == nil {
		return
	}
	v := s.photos.village(r.VillageID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		return
	}
	if r.Deleted {
		delete(v.photos, r.ID)
	} else {
		v.photos[r.ID] = brief(r)
	}
}

// VillagePhotos returns those of ids that are live photos of a village.
func (s *Store) VillagePhotos(ctx context.Context, villageID string, ids []string) (map[string]domain.PhotoBrief, error) {
	v := s.photos.village(villageID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		photos := map[string]domain.PhotoBrief{}
		var after *domain.RecordCursor
		for {
			rs, err := s.ListRecords(ctx, domain.RecordFilter{Type: domain.TypePhoto, VillageIDs: []string{villageID}}, after, 1000)
			if err != nil {
				return nil, fmt.Errorf("village photos: %w", err)
			}
			for _, r := range rs {
				photos[r.ID] = brief(r)
			}
			if len(rs) < 1000 {
				break
			}
			last := rs[len(rs)-1]
			after = &domain.RecordCursor{At: last.At, ID: last.ID}
		}
		v.photos, v.loaded = photos, true
	}
	out := make(map[string]domain.PhotoBrief, len(ids))
	for _, id := range ids {
		if b, ok := v.photos[id]; ok {
			out[id] = b
		}
	}
	return out, nil
}
