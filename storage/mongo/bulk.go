package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// BulkLoadRecords inserts many new records of one village at once, with
// sequence numbers, directory entries and indexes: for generating data
// sets and restoring exports, not for the API (it skips duplicate checks
// beyond the unique ids).
func (s *Store) BulkLoadRecords(ctx context.Context, villageID string, rs []domain.Record) error {
	if len(rs) == 0 {
		return nil
	}
	return s.sequencedN(ctx, int64(len(rs)), func(first int64) error {
		rows := make([]any, len(rs))
		dirs := map[string][]any{}
		for i := range rs {
			s.ids.add(rs[i].ID)
			rs[i].Seq = first + int64(i)
			rows[i] = toRecordRow(rs[i])
			col := dirCollection(rs[i].ID)
			dirs[col] = append(dirs[col], dirRow{ID: rs[i].ID, VillageID: villageID, Type: string(rs[i].Type)})
		}
		for col, ds := range dirs {
			if err := s.call(ctx, func(ctx context.Context) error {
				_, err := s.db.Collection(col).InsertMany(ctx, ds, options.InsertMany().SetOrdered(false))
				return err
			}); err != nil {
				return fmt.Errorf("bulk load directory: %w", err)
			}
		}
		if err := s.ensureRecordIndexes(ctx, villageID); err != nil {
			return err
		}
		if err := s.call(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(recordCollection(villageID)).InsertMany(ctx, rows, options.InsertMany().SetOrdered(false))
			return err
		}); err != nil {
			return fmt.Errorf("bulk load records: %w", err)
		}
		all := make([]recordRow, len(rs))
		for i := range rs {
			all[i] = toRecordRow(rs[i])
		}
		return s.updateHead(ctx, villageID, all)
	})
}
