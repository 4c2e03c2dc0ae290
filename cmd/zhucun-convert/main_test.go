package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	gomongo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
	"zhucun/storage/embedded"
	"zhucun/storage/mongo"
	"zhucun/storage/sqlite"
)

// legacyReport is a report document as the FerretDB default stored it.
func legacyReport(id, village, town string, version int, seq int64, count int, deleted bool) bson.D {
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	return bson.D{{Key: "_id", Value: id}, {Key: "type", Value: "report"}, {Key: "villageId", Value: village}, {Key: "townId", Value: town},
		{Key: "createdBy", Value: "u1"}, {Key: "createdAt", Value: at}, {Key: "updatedAt", Value: at}, {Key: "version", Value: version},
		{Key: "seq", Value: seq}, {Key: "deleted", Value: deleted}, {Key: "hash", Value: "h"}, {Key: "createHash", Value: "h"},
		{Key: "at", Value: at}, {Key: "kind", Value: "visit"},
		{Key: "report", Value: bson.D{{Key: "kind", Value: "visit"}, {Key: "occurredAt", Value: at}, {Key: "visitee", Value: "household"}, {Key: "count", Value: count}}}}
}

// TestConvert makes a data directory in the earlier layout (entities as
// the MongoDB store keeps them, records in a village collection and an
// inbox, one of them in both), converts it, and finds everything in the
// SQLite store with counts equal to a recount; a second run refuses.
func TestConvert(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := mongo.Open(ctx, srv.URI(), "zhucun", mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	town := domain.Town{ID: domain.NewID(now), Name: "三河湖镇", CreatedAt: now, UpdatedAt: now}
	vil := domain.Village{ID: domain.NewID(now), Name: "侯家园子村", TownID: town.ID, Kind: domain.KindVillage, CreatedAt: now, UpdatedAt: now}
	user := domain.User{ID: domain.NewID(now), Name: "刘强", Phone: "13800000001", Role: domain.RoleCadre, VillageIDs: []string{vil.ID},
		TownIDs: []string{town.ID}, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{st.InsertTown(ctx, town), st.InsertVillage(ctx, vil), st.InsertUser(ctx, user),
		st.BindWeChat(ctx, "openid-1", user.ID, now),
		st.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(now), At: now, UserID: user.ID, Entity: "report", EntityID: "r1", Action: "create"})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close(ctx)
	c, err := gomongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	db := c.Database("zhucun")
	ids := []string{domain.NewID(now), domain.NewID(now), domain.NewID(now), domain.NewID(now), domain.NewID(now)}
	checkin := legacyReport(ids[4], vil.ID, town.ID, 1, 8, 0, false)
	checkin[len(checkin)-2] = bson.E{Key: "kind", Value: "checkin"}
	checkin[len(checkin)-1] = bson.E{Key: "report", Value: bson.D{{Key: "kind", Value: "checkin"}, {Key: "occurredAt", Value: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)},
		{Key: "location", Value: bson.D{{Key: "lat", Value: 37.4}, {Key: "lng", Value: 118.0}}}}}
	docs := map[string][]any{
		"rec_" + vil.ID: {legacyReport(ids[0], vil.ID, town.ID, 1, 1, 3, false), legacyReport(ids[1], vil.ID, town.ID, 2, 5, 4, false),
			legacyReport(ids[3], vil.ID, town.ID, 2, 6, 9, true), checkin},
		"inbox": {legacyReport(ids[1], vil.ID, town.ID, 1, 2, 1, false), legacyReport(ids[2], vil.ID, town.ID, 1, 7, 2, false)},
	}
	for col, ds := range docs {
		if _, err := db.Collection(col).InsertMany(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Disconnect(ctx)
	_ = srv.Stop(10 * time.Second)

	var out strings.Builder
	getenv := func(string) string { return "" }
	if err := run(ctx, []string{"-data-dir", dir}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("convert: %v", err)
	}
	if !strings.Contains(out.String(), "5 records") || !strings.Contains(out.String(), "every count equals") {
		t.Fatalf("convert said %q", out.String())
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, "sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if got, err := s.GetVillage(ctx, vil.ID, domain.Scope{All: true}); err != nil || got.Name != vil.Name {
		t.Fatalf("village: %+v %v", got, err)
	}
	if u, err := s.UserByPhone(ctx, user.Phone); err != nil || u.ID != user.ID {
		t.Fatalf("account: %+v %v", u, err)
	}
	if id, err := s.WeChatUser(ctx, "openid-1"); err != nil || id != user.ID {
		t.Fatalf("wechat binding: %q %v", id, err)
	}
	if r, err := s.GetRecord(ctx, ids[1]); err != nil || r.Version != 2 || r.Report.Count != 4 {
		t.Fatalf("the record in both places: %+v %v", r, err)
	}
	if r, err := s.GetRecord(ctx, ids[3]); err != nil || !r.Deleted {
		t.Fatalf("the tombstone: %+v %v", r, err)
	}
	mar, _ := domain.ParsePeriod("202603")
	if cnt, err := s.PeriodCounts(ctx, domain.StatsTown(town.ID), mar); err != nil || cnt[domain.MHouseholdsVisited] != 3+4+2 ||
		cnt[domain.MCheckins] != 1 || cnt[domain.MOnPostDays] != 1 {
		t.Fatalf("households: %v %v", cnt, err)
	}
	if l, err := s.ListAudit(ctx, domain.AuditFilter{EntityID: "r1"}, domain.Page{}); err != nil || len(l.Items) != 1 {
		t.Fatalf("audit: %+v %v", l, err)
	}
	_ = s.Close(ctx)
	if err := run(ctx, []string{"-data-dir", dir}, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "converted") {
		t.Fatalf("a second run: %v", err)
	}
}
