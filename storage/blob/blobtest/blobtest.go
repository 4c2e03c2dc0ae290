// Package blobtest gives tests every photo store backend they can run
// against: local disk always, and an S3 server when ZHUCUN_TEST_S3 names
// one ("endpoint accessKey secretKey", as .ci/run starts versitygw), each
// test with a fresh bucket.
package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"zhucun/domain"
	"zhucun/storage/blob"
)

// Backend is one store under test.
type Backend struct {
	Name  string
	Store domain.BlobStore
	// S3 is the configuration of an S3 backend (nil for local disk).
	S3 *blob.S3Config
}

// S3Config returns the test S3 server's settings with a fresh bucket
// name, or nil when none is configured.
func S3Config() *blob.S3Config {
	f := strings.Fields(os.Getenv("ZHUCUN_TEST_S3"))
	if len(f) != 3 {
		return nil
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &blob.S3Config{Endpoint: f[0], AccessKey: f[1], SecretKey: f[2], Bucket: "zhucun-test-" + hex.EncodeToString(b[:])}
}

// Backends opens every backend available to this run.
func Backends(t testing.TB) []Backend {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := []Backend{{Name: "local", Store: local}}
	if cfg := S3Config(); cfg != nil {
		s3, err := blob.NewS3(context.Background(), *cfg)
		if err != nil {
			t.Fatalf("S3 test server: %v", err)
		}
		out = append(out, Backend{Name: "s3", Store: s3, S3: cfg})
	}
	return out
}
