// Package sqlite implements zhucun's domain stores on SQLite itself
// (modernc.org/sqlite: pure Go, so the binary stays static), the embedded
// default: one file under the data directory holds everything.
//
// One connection writes and a pool of connections reads (WAL: readers never
// wait for the writer). Writes from concurrent requests are group-committed:
// the writer takes every write waiting, runs each in a savepoint of one
// transaction and commits once, so a failed write leaves nothing and a
// committed one survives a kill -9 (WAL, synchronous=NORMAL, see Open). A record, its audit
// entry and its count deltas are one write; the change sequence is assigned
// inside it, so the changes feed's order is the commit order.
//
// Field records live in one table with the columns their queries use
// (village, type, event time, sequence, tombstone) and the rest as JSON.
// The campaign's other entities are JSON documents of their domain types in
// tables with the columns they are filtered by; renaming a field of a stored
// domain type therefore needs a migration (schema.go). SQLite errors are
// translated into the domain's sentinels here and never leave the package.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"zhucun/domain"
	"zhucun/storage/internal/recdoc"
)

// FileName is the database file under the store's directory.
const FileName = "zhucun.db"

const (
	defaultTimeout = 10 * time.Second
	// maxGroup bounds the writes committed in one transaction.
	maxGroup = 512
)

// Options tune a Store.
type Options struct {
	// Timeout bounds every single storage call; zero means 10 s.
	Timeout time.Duration
	// Logger receives errors of background work; nil discards them.
	Logger *slog.Logger
	// Location is the campaign's time zone (recounts); nil means Asia/Shanghai.
	Location *time.Location
	// Readers is the size of the read pool; zero means 2 × GOMAXPROCS, at least 4.
	Readers int
	// Synchronous is SQLite's synchronous setting, NORMAL or FULL; empty
	// means NORMAL (see Open).
	Synchronous string
	// AuditSeal seals the audit entries into a chain; nil leaves them
	// unsealed (placed in the chain, without a seal).
	AuditSeal *domain.AuditSeal
	// Sealer encrypts the personal fields of records at rest; nil keeps
	// them plain (recdoc.Codec).
	Sealer domain.Sealer
}

// Store is the SQLite implementation of the domain's store interfaces.
type Store struct {
	path    string
	rdb     *sql.DB // the read pool
	wdb     *sql.DB // the one writing connection
	w       *writer
	timeout time.Duration
	log     *slog.Logger
	loc     *time.Location

	ledger domain.LedgerCache
	seal   *domain.AuditSeal
	codec  recdoc.Codec

	stmts  sync.Map // query text → *sql.Stmt on the read pool
	nstmts atomic.Int64
}

var (
	_ domain.OrgStore          = (*Store)(nil)
	_ domain.UserStore         = (*Store)(nil)
	_ domain.SessionStore      = (*Store)(nil)
	_ domain.AuditStore        = (*Store)(nil)
	_ domain.CatalogueStore    = (*Store)(nil)
	_ domain.CampaignStore     = (*Store)(nil)
	_ domain.ProblemStore      = (*Store)(nil)
	_ domain.TargetStore       = (*Store)(nil)
	_ domain.TeamStore         = (*Store)(nil)
	_ domain.TrainingStore     = (*Store)(nil)
	_ domain.OnPostStore       = (*Store)(nil)
	_ domain.AssessmentStore   = (*Store)(nil)
	_ domain.FieldCheckStore   = (*Store)(nil)
	_ domain.PhotoIndex        = (*Store)(nil)
	_ domain.PendingPhotoStore = (*Store)(nil)
	_ domain.RecordStore       = (*Store)(nil)
	_ domain.StatsStore        = (*Store)(nil)
	_ domain.LedgerSource      = (*Store)(nil)
)

// dsn is the connection string of a database file with the pragmas every
// connection runs first: busy_timeout before anything else (PocketBase's
// order), WAL, the synchronous setting, foreign keys, temp tables in memory.
func dsn(path, synchronous string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-4000)") // 4 MB a connection (the OS caches the file too)
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating when missing) the database in dir, applies the
// schema's migrations and starts the writer.
//
// synchronous=NORMAL (the default): with WAL, a commit returns after its
// pages are written to the WAL file, so an acknowledged write survives a
// kill -9 of the process (the operating system holds what was written);
// the WAL is synced at each checkpoint, so a power cut or a kernel crash
// can lose the last commits before one, never the database's consistency.
// FULL also syncs the WAL at every commit: durable across a power cut, at
// the cost of an fsync per group commit (measured in docs/performance.md).
func Open(ctx context.Context, dir string, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	switch o.Synchronous {
	case "":
		o.Synchronous = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("open sqlite: synchronous must be NORMAL or FULL, not %q", o.Synchronous)
	}
	if o.Readers <= 0 {
		o.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		o.Location = loc
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	path := filepath.Join(dir, FileName)
	wdb, err := sql.Open("sqlite", dsn(path, o.Synchronous, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	s := &Store{path: path, wdb: wdb, timeout: o.Timeout, log: o.Logger, loc: o.Location, seal: o.AuditSeal, codec: recdoc.Codec{Sealer: o.Sealer}}
	if err := s.migrate(ctx); err != nil {
		_ = wdb.Close()
		return nil, err
	}
	rdb, err := sql.Open("sqlite", dsn(path, o.Synchronous, true))
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	rdb.SetMaxOpenConns(o.Readers)
	rdb.SetMaxIdleConns(o.Readers)
	rdb.SetConnMaxIdleTime(5 * time.Minute)
	s.rdb = rdb
	if s.w, err = startWriter(ctx, wdb, o.Logger); err != nil {
		_ = rdb.Close()
		_ = wdb.Close()
		return nil, err
	}
	if err := s.startChain(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.sealPlainRecords(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close stops the writer (after the writes waiting) and closes the pools.
func (s *Store) Close(ctx context.Context) error {
	s.w.stop()
	s.stmts.Range(func(_, st any) bool { _ = st.(*sql.Stmt).Close(); return true })
	// A passive checkpoint so the next start has a short WAL to read.
	_, _ = s.wdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(s.rdb.Close(), s.wdb.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite: %w: %w", domain.ErrUnavailable, err)
	}
	return nil
}

// querier is what a read runs its queries on.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// read runs f on the read pool under the store's deadline, its queries
// prepared once (statements cache).
func (s *Store) read(ctx context.Context, f func(ctx context.Context, db querier) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return translate(f(ctx, (*preparedReads)(s)))
}

// preparedReads runs queries on the read pool through statements prepared
// once per text (database/sql prepares each on a connection when first
// used there). The texts are this package's own; past maxStmts distinct
// ones (lists of many lengths) a query is prepared for one use.
type preparedReads Store

func (p *preparedReads) stmt(ctx context.Context, q string) *sql.Stmt {
	if st, ok := p.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	if p.nstmts.Load() >= maxStmts {
		return nil
	}
	st, err := p.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := p.stmts.LoadOrStore(q, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt)
	}
	p.nstmts.Add(1)
	return st
}

func (p *preparedReads) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.rdb.QueryContext(ctx, q, args...)
}

func (p *preparedReads) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.rdb.QueryRowContext(ctx, q, args...)
}

// snapshot runs f in one read transaction, so every query in it sees the
// same committed state.
func (s *Store) snapshot(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer func() { _ = tx.Rollback() }()
	return translate(f(ctx, tx))
}

// write runs f as one write (a savepoint of the writer's next group
// commit) and returns when it is committed or failed.
func (s *Store) write(ctx context.Context, f func(tx *wtx) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return translate(s.w.do(ctx, f))
}

// translate turns SQLite errors into domain errors.
func translate(err error) error {
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return domain.ErrNotFound
	case errors.As(err, &se):
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", domain.ErrDuplicate, err)
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED, code&0xff == sqlite3.SQLITE_IOERR,
			code&0xff == sqlite3.SQLITE_FULL, code&0xff == sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errStopped):
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
	}
	return err
}
