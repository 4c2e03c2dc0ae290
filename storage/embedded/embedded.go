// Package embedded runs FerretDB in-process: the MongoDB-protocol server
// that the MongoDB store's tests, the API tests on that store and the
// benchmark run on (no MongoDB server can be had here). Its SQLite backend
// keeps one file per database in a directory; its PostgreSQL backend serves
// CI runs. The zhucun server itself does not use it.
//
// The server speaks the MongoDB wire protocol on a loopback port; callers
// connect to it with the ordinary MongoDB driver, so every code path is the
// one that runs against a real MongoDB deployment.
package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Config selects the backend of an embedded FerretDB.
type Config struct {
	// Dir holds the SQLite files. It is created when missing.
	Dir string
	// PostgreSQLURL, when set, selects the PostgreSQL backend instead of
	// SQLite, e.g. "postgres://user@127.0.0.1:5432/ferretdb".
	PostgreSQLURL string
	// Logger receives FerretDB's own errors; nil discards them.
	Logger *slog.Logger
	// Addr is the address to listen on; empty means a free port on 127.0.0.1.
	Addr string
}

// Server is a running embedded FerretDB.
type Server struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start launches FerretDB on a random loopback port and returns once it
// accepts connections. Stop must be called to release it.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	fc := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: cmp.Or(cfg.Addr, "127.0.0.1:0")},
		Logger:   logger,
	}
	if cfg.PostgreSQLURL != "" {
		fc.Handler = "postgresql"
		fc.PostgreSQLURL = cfg.PostgreSQLURL
	} else {
		if cfg.Dir == "" {
			return nil, errors.New("embedded: a directory is required for the SQLite backend")
		}
		abs, err := filepath.Abs(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("embedded: resolve %q: %w", cfg.Dir, err)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("embedded: create %q: %w", abs, err)
		}
		fc.Handler = "sqlite"
		fc.SQLiteURL = "file:" + abs + "/"
	}
	f, err := ferretdb.New(fc)
	if err != nil {
		return nil, fmt.Errorf("embedded: start FerretDB: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	// MongoDBURI blocks until the listener is bound.
	s.uri = f.MongoDBURI()
	return s, nil
}

// URI is the mongodb:// address of the running server.
func (s *Server) URI() string { return s.uri }

// Stop shuts the server down and waits, at most timeout, for it to close
// its backend so that every acknowledged write is on disk.
func (s *Server) Stop(timeout time.Duration) error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-time.After(timeout):
		return errors.New("embedded: FerretDB did not stop in time")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
