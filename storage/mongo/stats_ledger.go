package mongo

import (
	"context"
	"fmt"

	"zhucun/domain"
)

var _ domain.LedgerSource = (*Store)(nil)

// LedgerSnapshot returns every problem, target, progress entry and on-post
// plan, and each account's villages, from memory: small collections cached
// whole and refreshed on every write through this store.
func (s *Store) LedgerSnapshot(ctx context.Context) (domain.LedgerSnapshot, error) {
	var out domain.LedgerSnapshot
	problems, err := s.cache.problems.get(ctx, s)
	if err != nil {
		return out, fmt.Errorf("ledger snapshot: %w", err)
	}
	targets, err := s.cache.targets.get(ctx, s)
	if err != nil {
		return out, fmt.Errorf("ledger snapshot: %w", err)
	}
	progress, err := s.cache.progress.get(ctx, s)
	if err != nil {
		return out, fmt.Errorf("ledger snapshot: %w", err)
	}
	plans, err := s.cache.plans.get(ctx, s)
	if err != nil {
		return out, fmt.Errorf("ledger snapshot: %w", err)
	}
	users, err := s.cache.users.get(ctx, s)
	if err != nil {
		return out, fmt.Errorf("ledger snapshot: %w", err)
	}
	out.Problems = convAll(problems, toProblem)
	out.Targets = convAll(targets, toTarget)
	out.Progress = convAll(progress, func(r progressRow) domain.Progress { return domain.Progress(r) })
	out.Plans = convAll(plans, func(r planRow) domain.OnPostPlan {
		return domain.OnPostPlan{CadreID: r.CadreID, Week: r.Week, Days: r.Days, TownIDs: r.TownIDs}
	})
	out.CadreVillages, out.UserNames = map[string][]string{}, map[string]string{}
	for _, u := range users {
		out.CadreVillages[u.ID] = u.VillageIDs
		out.UserNames[u.ID] = u.Name
	}
	return out, nil
}
