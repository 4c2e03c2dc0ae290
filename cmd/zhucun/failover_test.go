package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/storage/embedded"
	"zhucun/storage/testdb"
)

// mongoForTest is the run's MongoDB-protocol server, or one started for
// this test (FerretDB on SQLite) on the default run.
func mongoForTest(t *testing.T) string {
	t.Helper()
	if dbServer != nil {
		return dbServer.URI
	}
	srv, err := testdb.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv.URI
}

func ready(base string) (int, map[string]any) {
	r, err := http.Get(base + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer r.Body.Close()
	var m map[string]any
	_ = jsonDecode(r, &m)
	return r.StatusCode, m
}

// TestFailover runs two real servers on one MongoDB-protocol database: the
// second stands by; clients write through the first, which is killed
// (SIGKILL) while they write; the second takes over within the bound, the
// clients resend what was not acknowledged, and every acknowledged report
// is there once, in the counts too. 'stats verify' beside the live server
// changes nothing, and after the stop finds every count equal to a recount.
func TestFailover(t *testing.T) {
	uri := mongoForTest(t)
	db := testdb.NewName()
	env := func() map[string]string {
		return map[string]string{"ZHUCUN_MONGO_URI": uri, "ZHUCUN_MONGO_DB": db, "ZHUCUN_DATA_DIR": t.TempDir(),
			"ZHUCUN_JWT_SECRET": strings.Repeat("s", 40), "ZHUCUN_LEASE_TTL": "2s", "ZHUCUN_LOG_LEVEL": "error",
			"ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1", "ZHUCUN_SECOND_FACTOR_ROLES": "none"}
	}
	a := startServe(t, env())
	b := startUntil(t, env(), "/healthz")
	if st, m := ready(b.base); st != 503 || m["status"] != "standby" || !strings.Contains(fmt.Sprint(m["reason"]), "writer lease") {
		t.Fatalf("the second server's readyz: %d %v", st, m)
	}
	if st, m := call(t, "GET", b.base+"/api/v1/towns", "", nil); st != 503 || m["code"] != "standby" {
		t.Fatalf("a request to the standby: %d %v", st, m)
	}
	_, tok := call(t, "POST", a.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	token := tok["access_token"].(string)
	_, town := call(t, "POST", a.base+"/api/v1/towns", token, map[string]any{"name": "滨北街道"})
	_, vil := call(t, "POST", a.base+"/api/v1/villages", token, map[string]any{"name": "双眼井村", "townId": town["id"], "kind": "village"})

	// Six clients file visits, each resending until it is acknowledged, to
	// whichever server answers.
	var mu sync.Mutex
	base := a.base
	acked := map[string]int{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + (w+i)%5
				body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": vil["id"],
					"occurredAt": time.Now().Add(-time.Hour), "visitee": "household", "count": n}
				for try := 0; ; try++ {
					mu.Lock()
					to := base
					mu.Unlock()
					st, _ := post(client, to+"/api/v1/reports", token, body)
					if st == 201 || st == 200 {
						mu.Lock()
						acked[body["id"].(string)] = n
						mu.Unlock()
						break
					}
					if try > 400 {
						t.Errorf("a report never acknowledged (last status %d)", st)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	_ = a.stop(t, syscall.SIGKILL)
	killed := time.Now()
	for {
		if st, _ := ready(b.base); st == 200 {
			break
		}
		if time.Since(killed) > 20*time.Second {
			t.Fatalf("the standby did not take over within 20 s: %s", b.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("the standby took over %v after the kill", took.Round(10*time.Millisecond))
	if took > 3*2*time.Second+5*time.Second {
		t.Errorf("the takeover took %v: more than the documented bound (lease TTL + retry + start)", took)
	}
	mu.Lock()
	base = b.base
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()

	var want int
	for _, n := range acked {
		want += n
	}
	summary := func() int {
		cst := time.FixedZone("CST", 8*3600)
		from, to := time.Now().Add(-48*time.Hour).In(cst).Format(time.DateOnly), time.Now().In(cst).Format(time.DateOnly)
		st, sum := call(t, "GET", b.base+"/api/v1/stats/summary?scope=district&from="+from+"&to="+to, token, nil)
		if st != 200 {
			t.Fatalf("summary: %d %v", st, sum)
		}
		return int(sum["metrics"].(map[string]any)["households_visited"].(float64))
	}
	if got := summary(); got != want {
		t.Fatalf("households_visited %d, the %d acknowledged reports add up to %d", got, len(acked), want)
	}
	seen := 0
	for cursor := ""; ; {
		st, page := call(t, "GET", b.base+"/api/v1/reports?villageId="+vil["id"].(string)+"&limit=500"+cursor, token, nil)
		if st != 200 {
			t.Fatalf("list: %d %v", st, page)
		}
		for _, it := range page["items"].([]any) {
			if _, ok := acked[it.(map[string]any)["id"].(string)]; !ok {
				t.Fatalf("a report nobody was told of: %v", it)
			}
			seen++
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if seen != len(acked) || seen < 50 {
		t.Fatalf("%d reports stored, %d acknowledged", seen, len(acked))
	}
	t.Logf("%d reports acknowledged, %d households: each stored once and counted", len(acked), want)
	// stats verify beside the live writer only reads.
	out, err := command(env(), "stats", "verify").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "every count equals") {
		t.Fatalf("stats verify beside the server: %v %s", err, out)
	}
	if st, _ := ready(b.base); st != 200 || summary() != want {
		t.Fatal("stats verify changed the running server's state")
	}
	// rebuild needs the lease, which the server holds.
	if out, err := command(env(), "stats", "rebuild").CombinedOutput(); err == nil || !strings.Contains(string(out), "writer lease") {
		t.Fatalf("stats rebuild beside the server: %v %s", err, out)
	}
	if err := b.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v %s", err, b.out)
	}
	if out, err := command(env(), "stats", "verify").CombinedOutput(); err != nil {
		t.Fatalf("stats verify after the stop: %v %s", err, out)
	}
}

// post sends a JSON body; a transport error is status 0.
func post(c *http.Client, url, token string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	r, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(r)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var m map[string]any
	_ = jsonDecode(res, &m)
	return res.StatusCode, m
}

func jsonDecode(r *http.Response, v any) error { return json.NewDecoder(r.Body).Decode(v) }

// TestOutage stops the MongoDB-protocol server under load and starts it
// again: meanwhile requests answer 503 "unavailable" with Retry-After
// within 2 s and readyz says so; the server recovers by itself (taking
// its lapsed writer lease back), and what it acknowledged is there once —
// the clients resend what was not, and nothing is stored that was not
// acknowledged in the end.
func TestOutage(t *testing.T) {
	if dbServer != nil && dbServer.Backend != "sqlite" {
		t.Skip("the test stops and starts its own FerretDB (on SQLite)")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	startDB := func() *embedded.Server {
		srv, err := embedded.Start(context.Background(), embedded.Config{Dir: dir, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	fdb := startDB()
	t.Cleanup(func() { _ = fdb.Stop(5 * time.Second) })
	env := map[string]string{"ZHUCUN_MONGO_URI": fdb.URI(), "ZHUCUN_DATA_DIR": t.TempDir(), "ZHUCUN_LEASE_TTL": "2s",
		"ZHUCUN_LOG_LEVEL": "error", "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1", "ZHUCUN_SECOND_FACTOR_ROLES": "none"}
	srv := startServe(t, env)
	_, tok := call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	token := tok["access_token"].(string)
	_, town := call(t, "POST", srv.base+"/api/v1/towns", token, map[string]any{"name": "沙河街道"})
	_, vil := call(t, "POST", srv.base+"/api/v1/villages", token, map[string]any{"name": "大营刘村", "townId": town["id"], "kind": "village"})

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": vil["id"],
					"occurredAt": time.Now().Add(-time.Hour), "visitee": "household", "count": 1}
				for {
					st, _ := post(client, srv.base+"/api/v1/reports", token, body)
					if st == 201 || st == 200 {
						mu.Lock()
						acked[body["id"].(string)] = true
						mu.Unlock()
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	if err := fdb.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		start := time.Now()
		r, _ := http.NewRequest("GET", srv.base+"/api/v1/towns", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		_ = jsonDecode(res, &p)
		res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != 503 || p["code"] != "unavailable" || res.Header.Get("Retry-After") == "" || took > 2*time.Second {
			t.Fatalf("request %d with the database gone: %d %v Retry-After %q after %v", i, res.StatusCode, p, res.Header.Get("Retry-After"), took)
		}
		if st, m := ready(srv.base); st != 503 || m["status"] != "unavailable" {
			t.Fatalf("readyz with the database gone: %d %v", st, m)
		}
		time.Sleep(time.Second) // past the lease's validity: the writer stops writing
	}
	fdb = startDB()
	back := time.Now()
	for {
		if st, _ := ready(srv.base); st == 200 {
			break
		}
		if time.Since(back) > 20*time.Second {
			t.Fatalf("the server did not recover within 20 s of the database's return: %s", srv.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ready again %v after the database returned", time.Since(back).Round(10*time.Millisecond))
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	stored := 0
	for cursor := ""; ; {
		st, page := call(t, "GET", srv.base+"/api/v1/reports?villageId="+vil["id"].(string)+"&limit=500"+cursor, token, nil)
		if st != 200 {
			t.Fatalf("list: %d %v", st, page)
		}
		for _, it := range page["items"].([]any) {
			if !acked[it.(map[string]any)["id"].(string)] {
				t.Fatalf("stored but never acknowledged: %v", it)
			}
			stored++
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if stored != len(acked) || stored == 0 {
		t.Fatalf("%d stored, %d acknowledged", stored, len(acked))
	}
	t.Logf("%d reports acknowledged, each stored once", stored)
	if out, err := command(env, "stats", "verify").CombinedOutput(); err != nil {
		t.Fatalf("stats verify: %v %s", err, out)
	}
}
