package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"zhucun/crypt"
	"zhucun/domain"
	"zhucun/storage/sqlite"
)

// tokenAlg is the alg of a token's header.
func tokenAlg(t *testing.T, tok string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ Alg string }
	if err := json.Unmarshal(h, &head); err != nil {
		t.Fatal(err)
	}
	return head.Alg
}

// TestNationalSuite runs a server on ZHUCUN_CRYPTO=gm: tokens are signed
// with SM2, personal fields and factor secrets sealed with SM4, the audit
// chain sealed with HMAC-SM3, and it all works as on the default suite.
func TestNationalSuite(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.Crypto = crypt.National })
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	if alg := tokenAlg(t, cadre); alg != "SM2SM3" {
		t.Fatalf("token alg %s", alg)
	}
	// An HS256 token made with the JWT secret is refused: the suite's signature only.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, accessJWT(f.ids[domain.RoleAdmin])).SignedString([]byte("test-secret-test-secret-test-secret!"))
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: forged}), 401, "invalid_token")

	id := domain.NewID(e.clock.Now())
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": id, "kind": "visit",
		"villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 2, "names": []string{"张三丰", "李四光"}}}), 201)
	got := e.do(t, req{method: "GET", path: "/api/v1/reports/" + id, token: cadre})
	want(t, got, 200)
	if !strings.Contains(string(got.body), "张三丰") {
		t.Fatalf("the names do not come back: %s", got.body)
	}
	raw, err := e.store.GetRecord(context.Background(), id)
	if err != nil || raw.Report == nil || len(raw.Report.Names) != 2 {
		t.Fatalf("store read: %+v %v", raw, err)
	}
	if s, ok := e.store.(*sqlite.Store); ok {
		doc := rawRecordDoc(t, s, id)
		if strings.Contains(doc, "张三丰") || !strings.Contains(doc, `"sealed":"s1:`) {
			t.Fatalf("stored as %s", doc)
		}
	}
	// The audit chain is sealed with HMAC-SM3 and verifies.
	seal := testSeal
	seal.UseSM3 = true
	v := domain.AuditVerifier{Seal: seal}
	n := 0
	if err := e.store.AuditChain(context.Background(), func(a domain.AuditEntry) error {
		if a.Hash != "" && !strings.HasPrefix(a.Hash, "sm3:") {
			t.Errorf("entry %d sealed %s", a.Seq, a.Hash)
		}
		n++
		v.Add(a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n == 0 || len(v.Problems) > 0 {
		t.Fatalf("%d entries, problems %v", n, v.Problems)
	}
}

// accessJWT is the claims of an access token for an account.
func accessJWT(sub string) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{Issuer: "zhucun", Subject: sub, Audience: jwt.ClaimStrings{"zhucun-api"},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
}

// rawRecordDoc is a record's document as SQLite holds it, read on a
// connection of its own.
func rawRecordDoc(t *testing.T, s *sqlite.Store, id string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var doc string
	if err := db.QueryRow("SELECT doc FROM records WHERE id = ?", id).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSwitchToNationalSuite switches a deployment's suite as
// docs/security.md says: what was sealed before still opens, the audit
// chain verifies across the switch, and sessions sign in again.
func TestSwitchToNationalSuite(t *testing.T) {
	if !onEmbedded() {
		t.Skip("serve's embedded store is SQLite; this run checks another backend")
	}
	dir := t.TempDir()
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1",
		"ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
	srv := startServe(t, env)
	_, tok := call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	old := tok["access_token"].(string)
	_, town := call(t, "POST", srv.base+"/api/v1/towns", old, map[string]any{"name": "杜店街道"})
	_, vil := call(t, "POST", srv.base+"/api/v1/villages", old, map[string]any{"name": "张八棍村", "townId": town["id"], "kind": "village"})
	before := domain.NewID(time.Now())
	if st, r := call(t, "POST", srv.base+"/api/v1/reports", old, map[string]any{"id": before, "kind": "visit", "villageId": vil["id"],
		"occurredAt": time.Now().Add(-time.Hour), "visitee": "household", "count": 1, "names": []string{"郭集人"}}); st != 201 {
		t.Fatalf("create: %d %v", st, r)
	}
	_ = srv.stop(t, syscall.SIGTERM)

	env["ZHUCUN_CRYPTO"] = "gm"
	srv = startServe(t, env)
	if st, _ := call(t, "GET", srv.base+"/api/v1/me", old, nil); st != 401 {
		t.Fatalf("an HS256 session after the switch: %d", st)
	}
	_, tok = call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	access := tok["access_token"].(string)
	if alg := tokenAlg(t, access); alg != "SM2SM3" {
		t.Fatalf("alg after the switch: %s", alg)
	}
	st, r := call(t, "GET", srv.base+"/api/v1/reports/"+before, access, nil)
	if names, _ := r["names"].([]any); st != 200 || len(names) != 1 || names[0] != "郭集人" {
		t.Fatalf("a record sealed before the switch: %d %v", st, r)
	}
	after := domain.NewID(time.Now())
	if st, r := call(t, "POST", srv.base+"/api/v1/reports", access, map[string]any{"id": after, "kind": "visit", "villageId": vil["id"],
		"occurredAt": time.Now().Add(-time.Hour), "visitee": "household", "count": 1, "names": []string{"东玉人"}}); st != 201 {
		t.Fatalf("create after the switch: %d %v", st, r)
	}
	if info, err := os.Stat(filepath.Join(dir, "jwt-sm2.pem")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("jwt-sm2.pem: %v %v", info, err)
	}
	_ = srv.stop(t, syscall.SIGTERM)
	// Each start put its security configuration in the trail.
	cfg, err := parseConfig(newFlagSet(), nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	stores, err := openStores(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	starts, err := stores.db.ListAudit(t.Context(), domain.AuditFilter{Entity: "config"}, domain.Page{Limit: 10})
	stores.close(t.Context())
	if err != nil || len(starts.Items) != 2 || !strings.HasPrefix(starts.Items[0].EntityID, "crypto=default ") || !strings.HasPrefix(starts.Items[1].EntityID, "crypto=gm ") {
		t.Fatalf("the starts in the trail: %+v %v", starts.Items, err)
	}
	var out strings.Builder
	if err := run(t.Context(), []string{"audit", "verify"}, func(k string) string { return env[k] }, nil, &out, io.Discard); err != nil {
		t.Fatalf("audit verify across the switch: %v\n%s", err, out.String())
	}
}
