package main

import (
	"database/sql"
	"io"
	"log/slog"
	"os"
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
	openEnv := func(t *testing.T, env map[string]string) (Config, *stores) {
		t.Helper()
		cfg, err := parseConfig(newFlagSet(), nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		st, err := openStores(t.Context(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return cfg, st
	}
	ctx := t.Context()
	trail := func(t *testing.T) (map[string]string, string) {
		dir := t.TempDir()
		env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_LOG_LEVEL": "error"}
		_, st := openEnv(t, env)
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
	// Entries cut from the end are found through the anchor outside the database.
	t.Run("truncated", func(t *testing.T) {
		env, path := trail(t)
		cfg, st := openEnv(t, env)
		seal, _ := auditSeal(cfg)
		if err := writeAnchor(ctx, cfg.DataDir, st.db, *seal, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		st.close(ctx)
		tamper(t, path, "DELETE FROM audit WHERE seq >= 4")
		out, err := verify(env)
		if err == nil || !strings.Contains(out, "places 4 to 5 at the end are missing") {
			t.Fatalf("verify after the end was cut: %v\n%s", err, out)
		}
		// A forged anchor is found too.
		if err := os.WriteFile(filepath.Join(cfg.DataDir, anchorFile), []byte(`{"Seq":3,"Hash":"x","Seal":"y"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := verify(env); err == nil || !strings.Contains(out, "anchor is not sealed") {
			t.Fatalf("verify with a forged anchor: %v\n%s", err, out)
		}
	})
	// A prune from the shell keeps 180 days and leaves a chain that verifies.
	t.Run("prune", func(t *testing.T) {
		env, path := trail(t)
		prune := func(before string) (string, error) {
			var out strings.Builder
			err := run(ctx, []string{"audit", "prune", "-before", before}, func(k string) string { return env[k] }, nil, &out, io.Discard)
			return out.String(), err
		}
		if _, err := prune(time.Now().AddDate(0, 0, -30).Format(time.DateOnly)); err == nil || !strings.Contains(err.Error(), "180 days") {
			t.Fatalf("a prune of 30 days: %v", err)
		}
		// Age the first three entries by a year, resealing them as the store did.
		tamper(t, path, "UPDATE audit SET at = at - 366*86400000 WHERE seq <= 3")
		cfg, _ := parseConfig(newFlagSet(), nil, func(k string) string { return env[k] })
		seal, _ := auditSeal(cfg)
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, "SELECT id, at, user_id, role, entity, entity_id, action, request_id, town_id, addr, outcome, seq FROM audit ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		var entries []domain.AuditEntry
		for rows.Next() {
			var e domain.AuditEntry
			var at int64
			var role string
			if err := rows.Scan(&e.ID, &at, &e.UserID, &role, &e.Entity, &e.EntityID, &e.Action, &e.RequestID, &e.TownID, &e.Addr, &e.Outcome, &e.Seq); err != nil {
				t.Fatal(err)
			}
			e.At, e.Role = time.UnixMilli(at).UTC(), domain.Role(role)
			entries = append(entries, e)
		}
		rows.Close()
		prev := ""
		for _, e := range entries {
			seal.Seal(e.Seq-1, prev, &e)
			if _, err := db.ExecContext(ctx, "UPDATE audit SET hash = ? WHERE id = ?", e.Hash, e.ID); err != nil {
				t.Fatal(err)
			}
			prev = e.Hash
		}
		db.Close()
		out, err := prune(time.Now().AddDate(0, 0, -200).Format(time.DateOnly))
		if err != nil || !strings.Contains(out, "pruned 3 audit entries") {
			t.Fatalf("prune: %v %s", err, out)
		}
		if out, err := verify(env); err != nil || !strings.Contains(out, "intact: 3 entries") {
			t.Fatalf("verify after the prune: %v %s", err, out)
		}
	})
	// Another key does not check the trail.
	env["ZHUCUN_AUDIT_KEY"] = strings.Repeat("k", 40)
	if out, err := verify(env); err == nil {
		t.Fatalf("the trail checks under another key: %s", out)
	}
}
