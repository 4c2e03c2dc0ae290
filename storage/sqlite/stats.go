package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"zhucun/domain"
)

// The counts: one row of the counts table per scope and day, one column
// per event metric, changed in the transaction of the write whose delta it
// is; so a crash leaves exactly the counts of the writes SQLite committed.
// A period's counts are the sum of its days' rows, read by the primary key:
// at most a row per day of the period, whatever the records number.

// bump adds n to an event's metric on its day in the village, its town and
// the district, on the event's basis.
func bump(tx *wtx, village, town string, e domain.StatEvent, n int64) error {
	if e.Metric < 0 || e.Metric >= len(schemaMetrics) {
		return fmt.Errorf("count: metric %d has no column", e.Metric)
	}
	col := schemaMetrics[e.Metric] // our own column name, never input
	sc := domain.EventScopes(e, village, town)
	_, err := tx.exec("INSERT INTO counts (scope, day, "+col+") VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?) "+
		"ON CONFLICT (scope, day) DO UPDATE SET "+col+" = "+col+" + excluded."+col,
		sc[0], e.Day, n, sc[1], e.Day, n, sc[2], e.Day, n)
	return err
}

// applyDelta adds a write's delta to the counts. An event of a
// day-counting metric changes its key's events of that village and day
// (checkin_days); the day counts once, so it adds to the metric only when
// they go from none to some (or back).
func applyDelta(tx *wtx, village, town string, delta []domain.StatEvent) error {
	for _, e := range delta {
		if e.Cadre == "" {
			if err := bump(tx, village, town, e, e.N); err != nil {
				return err
			}
			continue
		}
		var now int64
		if err := tx.queryRow(`INSERT INTO checkin_days (village_id, day, cadre_id, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (village_id, day, cadre_id) DO UPDATE SET n = n + excluded.n RETURNING n`,
			village, e.Day, e.Cadre, e.N).Scan(&now); err != nil {
			return err
		}
		before := now - e.N
		var d int64
		switch {
		case before <= 0 && now > 0:
			d = 1
		case before > 0 && now <= 0:
			d = -1
		}
		if now <= 0 {
			if _, err := tx.exec("DELETE FROM checkin_days WHERE village_id = ? AND day = ? AND cadre_id = ?", village, e.Day, e.Cadre); err != nil {
				return err
			}
		}
		if d != 0 {
			if err := bump(tx, village, town, e, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// sumColumns is the SELECT list summing every metric.
func sumColumns() string {
	parts := make([]string, len(schemaMetrics))
	for i, m := range schemaMetrics {
		parts[i] = "coalesce(sum(" + m + "), 0)"
	}
	return strings.Join(parts, ", ")
}

func (s *Store) sumCounts(ctx context.Context, what, cond string, args ...any) (domain.Counts, error) {
	var c domain.Counts
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		dst := make([]any, len(c))
		for i := range c {
			dst[i] = &c[i]
		}
		return db.QueryRowContext(ctx, "SELECT "+sumColumns()+" FROM counts WHERE "+cond, args...).Scan(dst...)
	})
	if err != nil {
		return domain.Counts{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// PeriodCounts returns a scope's event counts of a period.
func (s *Store) PeriodCounts(ctx context.Context, scope string, p domain.Period) (domain.Counts, error) {
	return s.sumCounts(ctx, "period counts", "scope = ? AND day >= ? AND day <= ?", scope, p.From, p.To)
}

// CumulativeCounts returns a scope's event counts of every day up to to.
func (s *Store) CumulativeCounts(ctx context.Context, scope, to string) (domain.Counts, error) {
	return s.sumCounts(ctx, "cumulative counts", "scope = ? AND day <= ?", scope, to)
}

// PeriodCountsOf returns the event counts of several scopes for a period.
func (s *Store) PeriodCountsOf(ctx context.Context, scopes []string, p domain.Period) (map[string]domain.Counts, error) {
	return s.sumCountsOf(ctx, "period counts", scopes, (&where{}).in("scope", scopes).raw("day >= ? AND day <= ?", p.From, p.To))
}

// CumulativeCountsOf returns the event counts of several scopes up to to.
func (s *Store) CumulativeCountsOf(ctx context.Context, scopes []string, to string) (map[string]domain.Counts, error) {
	return s.sumCountsOf(ctx, "cumulative counts", scopes, (&where{}).in("scope", scopes).raw("day <= ?", to))
}

// sumCountsOf sums the counts of the rows w selects, by scope, in one query.
func (s *Store) sumCountsOf(ctx context.Context, what string, scopes []string, w *where) (map[string]domain.Counts, error) {
	out := make(map[string]domain.Counts, len(scopes))
	if len(scopes) == 0 {
		return out, nil
	}
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, "SELECT scope, "+sumColumns()+" FROM counts"+w.sql()+" GROUP BY scope", w.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var scope string
			var c domain.Counts
			dst := make([]any, 1+len(c))
			dst[0] = &scope
			for i := range c {
				dst[i+1] = &c[i]
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			out[scope] = c
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// CountedDays lists the days from–to on which a day-counting key counted
// in any of the villages.
func (s *Store) CountedDays(ctx context.Context, villageIDs []string, key, from, to string) ([]string, error) {
	out := []string{}
	if len(villageIDs) == 0 {
		return out, nil
	}
	w := (&where{}).in("village_id", villageIDs).raw("cadre_id = ?", key).raw("day >= ? AND day <= ?", from, to).raw("n > 0")
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, "SELECT DISTINCT day FROM checkin_days"+w.sql()+" ORDER BY day", w.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("counted days: %w", err)
	}
	return out, nil
}

// storedCounts reads every count row.
func storedCounts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]domain.DayCounts, error) {
	rows, err := q.QueryContext(ctx, "SELECT scope, day, "+strings.Join(schemaMetrics, ", ")+" FROM counts")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]domain.DayCounts{}
	for rows.Next() {
		var scope, day string
		c := &domain.Counts{}
		dst := []any{&scope, &day}
		for i := range c {
			dst = append(dst, &c[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if *c == (domain.Counts{}) {
			continue // a row whose deltas cancelled out
		}
		if out[scope] == nil {
			out[scope] = domain.DayCounts{}
		}
		out[scope][day] = c
	}
	return out, rows.Err()
}

// tally recounts every record.
func (s *Store) tally(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, loc *time.Location) (*domain.Tally, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+recordCols+" FROM records WHERE deleted = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := domain.NewTally(loc)
	for rows.Next() {
		r, err := s.scanRecord(rows)
		if err != nil {
			return nil, err
		}
		t.Add(r)
	}
	return t, rows.Err()
}

// VerifyStats recounts from the records and lists every difference; the
// recount and the counts are read in one snapshot.
func (s *Store) VerifyStats(ctx context.Context) ([]domain.StatDiff, error) {
	var diffs []domain.StatDiff
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("verify stats: %w", translate(err))
	}
	defer func() { _ = tx.Rollback() }()
	t, err := s.tally(ctx, tx, s.loc)
	if err != nil {
		return nil, fmt.Errorf("verify stats: %w", translate(err))
	}
	have, err := storedCounts(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("verify stats: %w", translate(err))
	}
	diffs = domain.DiffCounts(have, t.Scopes)
	return diffs, nil
}

// RebuildStats replaces the counts with a recount, in one write: no write
// can come between the recount and the replacement.
func (s *Store) RebuildStats(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	err := s.w.do(ctx, func(tx *wtx) error {
		t, err := s.tally(tx.ctx, tx, s.loc)
		if err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM counts", "DELETE FROM checkin_days"} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		cols := strings.Join(schemaMetrics, ", ")
		ins := "INSERT INTO counts (scope, day, " + cols + ") VALUES (?, ?" + strings.Repeat(", ?", len(schemaMetrics)) + ")"
		for scope, days := range t.Scopes {
			for day, c := range days {
				args := []any{scope, day}
				for _, n := range c {
					args = append(args, n)
				}
				if _, err := tx.exec(ins, args...); err != nil {
					return err
				}
			}
		}
		for k, n := range t.Checkins() {
			if _, err := tx.exec("INSERT INTO checkin_days (village_id, day, cadre_id, n) VALUES (?, ?, ?, ?)", k[0], k[1], k[2], n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild stats: %w", translate(err))
	}
	return nil
}
