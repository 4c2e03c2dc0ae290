package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

var (
	_ domain.PendingPhotoStore = (*Store)(nil)
	_ domain.PhotoIndex        = (*Store)(nil)
)

// Photos are records of type "photo" (records.go). Besides them,
// "photo_pending" lists the photos waiting for their bytes (small: each
// leaves on completion or after a day).
const colPhotoPending = "photo_pending"

type geoRow struct {
	Lat float64 `bson:"lat"`
	Lng float64 `bson:"lng"`
}

type pendingPhotoRow struct {
	ID        string    `bson:"_id"`
	VillageID string    `bson:"villageId"`
	CreatedAt time.Time `bson:"createdAt"`
}

// AddPendingPhoto lists a photo as waiting; listing it again is no error.
func (s *Store) AddPendingPhoto(ctx context.Context, p domain.PendingPhoto) error {
	err := insert(ctx, s, colPhotoPending, pendingPhotoRow{ID: p.ID, VillageID: p.VillageID, CreatedAt: p.CreatedAt})
	if err != nil && !errors.Is(err, domain.ErrDuplicate) {
		return fmt.Errorf("add pending photo: %w", err)
	}
	return nil
}

// RemovePendingPhoto takes a photo off the waiting list.
func (s *Store) RemovePendingPhoto(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context) error {
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
	rows, err := findAllLimit[pendingPhotoRow](ctx, s, colPhotoPending, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: before}}}},
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

// VillagePhotos returns those of ids that are live photos of a village.
func (s *Store) VillagePhotos(ctx context.Context, villageID string, ids []string) (map[string]domain.PhotoBrief, error) {
	out := map[string]domain.PhotoBrief{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := findAll[recordRow](ctx, s, colRecords, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: "villageId", Value: villageID}, {Key: "type", Value: string(domain.TypePhoto)}, {Key: "deleted", Value: false}}, nil)
	if err != nil {
		return nil, fmt.Errorf("village photos: %w", err)
	}
	for _, row := range rows {
		if r := toRecord(row); r.Photo != nil { // photos hold no personal fields
			out[r.ID] = domain.PhotoBrief{Status: r.Photo.Status, TakenAt: r.Photo.TakenAt, GPS: r.Photo.GPS}
		}
	}
	return out, nil
}
