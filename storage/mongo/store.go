// Package mongo implements zhucun's domain stores on MongoDB with the
// official driver, for deployments (MongoDB 7+, replica set or sharded
// cluster); the tests run it on FerretDB. It is plain MongoDB: one
// "records" collection with the compound indexes its queries use, one
// collection per entity, count documents per scope and month. It uses only
// what both do correctly (see shared/FERRETDB.md): no transactions, no
// $lookup, no concurrent updates of one document.
//
// One process writes a database: it holds the writer lease (lease.go); a
// second one waits as a standby and takes over when the lease lapses. The
// writer numbers every record write from blocks reserved in the database
// (seq.go), so no number repeats after a takeover, and applies the writes'
// count deltas and audit entries in number order (counts.go), so a replay
// after a crash applies nothing twice.
//
// Driver errors are translated here into domain errors; mongo.ErrNoDocuments
// and E11000 never leave the package.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"zhucun/domain"
	"zhucun/storage/internal/recdoc"
)

// Collection names.
const (
	colTowns          = "towns"
	colVillages       = "villages"
	colUsers          = "users"
	colRefresh        = "refresh_tokens"
	colRefreshUsed    = "refresh_tokens_used"
	colRevoked        = "revoked_families"
	colWeChat         = "wechat_bindings"
	colAudit          = "audit"
	colCatalogues     = "catalogues"
	colCampaigns      = "campaigns"
	colEvaluations    = "evaluations"
	colSelections     = "selections"
	colSelectionNotes = "selection_notes"
	colProblems       = "problems"
	colTargets        = "targets"
	colProgress       = "target_progress"
	colUnits          = "units"
	colTeams          = "teams"
	colTeamSlots      = "team_slots"
	colTrainings      = "trainings"
	defaultTimeout    = 10 * time.Second
	connectTimeout    = 15 * time.Second
	// selectTimeout is how long an operation waits for a server to answer
	// before it fails: with the database gone, a request answers 503
	// within 2 s.
	selectTimeout    = 1500 * time.Millisecond
	maxQueryDuration = 30 * time.Second
)

// Store is the MongoDB implementation of the domain's store interfaces.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	timeout  time.Duration
	log      *slog.Logger
	loc      *time.Location
	readOnly bool

	seq          sequencer
	lease        *lease
	counts       *applier
	versionLocks [256]sync.Mutex // version-checked replaces, by collection and id
	recordLocks  [256]sync.Mutex // a record's writes, from the write to its counts applied
	stop         chan struct{}
	stopOnce     sync.Once
	wg           sync.WaitGroup

	ledger domain.LedgerCache
	seal   *domain.AuditSeal
	codec  recdoc.Codec
	chain  auditChain

	retakenMu sync.Mutex
	retaken   []func()
}

// OnRetaken registers f to run when this process takes the writer lease
// back after losing it: another writer may have changed anything
// meanwhile, so what the services keep in memory must be dropped.
func (s *Store) OnRetaken(f func()) {
	s.retakenMu.Lock()
	s.retaken = append(s.retaken, f)
	s.retakenMu.Unlock()
}

// dropMemory forgets what this process keeps of the database: the ledger
// snapshot, and whatever the services registered.
func (s *Store) dropMemory() {
	s.ledger.Changed()
	s.chain.mu.Lock()
	s.chain.loaded = false
	s.chain.mu.Unlock()
	s.retakenMu.Lock()
	fs := slices.Clone(s.retaken)
	s.retakenMu.Unlock()
	for _, f := range fs {
		f()
	}
}

var (
	_ domain.OrgStore     = (*Store)(nil)
	_ domain.UserStore    = (*Store)(nil)
	_ domain.SessionStore = (*Store)(nil)
	_ domain.AuditStore   = (*Store)(nil)
)

// Options tune a Store.
type Options struct {
	// Timeout bounds every single storage call; zero means 10 s.
	Timeout time.Duration
	// Logger receives errors of background work; nil discards them.
	Logger *slog.Logger
	// Location is the campaign's time zone, for recounts; nil means Asia/Shanghai.
	Location *time.Location
	// ReadOnly opens the store without the writer lease: reads only, beside
	// a running server (zhucun stats verify). Every write answers ErrReadOnly.
	ReadOnly bool
	// Instance names this process in the writer lease; empty means host and pid.
	Instance string
	// LeaseTTL is how long the writer lease lasts unless renewed; zero means 10 s.
	LeaseTTL time.Duration
	// AuditSeal seals the audit entries into a chain; nil leaves them
	// unsealed (placed in the chain, without a seal).
	AuditSeal *domain.AuditSeal
	// Sealer encrypts the personal fields of records at rest; nil keeps
	// them plain (recdoc.Codec).
	Sealer domain.Sealer
}

// ErrReadOnly answers writes to a store opened read-only.
var ErrReadOnly = errors.New("the store is open read-only")

// Open connects to uri and selects database name. Unless ReadOnly, it takes
// the writer lease (a *LeaseHeldError when another process holds it),
// ensures the indexes and finishes what a crashed writer left (counts.go).
// Writes are acknowledged by the majority and journaled, so an
// acknowledged write survives a crash.
func Open(ctx context.Context, uri, name string, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
	}
	opts := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetTimeout(maxQueryDuration).
		SetConnectTimeout(connectTimeout).
		SetServerSelectionTimeout(selectTimeout).
		SetAppName("zhucun")
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", err)
	}
	s := &Store{client: client, db: client.Database(name), timeout: o.Timeout, log: o.Logger, loc: o.Location,
		readOnly: o.ReadOnly, stop: make(chan struct{}), seal: o.AuditSeal, codec: recdoc.Codec{Sealer: o.Sealer}}
	if s.loc == nil {
		if s.loc, err = time.LoadLocation("Asia/Shanghai"); err != nil {
			s.loc = time.FixedZone("CST", 8*3600)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	fail := func(err error) (*Store, error) {
		s.halt()
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		return fail(err)
	}
	if o.ReadOnly {
		return s, nil
	}
	if err := s.ensureIndexes(ctx); err != nil {
		return fail(err)
	}
	s.lease = &lease{s: s, holder: o.Instance, ttl: o.LeaseTTL}
	if err := s.lease.acquire(ctx); err != nil {
		return fail(err)
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.lease.keep(s.stop) }()
	s.counts = newApplier(s)
	if err := s.counts.recover(ctx); err != nil {
		return fail(err)
	}
	if err := s.upgrade(ctx); err != nil {
		return fail(err)
	}
	if err := s.sealPlainRecords(ctx); err != nil {
		return fail(err)
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.counts.loop(s.stop) }()
	return s, nil
}

// halt stops the background work.
func (s *Store) halt() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// Close stops the background work, gives the lease up and disconnects.
func (s *Store) Close(ctx context.Context) error {
	s.halt()
	if s.lease != nil {
		s.lease.release(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from MongoDB: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("ping MongoDB: %w: %w", domain.ErrUnavailable, err)
	}
	if s.lease != nil {
		if err := s.lease.check(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ensureIndexes(ctx context.Context) error {
	idx := map[string][]mongo.IndexModel{
		colTowns: {{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true).SetName("name_unique")}},
		colVillages: {
			{Keys: bson.D{{Key: "townId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetUnique(true).SetName("town_name_unique")},
		},
		colUsers: {
			{Keys: bson.D{{Key: "phone", Value: 1}}, Options: options.Index().SetUnique(true).SetName("phone_unique")},
			{Keys: bson.D{{Key: "townIds", Value: 1}}, Options: options.Index().SetName("town_ids")},
		},
		colRefresh:        {{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName("family")}},
		colCatalogues:     {{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "order", Value: 1}}, Options: options.Index().SetName("kind_order")}},
		colEvaluations:    {{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "townId", Value: 1}}, Options: options.Index().SetName("campaign_town")}},
		colSelections:     {{Keys: bson.D{{Key: "villageId", Value: 1}}, Options: options.Index().SetName("village")}},
		colSelectionNotes: {{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "villageId", Value: 1}}, Options: options.Index().SetName("selection")}},
		colProblems:       {{Keys: bson.D{{Key: "villageId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("village")}, {Keys: bson.D{{Key: "townId", Value: 1}}, Options: options.Index().SetName("town")}},
		colTargets:        {{Keys: bson.D{{Key: "villageId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("village")}, {Keys: bson.D{{Key: "townId", Value: 1}}, Options: options.Index().SetName("town")}},
		colProgress:       {{Keys: bson.D{{Key: "targetId", Value: 1}, {Key: "date", Value: 1}}, Options: options.Index().SetName("target_date")}},
		colUnits:          {{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true).SetName("name_unique")}},
		colTeams:          {{Keys: bson.D{{Key: "people", Value: 1}}, Options: options.Index().SetName("people")}, {Keys: bson.D{{Key: "villageId", Value: 1}}, Options: options.Index().SetName("village")}},
		colTrainings:      {{Keys: bson.D{{Key: "participantIds", Value: 1}}, Options: options.Index().SetName("participants")}},
		colAudit: {
			{Keys: bson.D{{Key: "entity", Value: 1}, {Key: "entityId", Value: 1}}, Options: options.Index().SetName("entity")},
			{Keys: bson.D{{Key: "userId", Value: 1}}, Options: options.Index().SetName("user")},
		},
		colRecords: {
			{Keys: bson.D{{Key: "villageId", Value: 1}, {Key: "type", Value: 1}, {Key: "deleted", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("village_list")},
			{Keys: bson.D{{Key: "type", Value: 1}, {Key: "deleted", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("type_list")},
			{Keys: bson.D{{Key: "villageId", Value: 1}, {Key: "seq", Value: 1}}, Options: options.Index().SetName("village_seq")},
			{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetName("seq")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "type", Value: 1}}, Options: options.Index().SetName("project")},
			{Keys: bson.D{{Key: "pending.seq", Value: 1}}, Options: options.Index().SetName("pending")},
		},
		colPhotoPending: {{Keys: bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("created")}},
		colPlans:        {{Keys: bson.D{{Key: "week", Value: 1}, {Key: "cadreId", Value: 1}}, Options: options.Index().SetName("week_cadre")}},
		colApprovals:    {{Keys: bson.D{{Key: "townId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("town")}, {Keys: bson.D{{Key: "state", Value: 1}}, Options: options.Index().SetName("state")}},
		colNotifications: {{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("key_unique")},
			{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("user")},
			{Keys: bson.D{{Key: "rule", Value: 1}, {Key: "item", Value: 1}}, Options: options.Index().SetName("item")},
			{Keys: bson.D{{Key: "push", Value: 1}, {Key: "pushNext", Value: 1}}, Options: options.Index().SetName("push")}},
		colWeChat: {{Keys: bson.D{{Key: "userId", Value: 1}}, Options: options.Index().SetName("user")}},
		colFeedback: {{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("user")},
			{Keys: bson.D{{Key: "state", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("state")}},
		colLeaves: {{Keys: bson.D{{Key: "cadreId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("cadre")}, {Keys: bson.D{{Key: "state", Value: 1}, {Key: "to", Value: 1}}, Options: options.Index().SetName("state_to")}},
	}
	// One createIndexes call per index: FerretDB 1.24 drops the connection
	// when one call asks for two or more indexes that already exist, which
	// is every start after the first.
	for col, models := range idx {
		for _, m := range models {
			ctx, cancel := context.WithTimeout(ctx, s.timeout)
			_, err := s.db.Collection(col).Indexes().CreateOne(ctx, m)
			cancel()
			if err != nil {
				return fmt.Errorf("ensure indexes on %s: %w", col, err)
			}
		}
	}
	return nil
}

// call runs f with the store's deadline.
func (s *Store) call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return translate(f(ctx))
}

// write runs a write with the store's deadline, only while this process
// holds the writer lease.
func (s *Store) write(ctx context.Context, f func(ctx context.Context) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.lease.check(); err != nil {
		return err
	}
	return s.call(ctx, f)
}

// translate turns driver errors into domain errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return domain.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %w", domain.ErrDuplicate, err)
	case mongo.IsTimeout(err), mongo.IsNetworkError(err), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, mongo.ErrClientDisconnected), isServerSelection(err):
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
	}
	return err
}

// scopeFilter builds the filter of a scope: the record's own id, or its
// town field, in the scope's lists. The zero scope matches nothing.
func scopeFilter(sc domain.Scope, townField string) bson.D {
	if sc.All {
		return bson.D{}
	}
	var or bson.A
	if len(sc.IDs) > 0 {
		or = append(or, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: sc.IDs}}}})
	}
	if len(sc.TownIDs) > 0 && townField != "" {
		or = append(or, bson.D{{Key: townField, Value: bson.D{{Key: "$in", Value: sc.TownIDs}}}})
	}
	switch len(or) {
	case 0:
		// Deny: no document has a null _id.
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}
	case 1:
		return or[0].(bson.D)
	}
	return bson.D{{Key: "$or", Value: or}}
}

// and combines filters.
func and(fs ...bson.D) bson.D {
	var parts bson.A
	for _, f := range fs {
		if len(f) > 0 {
			parts = append(parts, f)
		}
	}
	switch len(parts) {
	case 0:
		return bson.D{}
	case 1:
		return parts[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: parts}}
}

// findPage reads one page of a collection in _id order (ids are
// time-ordered), decoding rows of type R and converting them with conv.
func findPage[R, T any](ctx context.Context, s *Store, col string, filter bson.D, p domain.Page, conv func(R) T) (domain.List[T], error) {
	return findPageOrdered(ctx, s, col, 1, filter, p, conv)
}

// findPageDesc is findPage newest first.
func findPageDesc[R, T any](ctx context.Context, s *Store, col string, filter bson.D, p domain.Page, conv func(R) T) (domain.List[T], error) {
	return findPageOrdered(ctx, s, col, -1, filter, p, conv)
}

func findPageOrdered[R, T any](ctx context.Context, s *Store, col string, order int, filter bson.D, p domain.Page, conv func(R) T) (domain.List[T], error) {
	limit := p.Limit
	if limit <= 0 || limit > domain.MaxPageLimit {
		limit = domain.DefaultPageLimit
	}
	if p.After != "" {
		cmp := "$gt"
		if order < 0 {
			cmp = "$lt"
		}
		filter = and(filter, bson.D{{Key: "_id", Value: bson.D{{Key: cmp, Value: p.After}}}})
	}
	var rows []R
	err := s.call(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(col).Find(ctx, filter,
			options.Find().SetSort(bson.D{{Key: "_id", Value: order}}).SetLimit(int64(limit+1)))
		if err != nil {
			return err
		}
		return cur.All(ctx, &rows)
	})
	if err != nil {
		return domain.List[T]{}, fmt.Errorf("list %s: %w", col, err)
	}
	out := domain.List[T]{Items: make([]T, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			break
		}
		out.Items = append(out.Items, conv(r))
	}
	if len(rows) > limit {
		out.Next = idOf(rows[limit-1])
	}
	return out, nil
}

// idOf returns the _id of a row type.
func idOf(r any) string {
	if x, ok := r.(interface{ id() string }); ok {
		return x.id()
	}
	return ""
}

// findOne decodes one document matching filter into a row.
func findOne[R any](ctx context.Context, s *Store, col string, filter bson.D) (R, error) {
	var r R
	err := s.call(ctx, func(ctx context.Context) error {
		return s.db.Collection(col).FindOne(ctx, filter).Decode(&r)
	})
	return r, err
}

// replace overwrites the document with the row's _id; ErrNotFound if absent.
func replace(ctx context.Context, s *Store, col, id string, row any) error {
	return s.write(ctx, func(ctx context.Context) error {
		res, err := s.db.Collection(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, row)
		if err != nil {
			return err
		}
		if res.MatchedCount == 0 {
			return mongo.ErrNoDocuments
		}
		return nil
	})
}

// insert adds one document.
func insert(ctx context.Context, s *Store, col string, row any) error {
	return s.write(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(col).InsertOne(ctx, row)
		return err
	})
}

func containsRegex(s string) bson.D {
	return bson.D{{Key: "$regex", Value: regexp.QuoteMeta(s)}}
}

// isServerSelection reports a driver error of no server to talk to.
func isServerSelection(err error) bool {
	var se topology.ServerSelectionError
	return errors.As(err, &se) || errors.Is(err, topology.ErrTopologyClosed)
}

// findAllLimit decodes up to limit documents matching filter (0: all), in
// the given order.
func findAllLimit[R any](ctx context.Context, s *Store, col string, filter, sort bson.D, limit int64) ([]R, error) {
	var rows []R
	err := s.call(ctx, func(ctx context.Context) error {
		o := options.Find()
		if sort != nil {
			o.SetSort(sort)
		}
		if limit > 0 {
			o.SetLimit(limit)
		}
		cur, err := s.db.Collection(col).Find(ctx, filter, o)
		if err != nil {
			return err
		}
		return cur.All(ctx, &rows)
	})
	return rows, err
}

// matchedBy runs an update or replace through run (s.call or s.write) and
// returns how many documents its filter matched.
func matchedBy(ctx context.Context, run func(context.Context, func(context.Context) error) error,
	op func(ctx context.Context) (*mongo.UpdateResult, error)) (int64, error) {
	var n int64
	err := run(ctx, func(ctx context.Context) error {
		res, err := op(ctx)
		if err != nil {
			return err
		}
		n = res.MatchedCount
		return nil
	})
	return n, err
}
