package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

// The layout of zhucun's earlier embedded default (FerretDB), read once by
// the conversion command: field records in one collection per village
// ("rec_<village>"), new ones in the inboxes ("inbox", "inbox_b") until
// moved, a record possibly in both (the higher version wins). Their
// documents have the fields of recordRow; the other collections are as
// this store keeps them.
var legacyInboxes = []string{"inbox", "inbox_b"}

const legacyRecordPrefix = "rec_"

// LegacyRecords calls fn with every field record of the earlier layout
// (tombstones included), in change order.
func (s *Store) LegacyRecords(ctx context.Context, fn func(domain.Record) error) error {
	var names []string
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		names, err = s.db.ListCollectionNames(ctx, bson.D{})
		return err
	})
	if err != nil {
		return fmt.Errorf("legacy records: %w", err)
	}
	latest := map[string]recordRow{}
	for _, name := range names {
		if !strings.HasPrefix(name, legacyRecordPrefix) && !slices.Contains(legacyInboxes, name) {
			continue
		}
		rows, err := findAll[recordRow](ctx, s, name, bson.D{{Key: "type", Value: bson.D{{Key: "$exists", Value: true}}}}, nil)
		if err != nil {
			return fmt.Errorf("legacy records %s: %w", name, err)
		}
		for _, r := range rows {
			if cur, ok := latest[r.ID]; !ok || r.Version > cur.Version {
				latest[r.ID] = r
			}
		}
	}
	all := make([]recordRow, 0, len(latest))
	for _, r := range latest {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b recordRow) int { return int(a.Seq - b.Seq) })
	for _, r := range all {
		rec, err := s.recordOf(r)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// WeChatBindings lists every openid bound to an account: openid → account.
func (s *Store) WeChatBindings(ctx context.Context) (map[string]string, error) {
	rows, err := findAll[markerRow](ctx, s, colWeChat, bson.D{}, nil)
	if err != nil {
		return nil, fmt.Errorf("wechat bindings: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.UserID
	}
	return out, nil
}
