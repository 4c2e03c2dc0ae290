package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"ZHUCUN_ADDR":            {"ZHUCUN_ADDR": "8080"},
		"ZHUCUN_TZ":              {"ZHUCUN_TZ": "Mars/Olympus"},
		"ZHUCUN_MONGO_URI":       {"ZHUCUN_MONGO_URI": "postgres://x"},
		"ZHUCUN_JWT_SECRET":      {"ZHUCUN_JWT_SECRET": "short"},
		"ZHUCUN_ADMIN_PHONE":     {"ZHUCUN_ADMIN_PHONE": "13900000000"},
		"ZHUCUN_TLS_CERT_FILE":   {"ZHUCUN_TLS_CERT_FILE": "/x.pem"},
		"ZHUCUN_CORS_ORIGINS":    {"ZHUCUN_CORS_ORIGINS": "example.com"},
		"ZHUCUN_ACCESS_TTL":      {"ZHUCUN_ACCESS_TTL": "forever"},
		"ZHUCUN_WECHAT_APPID":    {"ZHUCUN_WECHAT_APPID": "wx1"},
		"ZHUCUN_PROXY_HEADER":    {"ZHUCUN_PROXY_HEADER": "X-Forwarded-For"},
		"ZHUCUN_JWT_SECRET_FILE": {"ZHUCUN_JWT_SECRET_FILE": "/does/not/exist"},
		"ZHUCUN_LOG_LEVEL":       {"ZHUCUN_LOG_LEVEL": "loud"},
		"ZHUCUN_SQLITE_SYNC":     {"ZHUCUN_SQLITE_SYNC": "OFF"},
		"ZHUCUN_LEASE_TTL":       {"ZHUCUN_LEASE_TTL": "1ms"},
	}
	for name, vars := range cases {
		_, err := parseConfig(newFlagSet(), nil, func(k string) string { return vars[k] })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", vars, err, name)
		}
	}
	// Flags override the environment.
	c, err := parseConfig(newFlagSet(), []string{"-addr", "127.0.0.1:9"}, func(k string) string {
		return map[string]string{"ZHUCUN_ADDR": ":1"}[k]
	})
	if err != nil || c.Addr != "127.0.0.1:9" || c.TZ.String() != "Asia/Shanghai" || c.MongoDB != "zhucun" {
		t.Errorf("config %+v, %v", c, err)
	}
	// A secret may come from a file.
	f := filepath.Join(t.TempDir(), "s")
	_ = os.WriteFile(f, []byte(strings.Repeat("k", 40)+"\n"), 0o600)
	c, err = parseConfig(newFlagSet(), nil, func(k string) string { return map[string]string{"ZHUCUN_JWT_SECRET_FILE": f}[k] })
	if err != nil || c.JWTSecret != strings.Repeat("k", 40) {
		t.Errorf("secret from file: %q, %v", c.JWTSecret, err)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// child is the zhucun command running in a child process.
type child struct {
	cmd  *exec.Cmd
	base string
	out  *bytes.Buffer
}

// command runs this test binary as 'zhucun args...' with env.
func command(env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ZHUCUN_TEST_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// startServe runs 'zhucun serve' in a child process and waits until it
// answers /readyz.
func startServe(t *testing.T, env map[string]string) *child { return startUntil(t, env, "/readyz") }

// startUntil runs 'zhucun serve' in a child process and waits until path
// answers 200 (/healthz: alive, a standby included).
func startUntil(t *testing.T, env map[string]string, path string) *child {
	t.Helper()
	addr := freeAddr(t)
	env["ZHUCUN_ADDR"] = addr
	c := &child{cmd: command(env, "serve"), base: "http://" + addr, out: &bytes.Buffer{}}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill(); _ = c.cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(c.base + path)
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return c
			}
		}
		if c.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("server did not answer %s: %s", path, c.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits for the process to end.
func (c *child) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	_ = c.cmd.Process.Signal(sig)
	return c.cmd.Wait()
}

func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r, _ := http.NewRequest(method, url, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestServeSurvivesRestart runs the real binary path twice on one data
// dir: the admin made from the environment, the generated JWT secret and
// the data written all survive, and SIGTERM-style cancellation shuts down.
func TestServeSurvivesRestart(t *testing.T) {
	if !onEmbedded() {
		t.Skip("serve's embedded store is SQLite; this run checks another backend")
	}
	dir := t.TempDir()
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1", "ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
	srv := startServe(t, env)
	base := srv.base
	if out, err := command(env, "healthcheck").CombinedOutput(); err != nil {
		t.Fatalf("healthcheck against a running server: %v %s", err, out)
	}
	st, tok := call(t, "POST", base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	if st != 200 {
		t.Fatalf("login: %d %v", st, tok)
	}
	access := tok["access_token"].(string)
	st, town := call(t, "POST", base+"/api/v1/towns", access, map[string]any{"name": "梁才街道"})
	if st != 201 {
		t.Fatalf("create town: %d %v", st, town)
	}
	// A body over the server's limit is refused before any handler, still as a problem.
	big, _ := http.NewRequest("POST", base+"/api/v1/towns", bytes.NewReader(make([]byte, 17<<20)))
	big.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(big); err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 413 || res.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(b), `"code":"body_too_large"`) || res.Header.Get("X-Request-ID") == "" {
			t.Errorf("17 MiB body: %d %s %s", res.StatusCode, res.Header, b)
		}
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("17 MiB body: %v", err)
	}
	// SIGTERM: a graceful stop with exit status 0.
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, srv.out)
	}
	info, err := os.Stat(filepath.Join(dir, "jwt.secret"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("jwt.secret: %v, %v", info, err)
	}

	env["ZHUCUN_ADMIN_PASSWORD"] = "another-pass" // an admin exists: ignored
	srv = startServe(t, env)
	base = srv.base
	st, got := call(t, "GET", base+"/api/v1/towns/"+town["id"].(string), access, nil)
	if st != 200 || got["name"] != "梁才街道" {
		t.Fatalf("after restart: %d %v", st, got)
	}
	// An acknowledged write survives a crash (SIGKILL, no shutdown at all).
	st, v := call(t, "POST", base+"/api/v1/villages", access, map[string]any{"name": "东小高村", "townId": town["id"], "kind": "village"})
	if st != 201 {
		t.Fatalf("create village: %d %v", st, v)
	}
	_ = srv.stop(t, syscall.SIGKILL)
	if err := command(env, "healthcheck").Run(); err == nil {
		t.Fatal("healthcheck passed with no server running")
	}
	srv = startServe(t, env)
	base = srv.base
	st, got = call(t, "GET", base+"/api/v1/villages/"+v["id"].(string), access, nil)
	if st != 200 || got["name"] != "东小高村" {
		t.Fatalf("after a crash: %d %v", st, got)
	}
	if st, _ := call(t, "POST", base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "another-pass"}); st != 401 {
		t.Fatalf("the admin password was reset on restart: %d", st)
	}
}

func TestUserAddCommand(t *testing.T) {
	if !onEmbedded() {
		t.Skip("the command's embedded store is SQLite")
	}
	dir := t.TempDir()
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	add := command(env, "user", "add", "-name", "王丽", "-phone", "13911112222", "-role", "admin")
	add.Stdin = strings.NewReader("secret-pass-1\n")
	out, err := add.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "created admin 王丽") {
		t.Fatalf("user add: %v, %s", err, out)
	}
	add = command(env, "user", "add", "-name", "x", "-phone", "123", "-role", "chief")
	add.Stdin = strings.NewReader("short\n")
	out, err = add.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "phone") || !strings.Contains(string(out), "role") || !strings.Contains(string(out), "password") {
		t.Fatalf("bad user add: %v %s", err, out)
	}
	srv := startServe(t, env)
	if st, _ := call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13911112222", "password": "secret-pass-1"}); st != 200 {
		t.Fatalf("the account made by 'user add' cannot sign in: %d", st)
	}
	var vout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, getenv, nil, &vout, io.Discard); err != nil || !strings.HasPrefix(vout.String(), "zhucun ") {
		t.Fatalf("version: %q %v", vout.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, getenv, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	_ = fmt.Sprint()
}
