package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Backup writes a consistent copy of the database in dir to file with
// VACUUM INTO: one read transaction, so a running server goes on writing
// (WAL readers do not block the writer) and the copy is the state of one
// moment. file must not exist.
func Backup(ctx context.Context, dir, file string) error {
	src := filepath.Join(dir, FileName)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no database at %s: %w", src, err)
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("backup: %s exists; name a new file", file)
	}
	db, err := sql.Open("sqlite", dsn(src, "FULL", false))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", file); err != nil {
		return fmt.Errorf("backup: %w", translate(err))
	}
	return nil
}

// Check opens a database file on its own and reports its schema version,
// failing unless SQLite finds it intact and this code can run it.
func Check(ctx context.Context, file string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return 0, fmt.Errorf("%s is not a readable SQLite database: %w", file, err)
	}
	if res != "ok" {
		return 0, fmt.Errorf("%s fails SQLite's integrity check: %s", file, res)
	}
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, err
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'records'").Scan(&n); err != nil || n != 1 || v < 1 {
		return 0, fmt.Errorf("%s is not a zhucun database", file)
	}
	if v > len(migrations) {
		return 0, fmt.Errorf("%s is at schema version %d, newer than this zhucun (%d)", file, v, len(migrations))
	}
	return v, nil
}

// Restore puts a backup in place of the database in dir, which nothing
// may have open (the caller holds the data directory's lock). The database
// it replaces is kept beside it as zhucun.db.before-restore-<time>.
func Restore(ctx context.Context, dir, file string, now time.Time) (kept string, err error) {
	if _, err := Check(ctx, file); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	dst := filepath.Join(dir, FileName)
	tmp := dst + ".restoring"
	if err := copyFile(file, tmp); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		// Fold the old database's WAL into it before it is set aside.
		if db, err := sql.Open("sqlite", dsn(dst, "FULL", false)); err == nil {
			_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
			_ = db.Close()
		}
		kept = dst + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(dst, kept); err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
	}
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return kept, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return kept, fmt.Errorf("restore: %w", err)
	}
	return kept, syncDir(dir)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LockDir takes a data directory's lock (DATA_DIR/zhucun.lock, an flock
// that the kernel drops when the process ends), or says that another
// process holds it: one process at a time on an embedded database.
func LockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "zhucun.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("another zhucun process is using %s (stop it first): %w", dir, err)
	}
	return f, nil
}
