package domain

import (
	"context"
	"fmt"
)

// Ledger is a village's rectification ledger (整顿台账): its selections,
// the state of its problem list and target items, and its teams.
type Ledger struct {
	Village    Village
	Selections []Selection
	Problems   ProblemCounts
	Targets    TargetCounts
	Teams      []Team
}

// ProblemCounts counts a problem list by status.
type ProblemCounts struct {
	Total, Open, InProgress, Resolved int
}

// TargetCounts counts target items by status; Overdue counts those past due and not done today.
type TargetCounts struct {
	Total, NotStarted, InProgress, Done, Overdue int
}

// Ledger returns the ledger of a village in the caller's scope.
func (s LedgerService) Ledger(ctx context.Context, c Caller, villageID string) (Ledger, error) {
	vil, err := s.village(ctx, c, villageID)
	if err != nil {
		return Ledger{}, err
	}
	l := Ledger{Village: vil}
	if l.Selections, err = s.Campaigns.SelectionsOfVillage(ctx, vil.ID); err != nil {
		return Ledger{}, fmt.Errorf("ledger: %w", err)
	}
	one := Scope{IDs: []string{vil.ID}}
	for p := (Page{Limit: MaxPageLimit}); ; {
		page, err := s.Problems.ListProblems(ctx, ProblemFilter{Scope: one, VillageID: vil.ID}, p)
		if err != nil {
			return Ledger{}, fmt.Errorf("ledger: %w", err)
		}
		for _, pr := range page.Items {
			l.Problems.Total++
			switch pr.Status {
			case StatusOpen:
				l.Problems.Open++
			case StatusInProgress:
				l.Problems.InProgress++
			case StatusResolved:
				l.Problems.Resolved++
			}
		}
		if page.Next == "" {
			break
		}
		p.After = page.Next
	}
	today := Today(s.Now(), s.Loc)
	for p := (Page{Limit: MaxPageLimit}); ; {
		page, err := s.Targets.ListTargets(ctx, TargetFilter{Scope: one, VillageID: vil.ID}, p)
		if err != nil {
			return Ledger{}, fmt.Errorf("ledger: %w", err)
		}
		for _, t := range page.Items {
			l.Targets.Total++
			switch t.Status() {
			case TargetNotStarted:
				l.Targets.NotStarted++
			case TargetInProgress:
				l.Targets.InProgress++
			case TargetDone:
				l.Targets.Done++
			}
			if t.Overdue(today) {
				l.Targets.Overdue++
			}
		}
		if page.Next == "" {
			break
		}
		p.After = page.Next
	}
	teams, err := s.Teams.ListTeams(ctx, TeamFilter{Scope: one, VillageID: vil.ID}, Page{Limit: MaxPageLimit})
	if err != nil {
		return Ledger{}, fmt.Errorf("ledger: %w", err)
	}
	l.Teams = teams.Items
	return l, nil
}
