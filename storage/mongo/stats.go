package mongo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
)

var _ domain.StatsStore = (*Store)(nil)

// The counts. Every record write carries its delta (domain.StatDelta: the
// new version's events less the old one's) into a durable place in the
// same commit as the record, or before it:
//
//   - a create's delta rides in its inbox document, and the mover copies it
//     to "stat_log" (by the write's sequence number) before it deletes the
//     inbox document;
//   - an edit's delta is written to "stat_log" as an intent before the
//     record, and removed if the record write fails.
//
// In memory, deltas wait until the sequencer says every write up to their
// number is done, and are then added to the counts of the village, its town
// and the district, per day and per ISO week, month, quarter, half and year:
// a summary reads memory. Every few seconds the changed counts are written
// as one document per scope and month ("stats_<hex>", 16 collections: a
// month's document is small, and new events mostly touch this month's) with
// the number they include ("applied"), and the log up to it is dropped. On
// start the documents are loaded and every logged or inboxed delta above
// its document's number is added again (an intent only if its record shows
// the write happened): so a crash between any two steps neither loses nor
// doubles a count. Checkins count once per cadre, day and village: the
// village documents keep each cadre's checkins per day, and the town and
// district counts are derived from them.
const (
	colStatLog     = "stat_log"
	statPrefix     = "stats_"
	statFanout     = 16
	statFlushEvery = 10 * time.Second
	statApplyEvery = 100 * time.Millisecond
)

type statEventRow struct {
	D string `bson:"d"` // YYYY-MM-DD
	M string `bson:"m"` // the metric's name
	N int64  `bson:"n"`
	C string `bson:"c,omitempty"` // checkins: the cadre
}

// statEntryRow is one write's delta.
type statEntryRow struct {
	Seq     int64          `bson:"_id"`
	Village string         `bson:"v"`
	Town    string         `bson:"t"`
	Events  []statEventRow `bson:"e"`
	// Intent is written before its record: after a crash it counts only if
	// the record (Record) shows the write.
	Intent bool   `bson:"intent,omitempty"`
	Record string `bson:"r,omitempty"`
}

type statEntry struct {
	seq           int64
	village, town string
	events        []domain.StatEvent
}

var metricIndex = func() map[string]int {
	m := map[string]int{}
	for i, n := range domain.EventMetricNames {
		m[n] = i
	}
	return m
}()

func toEventRows(es []domain.StatEvent) []statEventRow {
	out := make([]statEventRow, len(es))
	for i, e := range es {
		out[i] = statEventRow{D: e.Day, M: domain.EventMetricNames[e.Metric], N: e.N, C: e.Cadre}
	}
	return out
}

func (r statEntryRow) entry() statEntry {
	e := statEntry{seq: r.Seq, village: r.Village, town: r.Town}
	for _, ev := range r.Events {
		if m, ok := metricIndex[ev.M]; ok {
			e.events = append(e.events, domain.StatEvent{Day: ev.D, Metric: m, N: ev.N, Cadre: ev.C})
		}
	}
	return e
}

// civil dates as numbers: 20260301.
func dayNum(d string) (int32, bool) {
	if len(d) != 10 {
		return 0, false
	}
	n, err := strconv.Atoi(d[0:4] + d[5:7] + d[8:10])
	return int32(n), err == nil
}

func numDay(n int32) time.Time {
	return time.Date(int(n/10000), time.Month(n/100%100), int(n%100), 0, 0, 0, 0, time.UTC)
}

// scopeBook is one scope's counts at every granularity.
type scopeBook struct {
	days, weeks, months, quarters, halves, years map[int32]*domain.Counts
}

func newScopeBook() *scopeBook {
	return &scopeBook{days: map[int32]*domain.Counts{}, weeks: map[int32]*domain.Counts{}, months: map[int32]*domain.Counts{},
		quarters: map[int32]*domain.Counts{}, halves: map[int32]*domain.Counts{}, years: map[int32]*domain.Counts{}}
}

func bump(m map[int32]*domain.Counts, k int32, metric int, n int64) {
	c := m[k]
	if c == nil {
		c = &domain.Counts{}
		m[k] = c
	}
	c[metric] += n
}

func (b *scopeBook) add(day int32, metric int, n int64) {
	t := numDay(day)
	y, m := int32(t.Year()), int32(t.Month())
	iy, iw := t.ISOWeek()
	bump(b.days, day, metric, n)
	bump(b.weeks, int32(iy*100+iw), metric, n)
	bump(b.months, y*100+m, metric, n)
	bump(b.quarters, y*10+(m+2)/3, metric, n)
	bump(b.halves, y*10+(m+5)/6, metric, n)
	bump(b.years, y, metric, n)
}

// statBook is every scope's counts, as of watermark.
type statBook struct {
	mu        sync.Mutex
	scopes    map[string]*scopeBook
	ck        map[string]map[string]int64 // village → "cadre|YYYY-MM-DD" → checkins
	town      map[string]string           // village → town
	dirty     map[string]bool             // documents "scope|year" changed since written
	pending   map[int64]statEntry         // done writes waiting for the watermark
	watermark int64
}

func newStatBook() *statBook {
	return &statBook{scopes: map[string]*scopeBook{}, ck: map[string]map[string]int64{}, town: map[string]string{},
		dirty: map[string]bool{}, pending: map[int64]statEntry{}}
}

func (b *statBook) scope(k string) *scopeBook {
	s := b.scopes[k]
	if s == nil {
		s = newScopeBook()
		b.scopes[k] = s
	}
	return s
}

// docID names the document of a scope's month that holds a day.
func docID(scope, day string) string { return scope + "|" + day[:7] }

// apply adds one write's delta; gate, when set, says which documents do
// not hold it yet (recovery).
func (b *statBook) apply(e statEntry, gate func(doc string) bool) {
	if e.town != "" {
		b.town[e.village] = e.town
	}
	scopes := []string{domain.StatsVillage(e.village), domain.StatsTown(e.town), domain.StatsDistrict}
	for _, ev := range e.events {
		day, ok := dayNum(ev.Day)
		if !ok {
			continue
		}
		if ev.Metric == domain.MCheckins {
			vdoc := docID(scopes[0], ev.Day)
			if gate != nil && !gate(vdoc) {
				continue
			}
			b.dirty[vdoc] = true
			b.checkin(e.village, e.town, ev.Cadre, ev.Day, day, ev.N)
			continue
		}
		for _, sc := range scopes {
			doc := docID(sc, ev.Day)
			if gate != nil && !gate(doc) {
				continue
			}
			b.scope(sc).add(day, ev.Metric, ev.N)
			b.dirty[doc] = true
		}
	}
}

// checkin counts a cadre's checkins of a day in a village, and the day
// once when the count goes from none to some (and back).
func (b *statBook) checkin(village, town, cadre, date string, day int32, n int64) {
	m := b.ck[village]
	if m == nil {
		m = map[string]int64{}
		b.ck[village] = m
	}
	k := cadre + "|" + date
	before := m[k]
	after := before + n
	if after == 0 {
		delete(m, k)
	} else {
		m[k] = after
	}
	var t int64
	switch {
	case before <= 0 && after > 0:
		t = 1
	case before > 0 && after <= 0:
		t = -1
	}
	if t != 0 {
		if town == "" {
			town = b.town[village]
		}
		for _, sc := range []string{domain.StatsVillage(village), domain.StatsTown(town), domain.StatsDistrict} {
			b.scope(sc).add(day, domain.MCheckins, t)
		}
	}
}

// pushStat hands a done write's delta to the book; it counts once every
// write numbered before it is done.
func (s *Store) pushStat(seq int64, village, town string, events []domain.StatEvent) {
	if len(events) == 0 {
		return
	}
	b := s.stats
	b.mu.Lock()
	b.pending[seq] = statEntry{seq: seq, village: village, town: town, events: events}
	b.mu.Unlock()
}

// advanceStats applies the pending deltas up to the committed number.
func (s *Store) advanceStats() {
	committed := s.seq.committed.Load()
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	if committed <= b.watermark {
		return
	}
	var ready []statEntry
	for seq, e := range b.pending {
		if seq <= committed {
			ready = append(ready, e)
			delete(b.pending, seq)
		}
	}
	slices.SortFunc(ready, func(a, b statEntry) int { return cmp.Compare(a.seq, b.seq) })
	for _, e := range ready {
		b.apply(e, nil)
	}
	b.watermark = committed
}

// statDocRow is one scope's counts of one month.
type statDocRow struct {
	ID      string                      `bson:"_id"` // scope|YYYY-MM
	Scope   string                      `bson:"scope"`
	Month   string                      `bson:"month"`          // YYYY-MM
	Town    string                      `bson:"town,omitempty"` // a village's town
	Applied int64                       `bson:"applied"`
	Days    map[string]map[string]int64 `bson:"days"`         // YYYY-MM-DD → metric → n (checkins come from ck)
	Ck      map[string]int64            `bson:"ck,omitempty"` // villages: "cadre|YYYY-MM-DD" → checkins
}

func statCollection(doc string) string {
	h := sha256.Sum256([]byte(doc))
	return fmt.Sprintf("%s%x", statPrefix, h[0]%statFanout)
}

// docRow builds a document from the book; called with mu held.
func (b *statBook) docRow(doc string, applied int64) statDocRow {
	scope, month, _ := strings.Cut(doc, "|")
	row := statDocRow{ID: doc, Scope: scope, Month: month, Applied: applied, Days: map[string]map[string]int64{}}
	ym, _ := strconv.Atoi(strings.ReplaceAll(month, "-", ""))
	if sb := b.scopes[scope]; sb != nil {
		for day, c := range sb.days {
			if int(day/100) != ym {
				continue
			}
			m := map[string]int64{}
			for i, n := range c {
				if n != 0 && i != domain.MCheckins {
					m[domain.EventMetricNames[i]] = n
				}
			}
			if len(m) > 0 {
				row.Days[numDay(day).Format(domain.DateLayout)] = m
			}
		}
	}
	if v, ok := domain.StatsVillageOf(scope); ok {
		row.Town = b.town[v]
		for k, n := range b.ck[v] {
			if _, date, _ := strings.Cut(k, "|"); strings.HasPrefix(date, month+"-") {
				if row.Ck == nil {
					row.Ck = map[string]int64{}
				}
				row.Ck[k] = n
			}
		}
	}
	return row
}

// flushStats writes the changed documents as of the watermark, then drops
// the log up to it.
func (s *Store) flushStats(ctx context.Context) error {
	s.advanceStats()
	b := s.stats
	b.mu.Lock()
	w := b.watermark
	rows := make([]statDocRow, 0, len(b.dirty))
	for doc := range b.dirty {
		rows = append(rows, b.docRow(doc, w))
	}
	clear(b.dirty)
	b.mu.Unlock()
	for i, row := range rows {
		if s.crash.flushDocs > 0 && i == s.crash.flushDocs {
			return errCrash
		}
		err := s.call(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(statCollection(row.ID)).ReplaceOne(ctx, bson.D{{Key: "_id", Value: row.ID}}, row, options.Replace().SetUpsert(true))
			return err
		})
		if err != nil {
			b.mu.Lock()
			for _, r := range rows[i:] {
				b.dirty[r.ID] = true
			}
			b.mu.Unlock()
			return fmt.Errorf("write counts: %w", err)
		}
	}
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colStatLog).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: w}}}})
		return err
	})
	if err != nil {
		return fmt.Errorf("trim the count log: %w", err)
	}
	return nil
}

// startStats applies deltas as writes complete and writes the counts every
// few seconds, until the store closes (which writes them once more).
func (s *Store) startStats() {
	s.batchWG.Add(1)
	go func() {
		defer s.batchWG.Done()
		apply := time.NewTicker(statApplyEvery)
		defer apply.Stop()
		last := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case <-apply.C:
			}
			s.advanceStats()
			if time.Since(last) >= statFlushEvery {
				if err := s.flushStats(context.Background()); err != nil {
					s.log.Error("writing the counts", "err", err)
				}
				last = time.Now()
			}
		}
	}()
}

// logIntent writes an edit's delta before the edit.
func (s *Store) logIntent(ctx context.Context, seq int64, r domain.Record, events []domain.StatEvent) error {
	if len(events) == 0 {
		return nil
	}
	row := statEntryRow{Seq: seq, Village: r.VillageID, Town: r.TownID, Events: toEventRows(events), Intent: true, Record: r.ID}
	if err := s.batcherFor(colStatLog).insert(ctx, row); err != nil {
		return fmt.Errorf("log counts: %w", err)
	}
	return nil
}

// dropIntent removes the intent of an edit that failed.
func (s *Store) dropIntent(seq int64, events []domain.StatEvent) {
	if len(events) == 0 {
		return
	}
	for try := range 5 {
		err := s.call(context.Background(), func(ctx context.Context) error {
			_, err := s.db.Collection(colStatLog).DeleteOne(ctx, bson.D{{Key: "_id", Value: seq}})
			return err
		})
		if err == nil {
			return
		}
		s.log.Error("removing the count intent of a failed edit", "seq", seq, "err", err, "try", try)
		time.Sleep(100 * time.Millisecond)
	}
}

// recoverStats loads the counts and adds every delta they do not hold.
func (s *Store) recoverStats(ctx context.Context) error {
	b := newStatBook()
	applied := map[string]int64{}
	for h := range statFanout {
		rows, err := findAll[statDocRow](ctx, s, fmt.Sprintf("%s%x", statPrefix, h), bson.D{}, nil)
		if err != nil {
			return fmt.Errorf("load counts: %w", err)
		}
		for _, row := range rows {
			applied[row.ID] = row.Applied
			sb := b.scope(row.Scope)
			for date, m := range row.Days {
				day, ok := dayNum(date)
				if !ok {
					continue
				}
				for name, n := range m {
					if i, ok := metricIndex[name]; ok && i != domain.MCheckins {
						sb.add(day, i, n)
					}
				}
			}
			if v, ok := domain.StatsVillageOf(row.Scope); ok {
				if row.Town != "" {
					b.town[v] = row.Town
				}
				for k, n := range row.Ck {
					cadre, date, _ := strings.Cut(k, "|")
					if day, ok := dayNum(date); ok {
						b.checkin(v, "", cadre, date, day, n)
					}
				}
			}
		}
	}
	// Deltas not yet in their documents: the log, and creates still in the inbox.
	logged, err := findAll[statEntryRow](ctx, s, colStatLog, bson.D{}, nil)
	if err != nil {
		return fmt.Errorf("load count log: %w", err)
	}
	inbox := s.inboxRows(func(recordRow) bool { return true })
	bySeq := map[int64]statEntryRow{}
	for _, r := range inbox {
		if r.Stat != nil {
			bySeq[r.Stat.Seq] = *r.Stat
		}
	}
	for _, e := range logged {
		if _, ok := bySeq[e.Seq]; !ok || !e.Intent {
			bySeq[e.Seq] = e
		}
	}
	seqs := slices.Sorted(maps.Keys(bySeq))
	for _, seq := range seqs {
		e := bySeq[seq]
		if e.Intent {
			ok, err := s.intentHappened(ctx, e)
			if err != nil {
				return err
			}
			if !ok {
				// Its edit never happened; a later edit of the record must
				// not make it look as if it had.
				if err := s.call(ctx, func(ctx context.Context) error {
					_, err := s.db.Collection(colStatLog).DeleteOne(ctx, bson.D{{Key: "_id", Value: e.Seq}})
					return err
				}); err != nil {
					return fmt.Errorf("drop a void count intent: %w", err)
				}
				continue
			}
		}
		b.apply(e.entry(), func(doc string) bool { return e.Seq > applied[doc] })
	}
	committed, err := s.committedSeq(ctx)
	if err != nil {
		return err
	}
	b.watermark = committed
	s.stats = b
	// Write what was recovered, so the log restarts empty.
	return s.flushStats(ctx)
}

// intentHappened says whether the edit an intent was written for reached
// its record (a crash may have come between the two).
func (s *Store) intentHappened(ctx context.Context, e statEntryRow) (bool, error) {
	r, _, ok := s.inboxRecord(e.Record)
	var err error
	if !ok {
		r, err = findOne[recordRow](ctx, s, recordCollection(e.Village), bson.D{{Key: "_id", Value: e.Record}})
	}
	switch {
	case err == nil:
		return r.Seq >= e.Seq, nil
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("check count intent: %w", err)
}

// PeriodCounts returns a scope's event counts of a period.
func (s *Store) PeriodCounts(_ context.Context, scope string, p domain.Period) (domain.Counts, error) {
	s.advanceStats()
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	sb := b.scopes[scope]
	if sb == nil {
		return domain.Counts{}, nil
	}
	get := func(m map[int32]*domain.Counts, k int32) domain.Counts {
		if c := m[k]; c != nil {
			return *c
		}
		return domain.Counts{}
	}
	if p.ID != "" {
		from, _ := time.Parse(domain.DateLayout, p.From)
		y, m := int32(from.Year()), int32(from.Month())
		switch {
		case len(p.ID) == 4:
			return get(sb.years, y), nil
		case strings.Contains(p.ID, "W"):
			iy, iw := from.ISOWeek()
			return get(sb.weeks, int32(iy*100+iw)), nil
		case strings.Contains(p.ID, "Q"):
			return get(sb.quarters, y*10+(m+2)/3), nil
		case strings.Contains(p.ID, "S"):
			return get(sb.halves, y*10+(m+5)/6), nil
		default:
			return get(sb.months, y*100+m), nil
		}
	}
	return sb.rangeCounts(p.From, p.To), nil
}

// rangeCounts sums whole months and the days around them.
func (sb *scopeBook) rangeCounts(from, to string) domain.Counts {
	var out domain.Counts
	f, err1 := time.Parse(domain.DateLayout, from)
	t, err2 := time.Parse(domain.DateLayout, to)
	if err1 != nil || err2 != nil {
		return out
	}
	addC := func(c *domain.Counts) {
		if c != nil {
			for i := range c {
				out[i] += c[i]
			}
		}
	}
	for d := f; !d.After(t); {
		monthEnd := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC)
		if d.Day() == 1 && !monthEnd.After(t) {
			addC(sb.months[int32(d.Year()*100+int(d.Month()))])
			d = monthEnd.AddDate(0, 0, 1)
			continue
		}
		addC(sb.days[int32(d.Year()*10000+int(d.Month())*100+d.Day())])
		d = d.AddDate(0, 0, 1)
	}
	return out
}

// CumulativeCounts returns a scope's event counts of every day up to to.
func (s *Store) CumulativeCounts(_ context.Context, scope, to string) (domain.Counts, error) {
	s.advanceStats()
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	var out domain.Counts
	sb := b.scopes[scope]
	t, err := time.Parse(domain.DateLayout, to)
	if sb == nil || err != nil {
		return out, nil
	}
	y := int32(t.Year())
	for yr, c := range sb.years {
		if yr < y {
			for i := range c {
				out[i] += c[i]
			}
		}
	}
	first := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	in := sb.rangeCounts(first.Format(domain.DateLayout), to)
	for i := range in {
		out[i] += in[i]
	}
	return out, nil
}

// recount builds the counts from the records themselves.
func (s *Store) recount(ctx context.Context) (*statBook, error) {
	latest := map[string]recordRow{}
	take := func(rows []recordRow) {
		for _, r := range rows {
			if cur, ok := latest[r.ID]; !ok || r.Version > cur.Version {
				latest[r.ID] = r
			}
		}
	}
	// The inbox first: a record the mover moves meanwhile is then found in
	// its village.
	inbox := s.inboxRows(func(recordRow) bool { return true })
	take(inbox)
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	for _, name := range names {
		if !strings.HasPrefix(name, recordPrefix) {
			continue
		}
		rows, err := findAll[recordRow](ctx, s, name, bson.D{{Key: "type", Value: bson.D{{Key: "$exists", Value: true}}}}, nil)
		if err != nil {
			return nil, fmt.Errorf("recount %s: %w", name, err)
		}
		take(rows)
	}
	b := newStatBook()
	for _, row := range latest {
		r := toRecord(row)
		b.apply(statEntry{village: r.VillageID, town: r.TownID, events: domain.Contribution(r, s.loc)}, nil)
	}
	return b, nil
}

// VerifyStats recounts from the records and lists every count that differs.
func (s *Store) VerifyStats(ctx context.Context) ([]domain.StatDiff, error) {
	fresh, err := s.recount(ctx)
	if err != nil {
		return nil, err
	}
	s.advanceStats()
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	var diffs []domain.StatDiff
	scopes := map[string]bool{}
	for k := range b.scopes {
		scopes[k] = true
	}
	for k := range fresh.scopes {
		scopes[k] = true
	}
	for _, sc := range slices.Sorted(maps.Keys(scopes)) {
		have, want := b.scopes[sc], fresh.scopes[sc]
		if have == nil {
			have = newScopeBook()
		}
		if want == nil {
			want = newScopeBook()
		}
		days := map[int32]bool{}
		for d := range have.days {
			days[d] = true
		}
		for d := range want.days {
			days[d] = true
		}
		for _, d := range slices.Sorted(maps.Keys(days)) {
			var h, w domain.Counts
			if c := have.days[d]; c != nil {
				h = *c
			}
			if c := want.days[d]; c != nil {
				w = *c
			}
			for i := range h {
				if h[i] != w[i] {
					diffs = append(diffs, domain.StatDiff{Scope: sc, Day: numDay(d).Format(domain.DateLayout),
						Metric: domain.EventMetricNames[i], Have: h[i], Want: w[i]})
				}
			}
		}
	}
	return diffs, nil
}

// RebuildStats replaces the counts with a recount from the records. Run
// it with no other writer (the server stopped, or from the server itself).
func (s *Store) RebuildStats(ctx context.Context) error {
	committed, err := s.committedSeq(ctx)
	if err != nil {
		return err
	}
	fresh, err := s.recount(ctx)
	if err != nil {
		return err
	}
	fresh.watermark = committed
	for h := range statFanout {
		if err := s.db.Collection(fmt.Sprintf("%s%x", statPrefix, h)).Drop(ctx); err != nil {
			return fmt.Errorf("rebuild counts: %w", err)
		}
	}
	for sc, sb := range fresh.scopes {
		for ym := range sb.months {
			fresh.dirty[fmt.Sprintf("%s|%04d-%02d", sc, ym/100, ym%100)] = true
		}
	}
	for v, m := range fresh.ck {
		for k := range m {
			_, date, _ := strings.Cut(k, "|")
			fresh.dirty[docID(domain.StatsVillage(v), date)] = true
		}
	}
	b := s.stats
	b.mu.Lock()
	for seq := range b.pending {
		if seq <= committed {
			delete(b.pending, seq) // in the records the recount read
		}
	}
	b.scopes, b.ck, b.town, b.dirty, b.watermark = fresh.scopes, fresh.ck, fresh.town, fresh.dirty, fresh.watermark
	b.mu.Unlock()
	if err := s.flushStats(ctx); err != nil {
		return err
	}
	// The recount is the truth: no logged delta is to be added to it again.
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(colStatLog).DeleteMany(ctx, bson.D{})
		return err
	})
}
