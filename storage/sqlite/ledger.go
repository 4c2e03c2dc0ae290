package sqlite

import (
	"context"
	"errors"
	"fmt"

	"zhucun/domain"
)

// versioned writes a document that carries a version: an insert for a new
// one, else a replace of the stored version-1 (ErrStale otherwise).
func (s *Store) versioned(ctx context.Context, what string, v any, insert func(tx *wtx, doc string) error,
	table, keyWhere string, keyArgs []any, version int, extra func(tx *wtx) error) error {
	doc, err := encode(v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		if insert != nil {
			if err := insert(tx, doc); err != nil {
				return err
			}
		} else if err := replaceVersioned(tx, table, keyWhere, keyArgs, version, "doc = ?", doc); err != nil {
			return err
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// InsertProblem adds a problem.
func (s *Store) InsertProblem(ctx context.Context, p domain.Problem) error {
	return s.versioned(ctx, "insert problem", p, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT INTO problems (id, village_id, town_id, status, aspect, doc) VALUES (?, ?, ?, ?, ?, ?)",
			p.ID, p.VillageID, p.TownID, p.Status, p.Aspect, doc)
		tx.onCommit(s.ledgerChanged)
		return err
	}, "", "", nil, 0, nil)
}

// UpdateProblem replaces p if its stored version is p.Version-1; ErrStale otherwise.
func (s *Store) UpdateProblem(ctx context.Context, p domain.Problem) error {
	return s.versioned(ctx, "update problem", p, nil, "problems", "id = ?", []any{p.ID}, p.Version, func(tx *wtx) error {
		_, err := tx.exec("UPDATE problems SET status = ?, aspect = ? WHERE id = ?", p.Status, p.Aspect, p.ID)
		tx.onCommit(s.ledgerChanged)
		return err
	})
}

// GetProblem returns a problem.
func (s *Store) GetProblem(ctx context.Context, id string) (domain.Problem, error) {
	return getDoc[domain.Problem](ctx, s, "get problem", "SELECT doc FROM problems WHERE id = ?", id)
}

// ListProblems lists problems in id order.
func (s *Store) ListProblems(ctx context.Context, f domain.ProblemFilter, p domain.Page) (domain.List[domain.Problem], error) {
	w := (&where{}).scope(f.Scope, "village_id", "town_id").eq("village_id", f.VillageID).eq("status", f.Status).eq("aspect", f.Aspect)
	return page(ctx, s, "problems", "id", w, p, func(x domain.Problem) string { return x.ID })
}

// InsertTarget adds a target item.
func (s *Store) InsertTarget(ctx context.Context, t domain.Target) error {
	return s.versioned(ctx, "insert target", t, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT INTO targets (id, village_id, town_id, year, domain, kind, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.VillageID, t.TownID, t.Year, t.Domain, t.Kind, doc)
		tx.onCommit(s.ledgerChanged)
		return err
	}, "", "", nil, 0, nil)
}

// UpdateTarget replaces t if its stored version is t.Version-1; ErrStale otherwise.
func (s *Store) UpdateTarget(ctx context.Context, t domain.Target) error {
	return s.versioned(ctx, "update target", t, nil, "targets", "id = ?", []any{t.ID}, t.Version, func(tx *wtx) error {
		_, err := tx.exec("UPDATE targets SET year = ?, domain = ?, kind = ? WHERE id = ?", t.Year, t.Domain, t.Kind, t.ID)
		tx.onCommit(s.ledgerChanged)
		return err
	})
}

// GetTarget returns a target item.
func (s *Store) GetTarget(ctx context.Context, id string) (domain.Target, error) {
	return getDoc[domain.Target](ctx, s, "get target", "SELECT doc FROM targets WHERE id = ?", id)
}

// ListTargets lists target items in id order.
func (s *Store) ListTargets(ctx context.Context, f domain.TargetFilter, p domain.Page) (domain.List[domain.Target], error) {
	w := (&where{}).scope(f.Scope, "village_id", "town_id").eq("village_id", f.VillageID).eq("year", f.Year).
		eq("domain", f.Domain).eq("kind", f.Kind)
	return page(ctx, s, "targets", "id", w, p, func(x domain.Target) string { return x.ID })
}

// InsertProgress adds a progress report of a target.
func (s *Store) InsertProgress(ctx context.Context, p domain.Progress) error {
	return s.versioned(ctx, "insert progress", p, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT INTO target_progress (id, target_id, date, doc) VALUES (?, ?, ?, ?)", p.ID, p.TargetID, p.Date, doc)
		tx.onCommit(s.ledgerChanged)
		return err
	}, "", "", nil, 0, nil)
}

// ProgressOf returns a target's progress, oldest first.
func (s *Store) ProgressOf(ctx context.Context, targetID string) ([]domain.Progress, error) {
	return allDocs[domain.Progress](ctx, s, "progress of", "SELECT doc FROM target_progress WHERE target_id = ? ORDER BY date, id", targetID)
}

// InsertUnit adds a unit; ErrDuplicate when the name is taken.
func (s *Store) InsertUnit(ctx context.Context, u domain.Unit) error {
	return s.putDoc(ctx, "insert unit", "INSERT INTO units (doc, id, name, type) VALUES (?, ?, ?, ?)", u, u.ID, u.Name, string(u.Type))
}

// UpdateUnit replaces a unit.
func (s *Store) UpdateUnit(ctx context.Context, u domain.Unit) error {
	return s.putDoc(ctx, "update unit", "UPDATE units SET doc = ?, name = ?, type = ? WHERE id = ?", u, u.Name, string(u.Type), u.ID)
}

// GetUnit returns a unit.
func (s *Store) GetUnit(ctx context.Context, id string) (domain.Unit, error) {
	return getDoc[domain.Unit](ctx, s, "get unit", "SELECT doc FROM units WHERE id = ?", id)
}

// ListUnits lists units in id order.
func (s *Store) ListUnits(ctx context.Context, typ domain.UnitType, p domain.Page) (domain.List[domain.Unit], error) {
	return page(ctx, s, "units", "id", (&where{}).eq("type", string(typ)), p, func(u domain.Unit) string { return u.ID })
}

// UnitsByIDs returns the existing units among ids.
func (s *Store) UnitsByIDs(ctx context.Context, ids []string) ([]domain.Unit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	w := (&where{}).in("id", ids)
	return allDocs[domain.Unit](ctx, s, "units by ids", "SELECT doc FROM units"+w.sql(), w.args...)
}

// InsertTeam adds a team; ErrDuplicate if its campaign and village have one.
func (s *Store) InsertTeam(ctx context.Context, t domain.Team) error {
	return s.versioned(ctx, "insert team", t, func(tx *wtx, doc string) error {
		if _, err := tx.exec("INSERT INTO teams (id, campaign_id, village_id, town_id, doc) VALUES (?, ?, ?, ?, ?)",
			t.ID, t.CampaignID, t.VillageID, t.TownID, doc); err != nil {
			return err
		}
		return teamPeople(tx, t)
	}, "", "", nil, 0, nil)
}

// teamPeople writes who is on a team.
func teamPeople(tx *wtx, t domain.Team) error {
	if _, err := tx.exec("DELETE FROM team_people WHERE team_id = ?", t.ID); err != nil {
		return err
	}
	for _, p := range t.People() {
		if _, err := tx.exec("INSERT OR IGNORE INTO team_people (user_id, team_id) VALUES (?, ?)", p, t.ID); err != nil {
			return err
		}
	}
	return nil
}

// UpdateTeam replaces t if its stored version is t.Version-1; ErrStale otherwise.
func (s *Store) UpdateTeam(ctx context.Context, t domain.Team) error {
	return s.versioned(ctx, "update team", t, nil, "teams", "id = ?", []any{t.ID}, t.Version, func(tx *wtx) error {
		return teamPeople(tx, t)
	})
}

// GetTeam returns a team.
func (s *Store) GetTeam(ctx context.Context, id string) (domain.Team, error) {
	return getDoc[domain.Team](ctx, s, "get team", "SELECT doc FROM teams WHERE id = ?", id)
}

// ListTeams lists teams in id order.
func (s *Store) ListTeams(ctx context.Context, f domain.TeamFilter, p domain.Page) (domain.List[domain.Team], error) {
	w := (&where{}).scope(f.Scope, "village_id", "town_id").eq("campaign_id", f.CampaignID).eq("village_id", f.VillageID)
	if f.MemberID != "" {
		w.raw("id IN (SELECT team_id FROM team_people WHERE user_id = ?)", f.MemberID)
	}
	return page(ctx, s, "teams", "id", w, p, func(x domain.Team) string { return x.ID })
}

// TeamsOf returns the teams an account leads, serves on or assists.
func (s *Store) TeamsOf(ctx context.Context, userID string) ([]domain.Team, error) {
	return allDocs[domain.Team](ctx, s, "teams of",
		"SELECT doc FROM teams WHERE id IN (SELECT team_id FROM team_people WHERE user_id = ?) ORDER BY id", userID)
}

// InsertTraining adds a training.
func (s *Store) InsertTraining(ctx context.Context, t domain.Training) error {
	return s.versioned(ctx, "insert training", t, func(tx *wtx, doc string) error {
		if _, err := tx.exec("INSERT INTO trainings (id, doc) VALUES (?, ?)", t.ID, doc); err != nil {
			return err
		}
		for _, p := range t.ParticipantIDs {
			if _, err := tx.exec("INSERT OR IGNORE INTO training_people (user_id, training_id) VALUES (?, ?)", p, t.ID); err != nil {
				return err
			}
		}
		return nil
	}, "", "", nil, 0, nil)
}

// ListTrainings lists trainings, optionally those an account took part in.
func (s *Store) ListTrainings(ctx context.Context, participantID string, p domain.Page) (domain.List[domain.Training], error) {
	w := &where{}
	if participantID != "" {
		w.raw("id IN (SELECT training_id FROM training_people WHERE user_id = ?)", participantID)
	}
	return page(ctx, s, "trainings", "id", w, p, func(x domain.Training) string { return x.ID })
}

// PutPlan creates or replaces a cadre's plan of a week.
func (s *Store) PutPlan(ctx context.Context, p domain.OnPostPlan) error {
	return s.versioned(ctx, "put plan", p, func(tx *wtx, doc string) error {
		_, err := tx.exec("INSERT OR REPLACE INTO onpost_plans (week, cadre_id, doc) VALUES (?, ?, ?)", p.Week, p.CadreID, doc)
		tx.onCommit(s.ledgerChanged)
		return err
	}, "", "", nil, 0, nil)
}

// Plans returns the plans of a week of these cadres.
func (s *Store) Plans(ctx context.Context, week string, cadreIDs []string) ([]domain.OnPostPlan, error) {
	if len(cadreIDs) == 0 {
		return nil, nil
	}
	w := (&where{}).raw("week = ?", week).in("cadre_id", cadreIDs)
	return allDocs[domain.OnPostPlan](ctx, s, "plans", "SELECT doc FROM onpost_plans"+w.sql(), w.args...)
}

// PutAssessment stores a if the stored version is a.Version-1 (none for 1): ErrStale otherwise.
func (s *Store) PutAssessment(ctx context.Context, a domain.Assessment) error {
	var insert func(tx *wtx, doc string) error
	if a.Version == 1 {
		insert = func(tx *wtx, doc string) error {
			_, err := tx.exec("INSERT INTO assessments (village_id, period, doc) VALUES (?, ?, ?)", a.VillageID, a.Period, doc)
			if errors.Is(translate(err), domain.ErrDuplicate) {
				return domain.ErrStale
			}
			return err
		}
	}
	return s.versioned(ctx, "put assessment", a, insert, "assessments", "village_id = ? AND period = ?",
		[]any{a.VillageID, a.Period}, a.Version, nil)
}

// GetAssessment returns a village's assessment of a half-year.
func (s *Store) GetAssessment(ctx context.Context, villageID, period string) (domain.Assessment, error) {
	return getDoc[domain.Assessment](ctx, s, "get assessment", "SELECT doc FROM assessments WHERE village_id = ? AND period = ?", villageID, period)
}

// Assessments lists every assessment.
func (s *Store) Assessments(ctx context.Context) ([]domain.Assessment, error) {
	return allDocs[domain.Assessment](ctx, s, "assessments", "SELECT doc FROM assessments ORDER BY village_id, period")
}

// InsertFieldCheck adds a check, or answers ErrDuplicate with the stored one.
func (s *Store) InsertFieldCheck(ctx context.Context, fc domain.FieldCheck) (domain.FieldCheck, error) {
	err := s.putDoc(ctx, "insert field check", "INSERT INTO field_checks (doc, id, village_id, town_id, quarter) VALUES (?, ?, ?, ?, ?)",
		fc, fc.ID, fc.VillageID, fc.TownID, fc.Quarter)
	if errors.Is(err, domain.ErrDuplicate) {
		stored, gerr := getDoc[domain.FieldCheck](ctx, s, "insert field check", "SELECT doc FROM field_checks WHERE id = ?", fc.ID)
		if gerr != nil {
			return domain.FieldCheck{}, gerr
		}
		return stored, fmt.Errorf("insert field check: %w", domain.ErrDuplicate)
	}
	return fc, err
}

// ListFieldChecks lists field checks in id order.
func (s *Store) ListFieldChecks(ctx context.Context, f domain.FieldCheckFilter, p domain.Page) (domain.List[domain.FieldCheck], error) {
	w := (&where{}).scope(f.Scope, "village_id", "town_id").eq("village_id", f.VillageID).eq("town_id", f.TownID).eq("quarter", f.Quarter)
	return page(ctx, s, "field_checks", "id", w, p, func(x domain.FieldCheck) string { return x.ID })
}

// ledgerChanged drops the ledger snapshot after a write to what it holds.
func (s *Store) ledgerChanged() { s.ledger.Changed() }

// LedgerSnapshot returns every problem, target, progress entry and on-post
// plan, and each account's villages. These are the campaign's small sets
// (bounded by its villages and people, not by the field records); the
// snapshot is kept until a write through this store changes one of them.
func (s *Store) LedgerSnapshot(ctx context.Context) (domain.LedgerSnapshot, error) {
	return s.ledger.Get(ctx, s.loadLedger)
}

func (s *Store) loadLedger(ctx context.Context) (domain.LedgerSnapshot, error) {
	var out domain.LedgerSnapshot
	var err error
	if out.Problems, err = allDocs[domain.Problem](ctx, s, "problems", "SELECT doc FROM problems ORDER BY id"); err != nil {
		return out, err
	}
	if out.Targets, err = allDocs[domain.Target](ctx, s, "targets", "SELECT doc FROM targets ORDER BY id"); err != nil {
		return out, err
	}
	if out.Progress, err = allDocs[domain.Progress](ctx, s, "progress", "SELECT doc FROM target_progress ORDER BY id"); err != nil {
		return out, err
	}
	if out.Plans, err = allDocs[domain.OnPostPlan](ctx, s, "plans", "SELECT doc FROM onpost_plans ORDER BY week, cadre_id"); err != nil {
		return out, err
	}
	if out.Leaves, err = allDocs[domain.Leave](ctx, s, "leaves", "SELECT doc FROM leaves WHERE state = ? ORDER BY id", domain.LeaveApproved); err != nil {
		return out, err
	}
	users, err := allDocs[domain.User](ctx, s, "users", "SELECT doc FROM users ORDER BY id")
	if err != nil {
		return out, err
	}
	out.CadreVillages, out.UserNames = map[string][]string{}, map[string]string{}
	for _, u := range users {
		out.CadreVillages[u.ID] = u.VillageIDs
		out.UserNames[u.ID] = u.Name
	}
	return out, nil
}
