package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// errStopped answers writes sent after the store was closed.
var errStopped = errors.New("sqlite store is closed")

// commitTimeout bounds one group transaction: a group of small writes
// takes milliseconds; a recount that replaces the counts (RebuildStats)
// runs as one write and may take minutes.
const commitTimeout = 30 * time.Minute

// writer owns the one writing connection. Writes queue on reqs; the loop
// takes every write waiting (up to maxGroup), runs each in a savepoint of
// one transaction, commits once and answers each. One write failing rolls
// back its savepoint only.
type writer struct {
	db    *sql.DB
	conn  *sql.Conn // the one writing connection, owned by the loop
	stmts map[string]*sql.Stmt
	reqs  chan *writeReq
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	log   *slog.Logger
	seq   int64 // the last change number handed out; only the loop touches it
}

type writeReq struct {
	ctx  context.Context
	fn   func(*wtx) error
	errc chan error
}

// wtx is what a write sees: the connection in the group's transaction,
// the change sequence and hooks that run once the group is committed.
type wtx struct {
	ctx   context.Context
	w     *writer
	after []func()
}

func startWriter(ctx context.Context, db *sql.DB, log *slog.Logger) (*writer, error) {
	w := &writer{db: db, stmts: map[string]*sql.Stmt{}, reqs: make(chan *writeReq, maxGroup), quit: make(chan struct{}),
		done: make(chan struct{}), log: log}
	ctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	conn, err := db.Conn(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.conn = conn
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM records").Scan(&w.seq); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open sqlite: read the change sequence: %w", err)
	}
	go w.loop()
	return w, nil
}

// do queues a write and waits for its outcome. When ctx ends first the
// write may still commit; the caller was not told it did, and a resend is
// recognised.
func (w *writer) do(ctx context.Context, fn func(*wtx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-w.quit:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop lets the writes queued finish, then ends the loop.
func (w *writer) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	defer func() {
		for _, st := range w.stmts {
			_ = st.Close()
		}
		_ = w.conn.Close()
	}()
	batch := make([]*writeReq, 0, maxGroup)
	for {
		batch = batch[:0]
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		case <-w.quit:
			// Answer what is still queued, then stop.
			for {
				select {
				case r := <-w.reqs:
					batch = append(batch, r)
					if len(batch) == maxGroup {
						w.commit(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						w.commit(batch)
					}
					return
				}
			}
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

// commit runs a group in one transaction and answers every write in it.
// The loop owns the connection, so it begins and ends the transaction
// itself (BEGIN IMMEDIATE: the write lock is taken at once) and keeps its
// prepared statements from one group to the next.
func (w *writer) commit(batch []*writeReq) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	var after []func()
	top := &wtx{ctx: ctx, w: w}
	if _, err := top.exec("BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.errc <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err // the caller gave up before it ran: nothing is written
			continue
		}
		t := &wtx{ctx: ctx, w: w}
		if _, err := t.exec("SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		errs[i] = r.fn(t)
		if errs[i] != nil {
			if _, err := t.exec("ROLLBACK TO w"); err != nil {
				errs[i] = errors.Join(errs[i], err)
			}
		} else {
			after = append(after, t.after...)
		}
		if _, err := t.exec("RELEASE w"); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	if _, err := top.exec("COMMIT"); err != nil {
		_, _ = top.exec("ROLLBACK")
		w.log.Error("group commit failed", "writes", len(batch), "err", err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
		after = nil
	}
	for _, f := range after {
		f()
	}
	for i, r := range batch {
		r.errc <- errs[i]
	}
}

// exec runs a statement of the write.
func (t *wtx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

// queryRow runs a query of the write, which sees the group's writes so far.
func (t *wtx) queryRow(q string, args ...any) *sql.Row {
	st, err := t.stmt(q)
	if err != nil {
		return t.w.conn.QueryRowContext(t.ctx, q, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// query runs a query of the write.
func (t *wtx) query(q string, args ...any) (*sql.Rows, error) {
	return t.w.conn.QueryContext(t.ctx, q, args...)
}

// QueryContext lets a write be read like a database (recounts).
func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.w.conn.QueryContext(ctx, q, args...)
}

// nextSeq hands out the next change number. A write rolled back leaves a
// gap, which readers of the changes feed never notice.
func (t *wtx) nextSeq() int64 {
	t.w.seq++
	return t.w.seq
}

// onCommit runs f once the write's group is committed.
func (t *wtx) onCommit(f func()) { t.after = append(t.after, f) }

// stmt is a statement prepared once on the writing connection. The texts
// are this package's own, a bounded set; past maxStmts (lists of many
// lengths) a statement is prepared for one use.
func (t *wtx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := t.w.stmts[q]; ok {
		return st, nil
	}
	st, err := t.w.conn.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	if len(t.w.stmts) < maxStmts {
		t.w.stmts[q] = st
	} else {
		t.after = append(t.after, func() { _ = st.Close() })
	}
	return st, nil
}

// maxStmts bounds each statement cache.
const maxStmts = 256
