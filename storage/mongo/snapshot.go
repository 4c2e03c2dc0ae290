package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

var _ domain.LedgerSource = (*Store)(nil)

// ledgerChanged drops the ledger snapshot after a write to what it holds.
func (s *Store) ledgerChanged() { s.ledger.Changed() }

// LedgerSnapshot returns every problem, target, progress entry and on-post
// plan, and each account's villages: the campaign's small sets (bounded by
// its villages and people, not by the field records), kept until a write
// through this store changes one of them (one process writes a database).
func (s *Store) LedgerSnapshot(ctx context.Context) (domain.LedgerSnapshot, error) {
	return s.ledger.Get(ctx, s.loadLedger)
}

func (s *Store) loadLedger(ctx context.Context) (domain.LedgerSnapshot, error) {
	fail := func(err error) (domain.LedgerSnapshot, error) { return domain.LedgerSnapshot{}, err }
	byID := bson.D{{Key: "_id", Value: 1}}
	problems, err := findAll[problemRow](ctx, s, colProblems, bson.D{}, byID)
	if err != nil {
		return fail(err)
	}
	targets, err := findAll[targetRow](ctx, s, colTargets, bson.D{}, byID)
	if err != nil {
		return fail(err)
	}
	progress, err := findAll[progressRow](ctx, s, colProgress, bson.D{}, byID)
	if err != nil {
		return fail(err)
	}
	plans, err := findAll[onpostRow](ctx, s, colPlans, bson.D{}, byID)
	if err != nil {
		return fail(err)
	}
	leaves, err := findAll[leaveRow](ctx, s, colLeaves, bson.D{{Key: "state", Value: domain.LeaveApproved}}, byID)
	if err != nil {
		return fail(err)
	}
	users, err := findAll[userRow](ctx, s, colUsers, bson.D{}, byID)
	if err != nil {
		return fail(err)
	}
	out := domain.LedgerSnapshot{Problems: convAll(problems, toProblem), Targets: convAll(targets, toTarget),
		Progress: convAll(progress, func(r progressRow) domain.Progress { return domain.Progress(r) }),
		Plans: convAll(plans, func(r onpostRow) domain.OnPostPlan {
			return domain.OnPostPlan{CadreID: r.CadreID, Week: r.Week, Days: r.Days, TownIDs: r.TownIDs, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
		}),
		Leaves:        convAll(leaves, toLeave),
		CadreVillages: map[string][]string{}, UserNames: map[string]string{}}
	for _, u := range users {
		out.CadreVillages[u.ID] = u.VillageIDs
		out.UserNames[u.ID] = u.Name
	}
	return out, nil
}
