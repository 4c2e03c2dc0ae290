package mongo

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// cacheTTL bounds how stale a cached registry may be when another process
// writes the same database; writes through this store refresh at once.
const cacheTTL = 10 * time.Second

// snapshot caches a small, rarely written collection (villages, accounts,
// teams) whole in memory: on the embedded store every filtered query
// decodes its whole collection, and these are read on every request.
type snapshot[R any] struct {
	col    string
	mu     sync.Mutex
	rows   []R
	loaded time.Time
}

// get returns the cached rows, reloading them when stale.
func (c *snapshot[R]) get(ctx context.Context, s *Store) ([]R, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows != nil && time.Since(c.loaded) < cacheTTL {
		return c.rows, nil
	}
	rows, err := findAll[R](ctx, s, c.col, bson.D{}, nil)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []R{}
	}
	c.rows, c.loaded = rows, time.Now()
	return rows, nil
}

// find returns the cached row with this id. A miss reloads the rows once
// (at most once a second), for rows another process has just written.
func (c *snapshot[R]) find(ctx context.Context, s *Store, id string, idOf func(R) string) (R, bool, error) {
	for try := 0; try < 2; try++ {
		rows, err := c.get(ctx, s)
		var zero R
		if err != nil {
			return zero, false, err
		}
		for _, r := range rows {
			if idOf(r) == id {
				return r, true, nil
			}
		}
		c.mu.Lock()
		fresh := time.Since(c.loaded) < time.Second
		if !fresh {
			c.rows = nil
		}
		c.mu.Unlock()
		if fresh {
			break
		}
	}
	var zero R
	return zero, false, nil
}

// invalidate drops the cache after a write.
func (c *snapshot[R]) invalidate() {
	c.mu.Lock()
	c.rows = nil
	c.mu.Unlock()
}

// caches are the store's snapshots.
type caches struct {
	villages snapshot[villageRow]
	users    snapshot[userRow]
	teams    snapshot[teamRow]
	// For the counts of the ledger (stats_ledger.go).
	problems snapshot[problemRow]
	targets  snapshot[targetRow]
	progress snapshot[progressRow]
	plans    snapshot[planRow]
	// Assessments (assessments.go).
	assessments snapshot[assessmentRow]
}

func newCaches() *caches {
	return &caches{
		villages:    snapshot[villageRow]{col: colVillages},
		users:       snapshot[userRow]{col: colUsers},
		teams:       snapshot[teamRow]{col: colTeams},
		problems:    snapshot[problemRow]{col: colProblems},
		targets:     snapshot[targetRow]{col: colTargets},
		progress:    snapshot[progressRow]{col: colProgress},
		plans:       snapshot[planRow]{col: colPlans},
		assessments: snapshot[assessmentRow]{col: colAssessments},
	}
}
