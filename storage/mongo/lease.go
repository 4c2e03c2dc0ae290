package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zhucun/domain"
)

// The writer lease. One process writes a database: it holds the newest
// epoch of "writer_lease", a document inserted under the epoch number as
// its _id, so of two processes taking the same epoch exactly one insert
// succeeds. The holder renews its epoch's expiry every ttl/5; no one else
// may touch it. Another process takes the lease only after the expiry has
// passed, by inserting the next epoch. The holder stops writing at
// (start of its last successful renewal + ttl − margin), before the lease
// can pass, so two writers never overlap while the processes' clocks
// differ by less than the margin (ttl/4; keep clocks in NTP sync).
const colLease = "writer_lease"

// leaseRow is one epoch of the lease.
type leaseRow struct {
	Epoch    int64     `bson:"_id"`
	Holder   string    `bson:"holder"`
	Acquired time.Time `bson:"acquired"`
	Expires  time.Time `bson:"expires"`
}

// LeaseHeldError says another process holds the writer lease.
type LeaseHeldError struct {
	Holder string
	Until  time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("another zhucun (%s) holds the writer lease of this database until %s", e.Holder, e.Until.Format(time.RFC3339))
}

// errLeaseLost answers writes once the lease is lost.
var errLeaseLost = errors.New("this process lost the writer lease")

type lease struct {
	s      *Store
	holder string
	ttl    time.Duration

	mu         sync.Mutex
	epoch      int64
	validUntil time.Time // writes stop here
	gone       bool
}

func (l *lease) margin() time.Duration { return l.ttl / 4 }

// newest reads the newest epoch, if any.
func (l *lease) newest(ctx context.Context) (leaseRow, bool, error) {
	rows, err := findAllLimit[leaseRow](ctx, l.s, colLease, bson.D{}, bson.D{{Key: "_id", Value: -1}}, 1)
	if err != nil || len(rows) == 0 {
		return leaseRow{}, false, err
	}
	return rows[0], true, nil
}

// acquire takes the lease: a *LeaseHeldError while another holder's has
// not expired.
func (l *lease) acquire(ctx context.Context) error {
	cur, ok, err := l.newest(ctx)
	if err != nil {
		return fmt.Errorf("writer lease: %w", err)
	}
	start := time.Now()
	if ok && cur.Expires.After(start) && cur.Holder != l.holder {
		return &LeaseHeldError{Holder: cur.Holder, Until: cur.Expires}
	}
	row := leaseRow{Epoch: cur.Epoch + 1, Holder: l.holder, Acquired: start.UTC(), Expires: start.Add(l.ttl).UTC()}
	err = l.s.call(ctx, func(ctx context.Context) error {
		_, err := l.s.db.Collection(colLease).InsertOne(ctx, row)
		return err
	})
	if errors.Is(err, domain.ErrDuplicate) {
		return &LeaseHeldError{Holder: "a process starting at the same moment", Until: row.Expires}
	}
	if err != nil {
		return fmt.Errorf("writer lease: %w", err)
	}
	l.mu.Lock()
	l.epoch, l.validUntil = row.Epoch, start.Add(l.ttl-l.margin())
	l.mu.Unlock()
	return nil
}

// lose stops this process's writes. What another writer may change
// meanwhile is reloaded before it writes again: the sequence's reservation
// on the next number taken, the counts of every write still pending before
// the applier applies anything new (counts.recover).
func (l *lease) lose() {
	l.mu.Lock()
	l.gone = true
	l.mu.Unlock()
	l.s.counts.pause()
	l.s.seq.mu.Lock()
	l.s.seq.loaded = false
	l.s.seq.mu.Unlock()
}

// regained marks the lease held again.
func (l *lease) regained() {
	l.mu.Lock()
	l.gone = false
	l.mu.Unlock()
}

// check says whether this process may write now.
func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone || !time.Now().Before(l.validUntil) {
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, errLeaseLost)
	}
	return nil
}

// renew extends the lease; it fails when the epoch is no longer ours.
func (l *lease) renew(ctx context.Context) error {
	l.mu.Lock()
	epoch := l.epoch
	l.mu.Unlock()
	start := time.Now()
	matched, err := matchedBy(ctx, l.s.call, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return l.s.db.Collection(colLease).UpdateOne(ctx, bson.D{{Key: "_id", Value: epoch}, {Key: "holder", Value: l.holder}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: start.Add(l.ttl).UTC()}}}})
	})
	if err != nil {
		return err
	}
	if matched == 0 {
		return errLeaseLost
	}
	if cur, ok, err := l.newest(ctx); err != nil {
		return err
	} else if ok && cur.Epoch != epoch {
		return errLeaseLost
	}
	l.mu.Lock()
	if !l.gone {
		l.validUntil = start.Add(l.ttl - l.margin())
	}
	l.mu.Unlock()
	return nil
}

// keep renews the lease until stop. When it cannot renew before the
// lease's validity ends (the database gone, or cut off from it), this
// process stops writing (writes and readiness answer unavailable) and
// tries to take the lease again every second: when the database returns
// and no other process took it, it reloads what another writer may have
// changed and writes again; while another holds it, it stays out.
func (l *lease) keep(stop <-chan struct{}) {
	t := time.NewTicker(l.ttl / 5)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		gone := l.gone
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), max(l.ttl/5, time.Second))
		if gone {
			if err := l.acquire(ctx); err == nil {
				l.regained()
				l.s.dropMemory()
				if err := l.s.counts.recover(ctx); err != nil {
					l.s.log.Error("taking the writer lease back: recovering the counts (retried)", "err", err)
					l.lose()
				} else {
					l.s.log.Info("took the writer lease back: writing again")
				}
			}
			cancel()
			continue
		}
		err := l.renew(ctx)
		cancel()
		if err == nil {
			continue
		}
		l.s.log.Warn("renewing the writer lease", "err", err)
		if errors.Is(err, errLeaseLost) || l.check() != nil {
			l.lose()
			l.s.log.Error("lost the writer lease: no writes until it is taken back", "err", err)
		}
	}
}

// release ends the lease at once on a clean stop, so a standby takes over
// without waiting for it to expire.
func (l *lease) release(ctx context.Context) {
	l.mu.Lock()
	epoch, gone := l.epoch, l.gone
	l.gone = true
	l.mu.Unlock()
	if gone {
		return
	}
	_ = l.s.call(ctx, func(ctx context.Context) error {
		_, err := l.s.db.Collection(colLease).UpdateOne(ctx, bson.D{{Key: "_id", Value: epoch}, {Key: "holder", Value: l.holder}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: time.Now().UTC()}}}})
		return err
	})
}
