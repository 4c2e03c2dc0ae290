// Package blob keeps photo bytes: on local disk for the embedded default,
// or in any S3 server (MinIO in production) through minio-go. Both report
// a missing object as domain.ErrNotFound and pass one test suite.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"zhucun/domain"
)

var _ domain.BlobStore = (*Local)(nil)

// Local keeps objects as files under a root directory: each key in a
// subdirectory named by two of its characters (so no directory grows too
// large), written to a temporary file and renamed into place, so a reader
// never sees half an object and a crash leaves none.
type Local struct {
	root string
}

// NewLocal opens (creating) a store under root.
func NewLocal(root string) (*Local, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("photo store: %w", err)
	}
	return &Local{root: root}, nil
}

// path maps a key to its file; keys that are not the service's own (a
// "/", "..", anything else) are refused, so no path leaves the root.
func (l *Local) path(key string) (string, error) {
	if !domain.ValidBlobKey(key) {
		return "", fmt.Errorf("photo store: bad key %q: %w", key, domain.ErrNotFound)
	}
	return filepath.Join(l.root, key[len(key)-2:], key), nil
}

// Put writes r to a temporary file, syncs it and renames it to the key.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "put-*")
	if err != nil {
		return 0, fmt.Errorf("photo store: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // gone after the rename; removes a failed one
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(p), 0o750)
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return 0, fmt.Errorf("photo store: put %s: %w", key, err)
	}
	return n, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func notFound(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("photo store: %s: %w", key, domain.ErrNotFound)
	}
	return fmt.Errorf("photo store: %s: %w", key, err)
}

// Get opens the object's file.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(key, err)
	}
	return f, nil
}

// Stat returns the object's size (local files keep no content type).
func (l *Local) Stat(_ context.Context, key string) (domain.BlobInfo, error) {
	p, err := l.path(key)
	if err != nil {
		return domain.BlobInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return domain.BlobInfo{}, notFound(key, err)
	}
	return domain.BlobInfo{Size: fi.Size()}, nil
}

// Move renames the object's file.
func (l *Local) Move(_ context.Context, from, to string) error {
	src, err := l.path(from)
	if err != nil {
		return err
	}
	dst, err := l.path(to)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("photo store: %w", err)
	}
	if err := os.Rename(src, dst); err != nil {
		return notFound(from, err)
	}
	return nil
}

// Delete removes the object's file; a missing one is no error.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("photo store: delete %s: %w", key, err)
	}
	return nil
}

// Ping checks the root is a writable directory.
func (l *Local) Ping(_ context.Context) error {
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "ping-*")
	if err != nil {
		return fmt.Errorf("photo store: %w", err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// CleanTemp removes temporary files older than age (left by a crash mid-write).
func (l *Local) CleanTemp(age time.Duration) error {
	dir := filepath.Join(l.root, "tmp")
	es, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("photo store: %w", err)
	}
	for _, e := range es {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > age {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}
