package main

import (
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
	"zhucun/storage/sqlite"
)

// TestAuditVerifyFindsTampering: 'zhucun audit verify' passes an intact
// trail and finds an entry changed, one removed and one inserted in the
// database behind the server's back — each in a trail of its own.
func TestAuditVerifyFindsTampering(t *testing.T) {
	ctx := t.Context()
	trail := func(t *testing.T) (map[string]string, string) {
		dir := t.TempDir()
		env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_LOG_LEVEL": "error"}
		cfg, err := parseConfig(newFlagSet(), nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		st, err := openStores(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		users := userService(st.db, passwd.Fast(), func() time.Time { return time.Now().UTC() })
		if _, err := users.EnsureAdmin(ctx, "13900000000", testPassword); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			at := time.Now().UTC()
			if err := st.db.AppendAudit(ctx, domain.AuditEntry{ID: domain.NewID(at), At: at, UserID: "u1", Role: domain.RoleAdmin,
				Entity: "town", EntityID: "t1", Action: "update", Addr: "10.0.0.9", Outcome: domain.OutcomeSuccess, RequestID: string(rune('a' + i))}); err != nil {
				t.Fatal(err)
			}
		}
		st.close(ctx)
		return env, filepath.Join(dir, "sqlite", sqlite.FileName)
	}
	verify := func(env map[string]string) (string, error) {
		var out strings.Builder
		err := run(ctx, []string{"audit", "verify"}, func(k string) string { return env[k] }, nil, &out, io.Discard)
		return out.String(), err
	}
	tamper := func(t *testing.T, path, q string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := trail(t)
	if out, err := verify(env); err != nil || !strings.Contains(out, "intact: 5 entries") {
		t.Fatalf("an intact trail: %v %s", err, out)
	}
	for kind, q := range map[string]string{
		domain.ChainChanged:  "UPDATE audit SET action = 'delete' WHERE seq = 3",
		domain.ChainRemoved:  "DELETE FROM audit WHERE seq = 2",
		domain.ChainInserted: "INSERT INTO audit (id, at, user_id, role, entity, entity_id, action, request_id, town_id) VALUES ('forged', 0, 'u9', 'admin', 'user', 'u9', 'update', '', '')",
	} {
		t.Run(kind, func(t *testing.T) {
			env, path := trail(t)
			tamper(t, path, q)
			out, err := verify(env)
			if err == nil || !strings.HasPrefix(out, kind+":") || strings.Count(out, "\n") != 1 {
				t.Fatalf("verify after %q: %v\n%s", q, err, out)
			}
		})
	}
	// Another key does not check the trail.
	env["ZHUCUN_AUDIT_KEY"] = strings.Repeat("k", 40)
	if out, err := verify(env); err == nil {
		t.Fatalf("the trail checks under another key: %s", out)
	}
}
