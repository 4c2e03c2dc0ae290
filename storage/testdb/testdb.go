// Package testdb gives tests a MongoDB-protocol server: an embedded
// FerretDB on SQLite in a temporary directory by default, FerretDB on the
// PostgreSQL server named by ZHUCUN_TEST_POSTGRESQL_URL (as CI runs it), or
// the real MongoDB named by ZHUCUN_TEST_MONGO_URI.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"zhucun/storage/embedded"
)

// Server is a running test database server.
type Server struct {
	URI     string
	Backend string // "sqlite", "postgresql" or "mongodb"
	stop    func()
}

// Start starts (or names) the server for one test binary. Call it from
// TestMain and Stop it when the tests end.
func Start(ctx context.Context) (*Server, error) {
	if uri := os.Getenv("ZHUCUN_TEST_MONGO_URI"); uri != "" {
		return &Server{URI: uri, Backend: "mongodb", stop: func() {}}, nil
	}
	if pg := os.Getenv("ZHUCUN_TEST_POSTGRESQL_URL"); pg != "" {
		s, err := embedded.Start(ctx, embedded.Config{PostgreSQLURL: pg})
		if err != nil {
			return nil, fmt.Errorf("testdb: %w", err)
		}
		return &Server{URI: s.URI(), Backend: "postgresql", stop: func() { _ = s.Stop(10 * time.Second) }}, nil
	}
	dir, err := os.MkdirTemp("", "zhucun-testdb-")
	if err != nil {
		return nil, fmt.Errorf("testdb: %w", err)
	}
	s, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("testdb: %w", err)
	}
	return &Server{URI: s.URI(), Backend: "sqlite", stop: func() {
		_ = s.Stop(10 * time.Second)
		_ = os.RemoveAll(dir)
	}}, nil
}

// Stop stops the server and removes what it wrote.
func (s *Server) Stop() { s.stop() }

// NewName returns a fresh database name, so each test starts empty.
func NewName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t_" + hex.EncodeToString(b[:])
}
