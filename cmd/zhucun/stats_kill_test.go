package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"zhucun/domain"
)

// TestStatsSurviveKills drives the real server with random creates,
// resends, edits that move a visit to another day and change its count,
// and deletes, killing it (SIGKILL) between steps; after every restart
// the counts equal what the acknowledged writes add up to, and at the end
// 'zhucun stats verify' finds every count equal to a recount.
func TestStatsSurviveKills(t *testing.T) {
	if !onEmbedded() {
		t.Skip("serve's embedded store is SQLite; this run checks another backend")
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("ZHUCUN_TEST_SEED"), 10, 64); err == nil {
		seed = v // replay a failed run
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": "admin-pass-1", "ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
	srv := startServe(t, env)
	_, tok := call(t, "POST", srv.base+"/api/v1/auth/login", "", map[string]any{"phone": "13900000000", "password": "admin-pass-1"})
	token := tok["access_token"].(string)
	_, town := call(t, "POST", srv.base+"/api/v1/towns", token, map[string]any{"name": "市西街道"})
	var villages []string
	for _, name := range []string{"甲村", "乙村"} {
		_, v := call(t, "POST", srv.base+"/api/v1/villages", token, map[string]any{"name": name, "townId": town["id"], "kind": "village"})
		villages = append(villages, v["id"].(string))
	}
	type visit struct {
		version int
		count   int64
		body    map[string]any
	}
	live := map[string]*visit{}
	var ids []string
	now := time.Now()
	from := now.Add(-85 * 24 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	to := now.Add(24 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	check := func(when string) {
		t.Helper()
		var want int64
		for _, v := range live {
			want += v.count
		}
		st, sum := call(t, "GET", srv.base+"/api/v1/stats/summary?scope=district&from="+from+"&to="+to, token, nil)
		if st != 200 {
			t.Fatalf("%s: summary %d %v", when, st, sum)
		}
		if got := int64(sum["metrics"].(map[string]any)["households_visited"].(float64)); got != want {
			t.Fatalf("%s: households_visited %d, the acknowledged writes add up to %d", when, got, want)
		}
	}
	for round := range 5 {
		steps := 10 + rng.IntN(20)
		for range steps {
			switch op := rng.IntN(10); {
			case op < 5 || len(ids) == 0:
				n := int64(1 + rng.IntN(9))
				body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": villages[rng.IntN(2)],
					"occurredAt": now.Add(-time.Duration(rng.IntN(80*24)) * time.Hour), "visitee": "household", "count": n}
				if st, r := call(t, "POST", srv.base+"/api/v1/reports", token, body); st != 201 {
					t.Fatalf("create: %d %v", st, r)
				}
				live[body["id"].(string)] = &visit{version: 1, count: n, body: body}
				ids = append(ids, body["id"].(string))
				if rng.IntN(3) == 0 {
					if st, _ := call(t, "POST", srv.base+"/api/v1/reports", token, body); st != 200 {
						t.Fatalf("resend: %d", st)
					}
				}
			case op < 8:
				id := ids[rng.IntN(len(ids))]
				v := live[id]
				n := int64(1 + rng.IntN(9))
				st, r := call(t, "PATCH", srv.base+"/api/v1/reports/"+id, token, map[string]any{"version": v.version, "count": n,
					"occurredAt": now.Add(-time.Duration(rng.IntN(80*24)) * time.Hour)})
				if st != 200 {
					t.Fatalf("edit: %d %v", st, r)
				}
				// The version the server answers: an edit that changes nothing
				// (the same count and hour drawn again) keeps it.
				v.version, v.count = int(r["version"].(float64)), n
			default:
				i := rng.IntN(len(ids))
				id := ids[i]
				st, _ := call(t, "DELETE", srv.base+"/api/v1/reports/"+id+"?", token, map[string]any{"version": live[id].version})
				if st != 204 {
					t.Fatalf("delete %s: %d", id, st)
				}
				delete(live, id)
				ids = append(ids[:i], ids[i+1:]...)
			}
		}
		check(fmt.Sprintf("round %d before the kill", round))
		time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond) // the mover and the flusher may or may not have run
		_ = srv.stop(t, syscall.SIGKILL)
		srv = startServe(t, env)
		check(fmt.Sprintf("round %d after the kill", round))
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	out, err := command(env, "stats", "verify").CombinedOutput()
	if err != nil {
		t.Fatalf("stats verify: %v\n%s", err, out)
	}
}
