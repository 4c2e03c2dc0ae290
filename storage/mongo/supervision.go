package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var (
	_ domain.ApprovalStore = (*Store)(nil)
	_ domain.LeaveStore    = (*Store)(nil)
	_ domain.FeedbackStore = (*Store)(nil)
)

const (
	colApprovals = "approvals"
	colLeaves    = "leaves"
)

// approvalRow is one approval: the fields filters use, and the rest as the
// domain's struct.
type approvalRow struct {
	ID      string          `bson:"_id"` // level:scope:period
	Level   string          `bson:"level"`
	ScopeID string          `bson:"scopeId"`
	TownID  string          `bson:"townId"`
	Period  string          `bson:"period"`
	State   string          `bson:"state"`
	Version int             `bson:"version"`
	Doc     domain.Approval `bson:"doc"`
}

func (r approvalRow) id() string { return r.ID }

func toApproval(r approvalRow) domain.Approval {
	a := r.Doc
	a.UpdatedAt = a.UpdatedAt.UTC()
	if a.LockedAt != nil {
		t := a.LockedAt.UTC()
		a.LockedAt = &t
	}
	for i := range a.History {
		a.History[i].At = a.History[i].At.UTC()
	}
	return a
}

// putVersioned inserts a row (version 1) or replaces the stored version-1
// (replaceVersion); ErrStale when another version is stored.
func (s *Store) putVersioned(ctx context.Context, col, id string, version int, row any) error {
	if version == 1 {
		err := insert(ctx, s, col, row)
		if errors.Is(translate(err), domain.ErrDuplicate) {
			return domain.ErrStale
		}
		return err
	}
	return replaceVersion(ctx, s, col, id, version, row)
}

// PutApproval stores a if the stored version is a.Version-1 (none for 1).
func (s *Store) PutApproval(ctx context.Context, a domain.Approval) error {
	row := approvalRow{ID: a.Key(), Level: a.Level, ScopeID: a.ScopeID, TownID: a.TownID, Period: a.Period, State: a.State, Version: a.Version, Doc: a}
	if err := s.putVersioned(ctx, colApprovals, row.ID, a.Version, row); err != nil {
		return fmt.Errorf("put approval: %w", err)
	}
	return nil
}

// GetApproval returns one period's approval.
func (s *Store) GetApproval(ctx context.Context, level, scopeID, period string) (domain.Approval, error) {
	row, err := findOne[approvalRow](ctx, s, colApprovals, bson.D{{Key: "_id", Value: domain.ApprovalKey(level, scopeID, period)}})
	if err != nil {
		return domain.Approval{}, fmt.Errorf("get approval: %w", translate(err))
	}
	return toApproval(row), nil
}

// ListApprovals lists approvals in key order.
func (s *Store) ListApprovals(ctx context.Context, f domain.ApprovalFilter, p domain.Page) (domain.List[domain.Approval], error) {
	filter := bson.D{}
	for k, v := range map[string]string{"level": f.Level, "scopeId": f.ScopeID, "period": f.Period, "state": f.State} {
		if v != "" {
			filter = append(filter, bson.E{Key: k, Value: v})
		}
	}
	if f.TownIDs != nil {
		filter = append(filter, bson.E{Key: "townId", Value: bson.D{{Key: "$in", Value: f.TownIDs}}})
	}
	return findPage(ctx, s, colApprovals, filter, p, toApproval)
}

// LockedApprovals lists every approved period.
func (s *Store) LockedApprovals(ctx context.Context) ([]domain.Approval, error) {
	rows, err := findAll[approvalRow](ctx, s, colApprovals, bson.D{{Key: "state", Value: domain.ApprovalApproved}}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, fmt.Errorf("locked approvals: %w", translate(err))
	}
	return convAll(rows, toApproval), nil
}

// leaveRow is one leave request.
type leaveRow struct {
	ID         string       `bson:"_id"`
	CadreID    string       `bson:"cadreId"`
	State      string       `bson:"state"`
	From       string       `bson:"from"`
	To         string       `bson:"to"`
	TownIDs    []string     `bson:"townIds"`
	VillageIDs []string     `bson:"villageIds"`
	Version    int          `bson:"version"`
	Doc        domain.Leave `bson:"doc"`
}

func (r leaveRow) id() string { return r.ID }

func toLeaveRow(l domain.Leave) leaveRow {
	return leaveRow{ID: l.ID, CadreID: l.CadreID, State: l.State, From: l.From, To: l.To, TownIDs: l.TownIDs,
		VillageIDs: l.VillageIDs, Version: l.Version, Doc: l}
}

func toLeave(r leaveRow) domain.Leave {
	l := r.Doc
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	if l.DecidedAt != nil {
		t := l.DecidedAt.UTC()
		l.DecidedAt = &t
	}
	return l
}

// CreateLeave stores a new request; ErrDuplicate with the stored one when the id exists.
func (s *Store) CreateLeave(ctx context.Context, l domain.Leave) (domain.Leave, error) {
	defer s.ledgerChanged()
	err := insert(ctx, s, colLeaves, toLeaveRow(l))
	if errors.Is(translate(err), domain.ErrDuplicate) {
		stored, gerr := s.GetLeave(ctx, l.ID)
		if gerr != nil {
			return domain.Leave{}, gerr
		}
		return stored, fmt.Errorf("create leave: %w", domain.ErrDuplicate)
	} else if err != nil {
		return domain.Leave{}, fmt.Errorf("create leave: %w", translate(err))
	}
	return l, nil
}

// ReplaceLeave stores l if the stored version is l.Version-1.
func (s *Store) ReplaceLeave(ctx context.Context, l domain.Leave) error {
	defer s.ledgerChanged()
	if err := s.putVersioned(ctx, colLeaves, l.ID, l.Version, toLeaveRow(l)); err != nil {
		return fmt.Errorf("replace leave: %w", err)
	}
	return nil
}

// GetLeave returns a request.
func (s *Store) GetLeave(ctx context.Context, id string) (domain.Leave, error) {
	row, err := findOne[leaveRow](ctx, s, colLeaves, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.Leave{}, fmt.Errorf("get leave: %w", translate(err))
	}
	return toLeave(row), nil
}

// ListLeaves lists requests newest first (by id), after the page's cursor.
func (s *Store) ListLeaves(ctx context.Context, f domain.LeaveFilter, p domain.Page) (domain.List[domain.Leave], error) {
	filter := bson.D{}
	for k, v := range map[string]string{"cadreId": f.CadreID, "state": f.State} {
		if v != "" {
			filter = append(filter, bson.E{Key: k, Value: v})
		}
	}
	if f.TownIDs != nil {
		filter = append(filter, bson.E{Key: "townIds", Value: bson.D{{Key: "$in", Value: f.TownIDs}}})
	}
	if f.VillageIDs != nil {
		filter = append(filter, bson.E{Key: "villageIds", Value: bson.D{{Key: "$in", Value: f.VillageIDs}}})
	}
	if f.From != "" {
		filter = append(filter, bson.E{Key: "to", Value: bson.D{{Key: "$gte", Value: f.From}}})
	}
	if f.To != "" {
		filter = append(filter, bson.E{Key: "from", Value: bson.D{{Key: "$lte", Value: f.To}}})
	}
	return findPageDesc(ctx, s, colLeaves, filter, p, toLeave)
}

// ApprovedLeaves lists the approved requests overlapping from–to.
func (s *Store) ApprovedLeaves(ctx context.Context, from, to string) ([]domain.Leave, error) {
	rows, err := findAll[leaveRow](ctx, s, colLeaves, bson.D{{Key: "state", Value: domain.LeaveApproved},
		{Key: "to", Value: bson.D{{Key: "$gte", Value: from}}}, {Key: "from", Value: bson.D{{Key: "$lte", Value: to}}}}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return nil, fmt.Errorf("approved leaves: %w", translate(err))
	}
	return convAll(rows, toLeave), nil
}

// CountedDays lists the days from–to on which a day-counting key counted
// in any of the villages: read from the villages' month documents.
func (s *Store) CountedDays(ctx context.Context, villageIDs []string, key, from, to string) ([]string, error) {
	out := []string{}
	if len(villageIDs) == 0 {
		return out, nil
	}
	scopes := make([]string, len(villageIDs))
	for i, v := range villageIDs {
		scopes[i] = domain.StatsVillage(v)
	}
	rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{{Key: "scope", Value: bson.D{{Key: "$in", Value: scopes}}},
		{Key: "month", Value: bson.D{{Key: "$gte", Value: from[:7]}, {Key: "$lte", Value: to[:7]}}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("counted days: %w", translate(err))
	}
	for _, d := range rows {
		for k, n := range d.Ck {
			day, ok := strings.CutPrefix(k, key+"_d")
			if !ok || n <= 0 || len(day) != 2 {
				continue
			}
			if date := d.Month + "-" + day; date >= from && date <= to {
				out = append(out, date)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// schemaRow records which upgrades of the stored data are done.
type schemaRow struct {
	ID string `bson:"_id"` // "schema"
	V  int    `bson:"v"`
}

// dataVersion is the version of the stored data this code writes: 2 adds
// on-post days from the work (every checkin so far is one), the approved
// basis of the counts, and the audit chain (the entries so far at its start).
const dataVersion = 2

// upgrade brings data written by an earlier zhucun up to dataVersion:
// for 2, it marks the checkins on post and recounts. Run by the writer.
func (s *Store) upgrade(ctx context.Context) error {
	row, err := findOne[schemaRow](ctx, s, colMeta, bson.D{{Key: "_id", Value: "schema"}})
	if err != nil && !errors.Is(translate(err), domain.ErrNotFound) {
		return fmt.Errorf("read data version: %w", translate(err))
	}
	if row.V >= dataVersion {
		return nil
	}
	err = s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colRecords).UpdateMany(ctx, bson.D{{Key: "type", Value: string(domain.TypeReport)},
			{Key: "kind", Value: domain.KindCheckin}, {Key: "deleted", Value: false}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "onPost", Value: true}}}})
		return err
	})
	if err != nil {
		return fmt.Errorf("upgrade checkins: %w", err)
	}
	if err := s.RebuildStats(ctx); err != nil {
		return fmt.Errorf("upgrade counts: %w", err)
	}
	if err := s.sealLegacy(ctx); err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colMeta).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "schema"}},
			schemaRow{ID: "schema", V: dataVersion}, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("write data version: %w", err)
	}
	return nil
}
