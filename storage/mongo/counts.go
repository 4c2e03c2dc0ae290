package mongo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

// The counts. A record write stores its count delta and audit entry with
// the record ("pending"); the applier, one goroutine of the writer, takes
// the writes up to the committed number in number order, in batches:
//
//  1. it reads the count documents the batch touches — one per scope
//     ("d", "t:<town>", "v:<village>") and month, holding the month's
//     totals, its days, a village's cadres' checkins per day, and "w", the
//     number of the last write applied to it;
//  2. it resolves the batch into one $inc per document (a cadre's first
//     checkin of a day in a village adds a checkin day to the village, its
//     town and the district) and writes that plan as one document of
//     "count_batches" (the write-ahead log);
//  3. it applies each document's $inc where "w" is still the value read,
//     setting "w" to the batch's last number, so a replay of the plan after
//     a crash skips the documents done;
//  4. it inserts the audit entries (a duplicate is one inserted before),
//     clears the records' pending parts and deletes the plan.
//
// On start the writer replays the plans left, then applies the records
// still pending, in number order. A summary reads at most one document per
// month of its period, whatever the number of records.
const (
	colCounts   = "counts"
	colCountLog = "count_batches"
)

// countDoc is a scope's counts of one month.
type countDoc struct {
	ID    string                      `bson:"_id"` // scope|YYYY-MM
	Scope string                      `bson:"scope"`
	Month string                      `bson:"month"`
	W     int64                       `bson:"w"`
	Tot   map[string]int64            `bson:"tot,omitempty"`
	Days  map[string]map[string]int64 `bson:"days,omitempty"` // "dDD" → metric → n
	Ck    map[string]int64            `bson:"ck,omitempty"`   // villages: "<cadre>_dDD" → checkins
}

// countOp is one document's part of a plan.
type countOp struct {
	ID    string           `bson:"_id"`
	Scope string           `bson:"scope"`
	Month string           `bson:"month"`
	W0    int64            `bson:"w0"` // -1: the document did not exist
	W     int64            `bson:"w"`
	Inc   map[string]int64 `bson:"-"` // field path → amount
	Incs  []incRow         `bson:"incs"`
}

// incRow is one $inc of an op as stored (a path may not be a stored key).
type incRow struct {
	P string `bson:"p"`
	N int64  `bson:"n"`
}

// planRow is a batch's plan: the write-ahead log of the counts.
type planRow struct {
	ID      int64      `bson:"_id"` // the batch's last number
	Ops     []countOp  `bson:"ops"`
	Audits  []auditRow `bson:"audits,omitempty"`
	Records []string   `bson:"records"`
}

func countID(scope, month string) string { return scope + "|" + month }

// item is a write whose pending part is still to apply.
type item struct {
	seq               int64
	id, village, town string
	pending           *pendingRow
	done              chan error
}

type applier struct {
	s     *Store
	mu    sync.Mutex
	items map[int64]*item
	kick  chan struct{}
	run   sync.Mutex // one apply at a time
	// paused: the lease was lost; nothing new is applied until recover
	// has applied what was pending (another writer may have moved on).
	paused atomic.Bool
}

// pause stops applying until recover.
func (a *applier) pause() { a.paused.Store(true) }

func newApplier(s *Store) *applier {
	return &applier{s: s, items: map[int64]*item{}, kick: make(chan struct{}, 1)}
}

// add queues a write's pending part and returns where its outcome comes.
func (a *applier) add(it item) <-chan error {
	it.done = make(chan error, 1)
	a.mu.Lock()
	a.items[it.seq] = &it
	a.mu.Unlock()
	return it.done
}

// wake asks the loop to look for writes to apply.
func (a *applier) wake() {
	if a == nil {
		return
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// await waits until a write's counts are applied (bounded: a write whose
// counts cannot be applied now keeps its pending part, applied later).
func (a *applier) await(ch <-chan error) {
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-time.After(time.Minute):
		a.s.log.Error("counts not applied within a minute; they stay pending and are applied later")
	}
}

func (a *applier) loop(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-a.kick:
		case <-time.After(time.Second):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := a.applyReady(ctx); err != nil {
			a.s.log.Error("applying counts (retried)", "err", err)
		}
		cancel()
	}
}

// applyReady applies every queued write up to the committed number.
func (a *applier) applyReady(ctx context.Context) error {
	a.run.Lock()
	defer a.run.Unlock()
	if a.paused.Load() || a.s.lease.check() != nil {
		return nil // not the writer now: recover applies what is pending
	}
	top := a.s.seq.committed.Load()
	a.mu.Lock()
	var batch []*item
	for seq, it := range a.items {
		if seq <= top {
			batch = append(batch, it)
		}
	}
	a.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	slices.SortFunc(batch, func(x, y *item) int { return int(x.seq - y.seq) })
	for len(batch) > 0 {
		n := min(len(batch), 500)
		err := a.apply(ctx, batch[:n])
		a.mu.Lock()
		for _, it := range batch[:n] {
			if err == nil {
				delete(a.items, it.seq)
				it.done <- nil
			}
		}
		a.mu.Unlock()
		if err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// apply resolves a batch (in number order) into a plan and carries it out.
func (a *applier) apply(ctx context.Context, batch []*item) error {
	s := a.s
	ids := map[string]bool{}
	for _, it := range batch {
		for _, e := range it.pending.Events {
			for _, sc := range scopesOf(it.village, it.town, e.A) {
				ids[countID(sc, e.D[:7])] = true
			}
			ids[countID(domain.StatsVillage(it.village), e.D[:7])] = true // day-counting keys
		}
	}
	docs := map[string]*countDoc{}
	if len(ids) > 0 {
		rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: slices.Collect(maps.Keys(ids))}}}}, nil)
		if err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		for i := range rows {
			docs[rows[i].ID] = &rows[i]
		}
	}
	ops := map[string]*countOp{}
	op := func(scope, month string) *countOp {
		id := countID(scope, month)
		o := ops[id]
		if o == nil {
			o = &countOp{ID: id, Scope: scope, Month: month, W0: -1, Inc: map[string]int64{}}
			if d := docs[id]; d != nil {
				o.W0 = d.W
			}
			o.W = o.W0
			ops[id] = o
		}
		return o
	}
	ck := map[string]int64{} // village doc id + key → checkins after the batch so far
	plan := planRow{ID: batch[len(batch)-1].seq}
	for _, it := range batch {
		for _, e := range it.pending.Events {
			if e.M < 0 || e.M >= domain.NumEventMetrics {
				continue
			}
			month, day := e.D[:7], "d"+e.D[8:10]
			metric, n := domain.EventMetricNames[e.M], e.N
			if e.C != "" {
				vo := op(domain.StatsVillage(it.village), month)
				if it.seq <= vo.W0 {
					continue // applied before (a replay)
				}
				key := e.C + "_" + day
				cur, seen := ck[vo.ID+key]
				if !seen && docs[vo.ID] != nil {
					cur = docs[vo.ID].Ck[key]
				}
				vo.Inc["ck."+key] += e.N
				vo.W = max(vo.W, it.seq)
				ck[vo.ID+key] = cur + e.N
				switch after := cur + e.N; {
				case cur <= 0 && after > 0:
					n = 1
				case cur > 0 && after <= 0:
					n = -1
				default:
					continue
				}
			}
			for _, sc := range scopesOf(it.village, it.town, e.A) {
				o := op(sc, month)
				if it.seq <= o.W0 {
					continue
				}
				o.Inc["tot."+metric] += n
				o.Inc["days."+day+"."+metric] += n
				o.W = max(o.W, it.seq)
			}
		}
		if it.pending.Audit != nil {
			plan.Audits = append(plan.Audits, *it.pending.Audit)
		}
		plan.Records = append(plan.Records, it.id)
	}
	for _, id := range slices.Sorted(maps.Keys(ops)) {
		if o := ops[id]; o.W > o.W0 {
			for _, p := range slices.Sorted(maps.Keys(o.Inc)) {
				o.Incs = append(o.Incs, incRow{P: p, N: o.Inc[p]})
			}
			plan.Ops = append(plan.Ops, *o)
		}
	}
	// The batch's audit entries take their places in the chain as the plan
	// is logged: a replay inserts them as sealed.
	err := s.chained(ctx, func(seal func(*auditRow)) error {
		for i := range plan.Audits {
			seal(&plan.Audits[i])
		}
		if err := insert(ctx, s, colCountLog, plan); err != nil && !errors.Is(err, domain.ErrDuplicate) {
			return fmt.Errorf("log counts: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.carryOut(ctx, plan)
}

// scopesOf are the count scopes a village's event changes, on its basis.
// The keys of the day-counting metrics (ck) are kept in the village's
// reported-basis documents whatever the basis (the keys tell them apart).
func scopesOf(village, town string, approved bool) [3]string {
	return domain.EventScopes(domain.StatEvent{Approved: approved}, village, town)
}

// carryOut applies a logged plan; applying it again changes nothing.
func (a *applier) carryOut(ctx context.Context, plan planRow) error {
	s := a.s
	for _, o := range plan.Ops {
		if err := s.applyOp(ctx, o); err != nil {
			return err
		}
	}
	if len(plan.Audits) > 0 {
		docs := make([]any, len(plan.Audits))
		for i, r := range plan.Audits {
			docs[i] = r
		}
		err := s.write(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(colAudit).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
			if onlyDuplicates(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if len(plan.Records) > 0 {
		err := s.write(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(colRecords).UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: plan.Records}}},
				{Key: "pending.seq", Value: bson.D{{Key: "$lte", Value: plan.ID}}}},
				bson.D{{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}}})
			return err
		})
		if err != nil {
			return fmt.Errorf("clear pending: %w", err)
		}
	}
	return s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colCountLog).DeleteOne(ctx, bson.D{{Key: "_id", Value: plan.ID}})
		return err
	})
}

// applyOp applies one document's part of a plan, unless it was applied.
func (s *Store) applyOp(ctx context.Context, o countOp) error {
	if o.W0 < 0 {
		d := countDoc{ID: o.ID, Scope: o.Scope, Month: o.Month, W: o.W, Tot: map[string]int64{}, Days: map[string]map[string]int64{}, Ck: map[string]int64{}}
		for _, in := range o.Incs {
			path, n := in.P, in.N
			parts := strings.Split(path, ".")
			switch parts[0] {
			case "tot":
				d.Tot[parts[1]] += n
			case "days":
				if d.Days[parts[1]] == nil {
					d.Days[parts[1]] = map[string]int64{}
				}
				d.Days[parts[1]][parts[2]] += n
			case "ck":
				d.Ck[parts[1]] += n
			}
		}
		err := insert(ctx, s, colCounts, d)
		if errors.Is(err, domain.ErrDuplicate) {
			return s.checkApplied(ctx, o)
		}
		return err
	}
	inc := bson.D{}
	for _, in := range o.Incs {
		inc = append(inc, bson.E{Key: in.P, Value: in.N})
	}
	matched, err := matchedBy(ctx, s.write, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return s.db.Collection(colCounts).UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}, {Key: "w", Value: o.W0}},
			bson.D{{Key: "$inc", Value: inc}, {Key: "$set", Value: bson.D{{Key: "w", Value: o.W}}}})
	})
	if err != nil || matched == 1 {
		return err
	}
	return s.checkApplied(ctx, o)
}

// checkApplied accepts an op its document already shows.
func (s *Store) checkApplied(ctx context.Context, o countOp) error {
	d, err := findOne[countDoc](ctx, s, colCounts, bson.D{{Key: "_id", Value: o.ID}})
	if err != nil {
		return fmt.Errorf("counts %s: %w", o.ID, err)
	}
	if d.W < o.W {
		return fmt.Errorf("counts %s changed under the applier (w %d, want %d or more)", o.ID, d.W, o.W)
	}
	return nil
}

// onlyDuplicates reports an insert error made only of duplicate keys.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if err == nil || !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

// recover finishes what a writer before this one left: the plans logged,
// then the writes still pending, in number order. The writes queued are
// dropped (their pending parts are among those) and their waiters released.
func (a *applier) recover(ctx context.Context) error {
	a.run.Lock()
	defer a.run.Unlock()
	// The waiters go only once their writes are applied: until then they
	// hold their records' locks, so no later write replaces a pending part
	// before it is read here.
	a.mu.Lock()
	queued := a.items
	a.items = map[int64]*item{}
	a.mu.Unlock()
	if err := a.recoverLocked(ctx); err != nil {
		a.mu.Lock()
		maps.Copy(a.items, queued)
		a.mu.Unlock()
		return err
	}
	for _, it := range queued {
		it.done <- nil
	}
	a.paused.Store(false)
	return nil
}

func (a *applier) recoverLocked(ctx context.Context) error {
	plans, err := findAll[planRow](ctx, a.s, colCountLog, bson.D{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("recover counts: %w", err)
	}
	for _, p := range plans {
		if err := a.carryOut(ctx, p); err != nil {
			return fmt.Errorf("recover counts: %w", err)
		}
	}
	rows, err := findAll[recordRow](ctx, a.s, colRecords, bson.D{{Key: "pending", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "pending.seq", Value: 1}})
	if err != nil {
		return fmt.Errorf("recover counts: %w", err)
	}
	var batch []*item
	for _, r := range rows {
		if r.Pending != nil {
			batch = append(batch, &item{seq: r.Pending.Seq, id: r.ID, village: r.VillageID, town: r.TownID, pending: r.Pending})
		}
	}
	slices.SortFunc(batch, func(x, y *item) int { return int(x.seq - y.seq) })
	for len(batch) > 0 {
		n := min(len(batch), 500)
		if err := a.apply(ctx, batch[:n]); err != nil {
			return fmt.Errorf("recover counts: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}

// sumDoc adds a month document's counts of days from..to (YYYY-MM-DD) to c.
func sumDoc(c *domain.Counts, d countDoc, from, to string) {
	whole := from <= d.Month+"-01" && to >= d.Month+"-31"
	for i, m := range domain.EventMetricNames {
		if whole {
			c[i] += d.Tot[m]
			continue
		}
		for day, ms := range d.Days {
			date := d.Month + "-" + day[1:]
			if date >= from && date <= to {
				c[i] += ms[m]
			}
		}
	}
}

// PeriodCounts returns a scope's event counts of a period: one document
// per month of it.
func (s *Store) PeriodCounts(ctx context.Context, scope string, p domain.Period) (domain.Counts, error) {
	var c domain.Counts
	rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{{Key: "scope", Value: scope},
		{Key: "month", Value: bson.D{{Key: "$gte", Value: p.From[:7]}, {Key: "$lte", Value: p.To[:7]}}}}, nil)
	if err != nil {
		return c, fmt.Errorf("period counts: %w", err)
	}
	for _, d := range rows {
		sumDoc(&c, d, p.From, p.To)
	}
	return c, nil
}

// CumulativeCounts returns a scope's event counts of every day up to to.
func (s *Store) CumulativeCounts(ctx context.Context, scope, to string) (domain.Counts, error) {
	var c domain.Counts
	rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{{Key: "scope", Value: scope},
		{Key: "month", Value: bson.D{{Key: "$lte", Value: to[:7]}}}}, nil)
	if err != nil {
		return c, fmt.Errorf("cumulative counts: %w", err)
	}
	for _, d := range rows {
		sumDoc(&c, d, "0000-01-01", to)
	}
	return c, nil
}

// PeriodCountsOf returns the event counts of several scopes for a period.
func (s *Store) PeriodCountsOf(ctx context.Context, scopes []string, p domain.Period) (map[string]domain.Counts, error) {
	return s.countsOf(ctx, "period counts", scopes, bson.D{{Key: "$gte", Value: p.From[:7]}, {Key: "$lte", Value: p.To[:7]}}, p.From, p.To)
}

// CumulativeCountsOf returns the event counts of several scopes up to to.
func (s *Store) CumulativeCountsOf(ctx context.Context, scopes []string, to string) (map[string]domain.Counts, error) {
	return s.countsOf(ctx, "cumulative counts", scopes, bson.D{{Key: "$lte", Value: to[:7]}}, "0000-01-01", to)
}

// countsOf sums the month documents of several scopes, read in one query.
func (s *Store) countsOf(ctx context.Context, what string, scopes []string, months bson.D, from, to string) (map[string]domain.Counts, error) {
	out := make(map[string]domain.Counts, len(scopes))
	if len(scopes) == 0 {
		return out, nil
	}
	rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{{Key: "scope", Value: bson.D{{Key: "$in", Value: scopes}}}, {Key: "month", Value: months}}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, d := range rows {
		c := out[d.Scope]
		sumDoc(&c, d, from, to)
		out[d.Scope] = c
	}
	return out, nil
}

// storedCounts reads every count document as days.
func (s *Store) storedCounts(ctx context.Context) (map[string]domain.DayCounts, error) {
	rows, err := findAll[countDoc](ctx, s, colCounts, bson.D{}, nil)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, m := range domain.EventMetricNames {
		idx[m] = i
	}
	out := map[string]domain.DayCounts{}
	for _, d := range rows {
		for day, ms := range d.Days {
			c := &domain.Counts{}
			for m, n := range ms {
				if i, ok := idx[m]; ok {
					c[i] = n
				}
			}
			if *c == (domain.Counts{}) {
				continue
			}
			if out[d.Scope] == nil {
				out[d.Scope] = domain.DayCounts{}
			}
			out[d.Scope][d.Month+"-"+day[1:]] = c
		}
	}
	return out, nil
}

// recount tallies every record; it reports whether some writes were
// still pending (their counts not applied yet).
func (s *Store) recount(ctx context.Context) (*domain.Tally, bool, error) {
	t := domain.NewTally(s.loc)
	pending := false
	err := s.call(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(colRecords).Find(ctx, bson.D{})
		if err != nil {
			return err
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			var row recordRow
			if err := cur.Decode(&row); err != nil {
				return err
			}
			pending = pending || row.Pending != nil
			r, err := s.recordOf(row)
			if err != nil {
				return err
			}
			t.Add(r)
		}
		return cur.Err()
	})
	return t, pending, err
}

// VerifyStats recounts from the records and lists every difference. Beside
// a running writer, writes whose counts are still being applied are waited
// for (up to ten tries).
func (s *Store) VerifyStats(ctx context.Context) ([]domain.StatDiff, error) {
	for try := 0; ; try++ {
		t, pending, err := s.recount(ctx)
		if err != nil {
			return nil, fmt.Errorf("verify stats: %w", err)
		}
		have, err := s.storedCounts(ctx)
		if err != nil {
			return nil, fmt.Errorf("verify stats: %w", err)
		}
		diffs := domain.DiffCounts(have, t.Scopes)
		if len(diffs) == 0 || !pending || try == 9 {
			return diffs, nil
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// RebuildStats replaces the counts with a recount. It expects no writes
// through the store meanwhile ('zhucun stats rebuild' holds the writer
// lease, so no server runs).
func (s *Store) RebuildStats(ctx context.Context) error {
	if s.readOnly {
		return ErrReadOnly
	}
	a := s.counts
	if err := a.applyReady(ctx); err != nil {
		return fmt.Errorf("rebuild stats: %w", err)
	}
	a.run.Lock()
	defer a.run.Unlock()
	t, _, err := s.recount(ctx)
	if err != nil {
		return fmt.Errorf("rebuild stats: %w", err)
	}
	w := s.seq.committed.Load()
	docs := map[string]*countDoc{}
	for scope, days := range t.Scopes {
		for day, c := range days {
			id := countID(scope, day[:7])
			d := docs[id]
			if d == nil {
				d = &countDoc{ID: id, Scope: scope, Month: day[:7], W: w, Tot: map[string]int64{}, Days: map[string]map[string]int64{}, Ck: map[string]int64{}}
				docs[id] = d
			}
			ms := map[string]int64{}
			for i, n := range c {
				if n != 0 {
					ms[domain.EventMetricNames[i]] = n
					d.Tot[domain.EventMetricNames[i]] += n
				}
			}
			d.Days["d"+day[8:10]] = ms
		}
	}
	for k, n := range t.Checkins() {
		id := countID(domain.StatsVillage(k[0]), k[1][:7])
		d := docs[id]
		if d == nil {
			d = &countDoc{ID: id, Scope: domain.StatsVillage(k[0]), Month: k[1][:7], W: w, Tot: map[string]int64{}, Days: map[string]map[string]int64{}, Ck: map[string]int64{}}
			docs[id] = d
		}
		d.Ck[k[2]+"_d"+k[1][8:10]] = n
	}
	err = s.write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection(colCounts).DeleteMany(ctx, bson.D{}); err != nil {
			return err
		}
		if len(docs) == 0 {
			return nil
		}
		rows := make([]any, 0, len(docs))
		for _, id := range slices.Sorted(maps.Keys(docs)) {
			rows = append(rows, docs[id])
		}
		_, err := s.db.Collection(colCounts).InsertMany(ctx, rows)
		return err
	})
	if err != nil {
		return fmt.Errorf("rebuild stats: %w", err)
	}
	return nil
}
