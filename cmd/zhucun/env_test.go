package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"zhucun/api"
	"zhucun/crypt"
	"zhucun/domain"
	"zhucun/passwd"
	"zhucun/storage/blob/blobtest"
	"zhucun/storage/mongo"
	"zhucun/storage/sqlite"
	"zhucun/storage/testdb"
	"zhucun/wechat"
)

// dbServer is the MongoDB-protocol server of a run on the MongoDB store
// (ZHUCUN_TEST_STORE=mongo; testdb says which server); nil on the default
// run, whose stores are SQLite databases in temporary directories.
var dbServer *testdb.Server

// onEmbedded reports whether this run is the default one, on SQLite: the
// tests that run the real binary on its embedded store run only there.
func onEmbedded() bool { return dbServer == nil }

func TestMain(m *testing.M) {
	// The serve tests run this test binary as the zhucun command in a child
	// process, on its embedded store, as in production.
	if os.Getenv("ZHUCUN_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	if os.Getenv("ZHUCUN_TEST_STORE") == "mongo" {
		var err error
		dbServer, err = testdb.Start(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if dbServer != nil {
		dbServer.Stop()
	}
	os.Exit(code)
}

// openTestStore opens a fresh, empty store: SQLite in a temporary
// directory, or a new database on the run's MongoDB-protocol server.
func openTestStore(t testing.TB, loc *time.Location) Store {
	return openTestStoreWith(t, loc, testSealer(t, crypt.Default), &testSeal)
}

// openTestStoreWith opens a fresh store with a data sealer and an audit seal.
func openTestStoreWith(t testing.TB, loc *time.Location, sealer *crypt.Sealer, seal *domain.AuditSeal) Store {
	t.Helper()
	var store Store
	var err error
	if dbServer != nil {
		store, err = mongo.Open(context.Background(), dbServer.URI, testdb.NewName(), mongo.Options{Location: loc, AuditSeal: seal, Sealer: sealer})
	} else {
		store, err = sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{Location: loc, AuditSeal: seal, Sealer: sealer})
	}
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// testSeal seals the test stores' audit trails.
var testSeal = domain.AuditSeal{Key: []byte("the API tests' audit key, 32 bytes+"), SM3: crypt.SM3}

// testDataKey is the test servers' data key.
const testDataKey = "the API tests' data key, 32 bytes or more"

func testSealer(t testing.TB, suite string) *crypt.Sealer {
	t.Helper()
	s, err := crypt.NewSealer(suite, []byte(testDataKey))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// env is one in-process server on a fresh database.
type env struct {
	api    *api.API
	store  Store
	spec   *spec
	wechat *fakeWeChat
	logs   *bytes.Buffer
	clock  *clock
	blobs  domain.BlobStore
	photos domain.PhotoService
	notify domain.NotifyService
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the time and moves it on by a millisecond, as a real clock
// would between two calls.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// Set moves the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testConfig is the configuration tests build servers from.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg, err := parseConfig(newFlagSet(), nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// With a test S3 server (CI starts versitygw), every test keeps its
	// photos there, in a fresh bucket; else on local disk.
	if s3 := blobtest.S3Config(); s3 != nil {
		cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Bucket = s3.Endpoint, s3.AccessKey, s3.SecretKey, s3.Bucket
	}
	// The tests of the campaign's work sign in with one factor and keep
	// their passwords; security_test.go runs the deployment's policy
	// (secureConfig): first-sign-in change, expiry and second factors.
	cfg.PasswordFirstChange, cfg.PasswordMaxAge, cfg.SecondFactorRoles = false, 0, nil
	return cfg
}

// secureConfig is the deployment's default policy, for the security tests.
func secureConfig(c *Config) {
	c.PasswordFirstChange, c.PasswordMaxAge = true, 90*24*time.Hour
	c.SecondFactorRoles = []domain.Role{domain.RoleAdmin, domain.RoleSysAdmin, domain.RoleSecAdmin, domain.RoleAuditAdmin, domain.RoleLeader}
}

func newEnv(t testing.TB) *env { return newEnvWith(t, nil) }

// newEnvWith builds a server whose configuration edit may change.
func newEnvWith(t testing.TB, edit func(*Config)) *env {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	fw := newFakeWeChat(t)
	cfg := testConfig(t)
	cfg.WeChatAppID, cfg.WeChatSecret = "wxapp", "wxsecret"
	cfg.WeChatBase = fw.srv.URL
	cfg.WeChatTemplates = testTemplates
	cfg.DataDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	seal := testSeal
	seal.UseSM3 = cfg.Crypto == crypt.National
	sealer := testSealer(t, cfg.Crypto)
	store := openTestStoreWith(t, loc, sealer, &seal)
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	signer, err := tokenSigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blobs, _, err := openBlobs(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	b, err := build(cfg, deps{
		store: store, now: clk.Now, hasher: passwd.Fast(), wechat: newWeChat(cfg),
		log:    slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil)),
		secret: []byte("test-secret-test-secret-test-secret!"), sealer: sealer, signer: signer,
		phone: domain.ThrottlePolicy{Free: 3, Base: time.Second, Max: time.Minute, Window: time.Hour, MaxKeys: 1000},
		addr:  domain.ThrottlePolicy{Free: 50, Base: time.Second, Max: time.Minute, Window: time.Hour, MaxKeys: 1000},
		blobs: blobs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{api: b.api, store: store, spec: loadSpec(t), wechat: fw, logs: logs, clock: clk, blobs: blobs, photos: b.photos, notify: b.notify}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// resp is an answer, with its JSON decoded when it is JSON.
type resp struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r *resp) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

func (r *resp) items() []map[string]any {
	l, _ := r.json["items"].([]any)
	out := make([]map[string]any, len(l))
	for i, x := range l {
		out[i] = x.(map[string]any)
	}
	return out
}

// req is a request to send.
type req struct {
	method, path, token string
	body                any // marshalled as JSON unless a string or []byte
	contentType         string
	header              map[string]string
}

// do sends a request in-process and checks the answer against openapi.yaml.
func (e *env) do(t testing.TB, r req) *resp {
	t.Helper()
	return e.send(t, r, true)
}

// send sends a request in-process; check also checks the answer against
// openapi.yaml (benchmarks leave that out, to measure the server alone).
func (e *env) send(t testing.TB, r req, check bool) *resp {
	t.Helper()
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.api.App.Test(hr, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := &resp{status: res.StatusCode, header: res.Header, body: b}
	if strings.Contains(res.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(b, &out.json)
	}
	if !check {
		return out
	}
	e.spec.checkResponse(t, hr, res.StatusCode, res.Header, b)
	if strings.Contains(res.Header.Get("Content-Type"), "problem+json") {
		checkProblem(t, r, out)
	}
	return out
}

// checkProblem asserts the RFC 9457 shape every error shares.
func checkProblem(t testing.TB, r req, p *resp) {
	t.Helper()
	if p.status < 400 {
		t.Errorf("%s %s: problem body with status %d", r.method, r.path, p.status)
	}
	if int(p.json["status"].(float64)) != p.status {
		t.Errorf("%s %s: problem status %v != HTTP %d", r.method, r.path, p.json["status"], p.status)
	}
	if p.str("requestId") == "" || p.str("requestId") != p.header.Get("X-Request-ID") {
		t.Errorf("%s %s: problem requestId %q, header %q", r.method, r.path, p.str("requestId"), p.header.Get("X-Request-ID"))
	}
	if p.status >= 500 && (strings.Contains(string(p.body), "goroutine") || strings.Contains(string(p.body), ".go:")) {
		t.Errorf("%s %s: 5xx leaks internals: %s", r.method, r.path, p.body)
	}
}

// want fails unless the answer has the status (and, for problems, the code).
func want(t testing.TB, r *resp, status int, code ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, trim(r.body))
	}
	if len(code) > 0 && r.str("code") != code[0] {
		t.Fatalf("code %q, want %q; body %s", r.str("code"), code[0], trim(r.body))
	}
}

// fakeWeChat answers jscode2session as WeChat does: codes "good-N" map to
// openid "openid-N"; "used" and "bad" are refused; "busy" is system busy.
// It also answers stable_token and subscribeMessage.send (notify_test.go).
type fakeWeChat struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls int
	push  pushServer
}

func newFakeWeChat(t testing.TB) *fakeWeChat {
	f := &fakeWeChat{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls++
		f.mu.Unlock()
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/plain") // WeChat sends JSON as text/plain
		if strings.HasPrefix(r.URL.Path, "/cgi-bin/") {
			f.push.serve(w, r)
			return
		}
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "wxapp" || q.Get("secret") != "wxsecret" || q.Get("grant_type") != "authorization_code" {
			fmt.Fprint(w, `{"errcode":40013,"errmsg":"invalid appid"}`)
			return
		}
		code := q.Get("js_code")
		switch {
		case strings.HasPrefix(code, "good-"):
			fmt.Fprintf(w, `{"openid":"openid-%s","session_key":"sk"}`, strings.TrimPrefix(code, "good-"))
		case code == "used":
			fmt.Fprint(w, `{"errcode":40163,"errmsg":"code been used"}`)
		case code == "busy":
			fmt.Fprint(w, `{"errcode":-1,"errmsg":"system error"}`)
		case code == "garbage": // a proxy's error page
			fmt.Fprint(w, `<html><body>502 Bad Gateway</body></html>`)
		case code == "huge": // an answer far past any real one
			fmt.Fprintf(w, `{"openid":"openid-huge","session_key":"%s"}`, strings.Repeat("k", 1<<20))
		case code == "typed": // fields of the wrong types
			fmt.Fprint(w, `{"openid":12345,"errcode":"0"}`)
		default:
			fmt.Fprint(w, `{"errcode":40029,"errmsg":"invalid code"}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

var _ = wechat.DefaultBase

// fixture is the org every access test runs on: towns A and B; villages A1,
// A2 in A and B1 in B; and one account of each role.
type fixture struct {
	townA, townB           string
	villA1, villA2, villB1 string
	tokens                 map[domain.Role]string
	ids                    map[domain.Role]string
	cadreB, cadreBID       string // a cadre of B1
	adminPhone, adminPass  string
	phones                 map[domain.Role]string
	c                      *campaignFixture // set by tests that build it
	// feedback is one complaint or suggestion each role sent (access tests).
	feedback map[domain.Role]string
	// blobURL signs a link to a stored object as the photo service does.
	blobURL func(key string) string
}

const testPassword = "pass-word-1"

func (e *env) fixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	users := userService(e.store, passwd.Fast(), e.clock.Now)
	if _, err := users.EnsureAdmin(ctx, "13900000000", testPassword); err != nil {
		t.Fatal(err)
	}
	f := &fixture{tokens: map[domain.Role]string{}, ids: map[domain.Role]string{}, phones: map[domain.Role]string{},
		adminPhone: "13900000000", adminPass: testPassword}
	f.blobURL = func(key string) string { return e.photos.Signer.URL(key, "image/jpeg", e.clock.Now().Add(time.Minute)) }
	f.tokens[domain.RoleAdmin] = e.login(t, f.adminPhone, testPassword)
	admin := f.tokens[domain.RoleAdmin]
	// The three administrators of separated duties, made from the shell.
	for i, r := range []domain.Role{domain.RoleSysAdmin, domain.RoleSecAdmin, domain.RoleAuditAdmin} {
		phone := fmt.Sprintf("1390000006%d", i)
		u, err := users.Create(ctx, domain.System("test"), domain.UserInput{Name: "测试" + string(r), Phone: phone, Password: testPassword, Role: r})
		if err != nil {
			t.Fatal(err)
		}
		f.ids[r], f.phones[r], f.tokens[r] = u.ID, phone, e.login(t, phone, testPassword)
	}
	sysAdmin := f.tokens[domain.RoleSysAdmin]
	mk := func(path string, body any) string {
		tok := admin
		if path == "/api/v1/users" {
			tok = sysAdmin
		}
		r := e.do(t, req{method: "POST", path: path, token: tok, body: body})
		want(t, r, 201)
		return r.str("id")
	}
	f.townA = mk("/api/v1/towns", map[string]any{"name": "市东街道"})
	f.townB = mk("/api/v1/towns", map[string]any{"name": "三河湖镇"})
	f.villA1 = mk("/api/v1/villages", map[string]any{"name": "西王居委会", "townId": f.townA, "kind": "community"})
	f.villA2 = mk("/api/v1/villages", map[string]any{"name": "王家村", "townId": f.townA, "kind": "village"})
	f.villB1 = mk("/api/v1/villages", map[string]any{"name": "肖家村", "townId": f.townB, "kind": "village"})
	accounts := []struct {
		role  domain.Role
		phone string
		body  map[string]any
	}{
		{domain.RoleLeader, "13900000001", map[string]any{}},
		{domain.RoleTownAdmin, "13900000002", map[string]any{"townId": f.townA}},
		{domain.RoleTeamLeader, "13900000003", map[string]any{"villageIds": []string{f.villA1}}},
		{domain.RoleCadre, "13900000004", map[string]any{"villageIds": []string{f.villA1}}},
	}
	f.ids[domain.RoleAdmin] = e.do(t, req{method: "GET", path: "/api/v1/me", token: admin}).str("id")
	f.phones[domain.RoleAdmin] = f.adminPhone
	for _, a := range accounts {
		a.body["name"], a.body["phone"], a.body["password"], a.body["role"] = "测试"+string(a.role), a.phone, testPassword, string(a.role)
		f.ids[a.role] = mk("/api/v1/users", a.body)
		f.tokens[a.role] = e.login(t, a.phone, testPassword)
		f.phones[a.role] = a.phone
	}
	f.cadreBID = mk("/api/v1/users", map[string]any{"name": "乙村干部", "phone": "13900000009", "password": testPassword,
		"role": "cadre", "villageIds": []string{f.villB1}})
	return f
}

func (e *env) login(t testing.TB, phone, password string) string {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": phone, "password": password}})
	want(t, r, 200)
	return r.str("access_token")
}

func urlq(s string) string { return url.QueryEscape(s) }
