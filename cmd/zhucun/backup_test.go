package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zhucun/domain"
)

// TestBackupAndRestore copies a running server's database, refuses to
// restore over a live server, and restores the copy into a fresh data
// directory whose server answers with the same records and counts.
func TestBackupAndRestore(t *testing.T) {
	if !onEmbedded() {
		t.Skip("backup and restore are of the embedded store")
	}
	dir := t.TempDir()
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1", "ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
	srv := startServe(t, env)
	_, tok := call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	token := tok["access_token"].(string)
	_, town := call(t, "POST", srv.base+"/api/v1/towns", token, map[string]any{"name": "杜店街道"})
	_, vil := call(t, "POST", srv.base+"/api/v1/villages", token, map[string]any{"name": "张八棍村", "townId": town["id"], "kind": "village"})
	report := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": vil["id"], "occurredAt": time.Now().Add(-time.Hour),
		"visitee": "household", "count": 6}
	if st, r := call(t, "POST", srv.base+"/api/v1/reports", token, report); st != 201 {
		t.Fatalf("create: %d %v", st, r)
	}
	file := filepath.Join(t.TempDir(), "zhucun-backup.db")
	if out, err := command(env, "backup", file).CombinedOutput(); err != nil {
		t.Fatalf("backup of a running server: %v %s", err, out)
	}
	if out, err := command(env, "backup", file).CombinedOutput(); err == nil || !strings.Contains(string(out), "exists") {
		t.Fatalf("a backup over an existing file: %v %s", err, out)
	}
	// A write after the backup is not in it.
	later := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": vil["id"], "occurredAt": time.Now().Add(-time.Hour),
		"visitee": "household", "count": 1}
	if st, _ := call(t, "POST", srv.base+"/api/v1/reports", token, later); st != 201 {
		t.Fatal("create after the backup")
	}
	if out, err := command(env, "restore", file).CombinedOutput(); err == nil || !strings.Contains(string(out), "another zhucun process") {
		t.Fatalf("restore over a live server: %v %s", err, out)
	}
	_ = srv.stop(t, syscall.SIGTERM)

	// Not a database: refused, nothing changed.
	junk := filepath.Join(t.TempDir(), "junk.db")
	_ = os.WriteFile(junk, []byte("not sqlite"), 0o600)
	if out, err := command(env, "restore", junk).CombinedOutput(); err == nil {
		t.Fatalf("restore of junk: %s", out)
	}
	fresh := map[string]string{"ZHUCUN_DATA_DIR": t.TempDir(), "ZHUCUN_LOG_LEVEL": "error", "ZHUCUN_SECOND_FACTOR_ROLES": "none"}
	if out, err := command(fresh, "restore", file).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	// The restored server signs with its own new secret: sign in again.
	srv = startServe(t, fresh)
	_, tok = call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	token = tok["access_token"].(string)
	if st, r := call(t, "GET", srv.base+"/api/v1/reports/"+report["id"].(string), token, nil); st != 200 || r["count"].(float64) != 6 {
		t.Fatalf("the backed-up report: %d %v", st, r)
	}
	if st, _ := call(t, "GET", srv.base+"/api/v1/reports/"+later["id"].(string), token, nil); st != 404 {
		t.Fatalf("a report written after the backup: %d", st)
	}
	_ = srv.stop(t, syscall.SIGTERM)
	if out, err := command(fresh, "stats", "verify").CombinedOutput(); err != nil {
		t.Fatalf("stats verify after the restore: %v %s", err, out)
	}
	// Restoring over a stopped server's database keeps the old one aside.
	out, err := command(env, "restore", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "before-restore") {
		t.Fatalf("restore over a database: %v %s", err, out)
	}
}

// TestRefusesFerretDBDataDir: a data directory the earlier FerretDB
// default wrote stops the start with a message saying so, instead of a
// server that starts empty beside the old data.
func TestRefusesFerretDBDataDir(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "db"), 0o700)
	_ = os.WriteFile(filepath.Join(dir, "db", "zhucun.sqlite"), []byte("x"), 0o600)
	out, err := command(map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADDR": freeAddr(t)}, "serve").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "earlier FerretDB default") || !strings.Contains(string(out), "zhucun-convert") {
		t.Fatalf("serve on a FerretDB data dir: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "sqlite", "zhucun.db")); err == nil {
		t.Fatal("a new database was made beside the old one")
	}
}
