package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"zhucun/demo"
	"zhucun/domain"
	"zhucun/passwd"
)

// TestDemoDistrict builds the demo district twice, each into an empty data
// directory: both runs make the same ids, and the API answers the
// report's numbers for it — 10 towns, 602 villages, 90 candidates, 25 and
// 20 selections with the named villages at district level, 79 problems,
// 364 targets, 34 units.
func TestDemoDistrict(t *testing.T) {
	if !onEmbedded() {
		t.Skip("the demo command runs on the embedded store")
	}
	ctx := context.Background()
	run1 := func() (map[string]string, *env, string) {
		vars := map[string]string{"ZHUCUN_SECOND_FACTOR_ROLES": "none"}
		out, clk, b, st := demoDistrict(t, vars)
		if !strings.Contains(out, "602 villages") || !strings.Contains(out, "sec_admin") {
			t.Fatalf("demo said: %s", out)
		}
		// A second demo into the same directory is refused.
		if err := run(ctx, []string{"demo"}, func(k string) string { return vars[k] }, nil, io.Discard, io.Discard); err == nil {
			t.Fatal("a demo over a built district ran")
		}
		e := &env{api: b.api, store: st.db, spec: loadSpec(t), clock: clk, logs: &bytes.Buffer{}}
		ids := map[string]string{}
		tok := e.login(t, "13900000000", testPassword)
		tr := e.do(t, req{method: "GET", path: "/api/v1/towns?limit=500", token: tok})
		want(t, tr, 200)
		for _, it := range tr.items() {
			ids[it["name"].(string)] = it["id"].(string)
		}
		for cursor := ""; ; {
			l := e.do(t, req{method: "GET", path: "/api/v1/villages?limit=500&cursor=" + cursor, token: tok})
			for _, it := range l.items() {
				ids[it["townId"].(string)+"/"+it["name"].(string)] = it["id"].(string)
			}
			if cursor = l.str("nextCursor"); cursor == "" {
				break
			}
		}
		return ids, e, out
	}
	first, e, printed := run1()
	second, _, _ := run1()
	if len(first) != 10+602 {
		t.Fatalf("%d towns and villages", len(first))
	}
	for k, id := range first {
		if second[k] != id {
			t.Fatalf("%s is %s in one run and %s in the other", k, id, second[k])
		}
	}
	tok := e.login(t, "13900000000", testPassword)
	cps := e.do(t, req{method: "GET", path: "/api/v1/campaigns", token: tok}).items()
	if len(cps) != 1 {
		t.Fatalf("campaigns: %v", cps)
	}
	cp := cps[0]["id"].(string)
	rank := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + cp + "/ranking", token: tok})
	if rank.json["evaluated"] != float64(602) || rank.json["candidates"] != float64(90) {
		t.Fatalf("ranking: %v evaluated, %v candidates", rank.json["evaluated"], rank.json["candidates"])
	}
	nameOf := map[string]string{}
	for k, id := range first {
		if _, name, ok := strings.Cut(k, "/"); ok {
			nameOf[id] = name
		}
	}
	var districtNames []string
	var selected []string
	for _, lv := range []struct {
		level string
		n     int
	}{{"district", 25}, {"town", 20}} {
		l := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + cp + "/selections?limit=500&level=" + lv.level, token: tok}).items()
		if len(l) != lv.n {
			t.Fatalf("%d %s-level selections", len(l), lv.level)
		}
		for _, s := range l {
			selected = append(selected, s["villageId"].(string))
			if lv.level == "district" {
				districtNames = append(districtNames, nameOf[s["villageId"].(string)])
			}
		}
	}
	for _, n := range []string{"西王居委会", "王家居委会", "肖家村", "郭集居委会", "于家胡同村", "东玉村", "东小高村", "张八棍村", "张蒋村", "双眼井村", "大王村", "大营刘村", "侯家园子村", "杨沟朱村"} {
		if !slices.Contains(districtNames, n) {
			t.Errorf("%s is not a district-level village: %v", n, districtNames)
		}
	}
	problems, targets := 0, 0
	for _, v := range selected {
		l := e.do(t, req{method: "GET", path: "/api/v1/villages/" + v + "/ledger", token: tok})
		want(t, l, 200)
		problems += int(l.json["problems"].(map[string]any)["total"].(float64))
		targets += int(l.json["targets"].(map[string]any)["total"].(float64))
	}
	if problems != 79 || targets != 364 {
		t.Fatalf("the ledgers hold %d problems and %d targets, want 79 and 364", problems, targets)
	}
	if u := e.do(t, req{method: "GET", path: "/api/v1/units?limit=500", token: tok}).items(); len(u) != 34 {
		t.Fatalf("%d units", len(u))
	}
	checkDemoTeams(t, e, tok)
	checkDemoCounts(t, e, tok, first)
	checkConsole(t, e, tok, first, printed)
}

// demoDistrict builds the demo district into a new data directory (vars
// add to the demo's settings; the directory is put in them) and opens it
// as serve would, on a settable clock starting now. It answers what the
// demo printed.
func demoDistrict(t testing.TB, vars map[string]string) (printed string, clk *clock, b built, st *stores) {
	t.Helper()
	ctx := context.Background()
	for k, v := range map[string]string{"ZHUCUN_DATA_DIR": t.TempDir(), "ZHUCUN_ADMIN_PHONE": "13900000000",
		"ZHUCUN_ADMIN_PASSWORD": testPassword, "ZHUCUN_LOG_LEVEL": "error"} {
		if _, set := vars[k]; !set {
			vars[k] = v
		}
	}
	getenv := func(k string) string { return vars[k] }
	var out bytes.Buffer
	if err := demoCmd(ctx, nil, getenv, &out, io.Discard, passwd.Fast()); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	cfg, err := parseConfig(newFlagSet(), nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = openStores(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close(ctx) })
	clk = &clock{now: time.Now().UTC()}
	b, err = build(cfg, deps{store: st.db, now: clk.Now, hasher: passwd.Fast(), log: slog.New(slog.DiscardHandler),
		secret: []byte("test-secret-test-secret-test-secret!"), sealer: st.sealer,
		phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy, blobs: st.blobs})
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), clk, b, st
}

// demoReport is what the report gives for March–June 2026, at district
// level, on the reported basis.
var demoReport = map[string]int64{
	"leader_research_visits": demo.NumLeaderResearch, "unit_research_visits": demo.NumUnitResearch,
	"committee_meetings": demo.NumCommitteeMeetings, "party_members_visited": demo.NumPartyMembers,
	"households_visited": demo.NumHouseholds, "conflicts_identified": demo.NumConflicts, "disputes_resolved": demo.NumResolved,
	"reserve_candidates": demo.NumReserve, "projects_active": demo.NumProjectsActive, "funds_fen": demo.FundsFen,
	"losses_recovered_fen": demo.GuojiRecoveredFen, "targets_set": demo.NumTargets, "problems_listed": demo.NumProblems,
}

// checkDemoCounts asks the district's summary for March–June 2026 and
// finds the report's numbers (27, 163, 398, 1,263, 40, 20, 19, 40+, 37,
// more than 5 million yuan), then finds that the ten towns add up to
// them, and the villages of a town to the town.
func checkDemoCounts(t *testing.T, e *env, tok string, ids map[string]string) {
	t.Helper()
	const period = "from=2026-03-01&to=2026-06-30"
	metrics := func(q string) map[string]any {
		r := e.do(t, req{method: "GET", path: "/api/v1/stats/summary?" + period + q, token: tok})
		want(t, r, 200)
		return r.json["metrics"].(map[string]any)
	}
	district := metrics("&scope=district")
	for k, n := range demoReport {
		if got := district[k]; got != float64(n) {
			t.Errorf("district %s = %v, the report says %d", k, got, n)
		}
	}
	if district["unit_research_visits"].(float64) < 40 || district["funds_fen"].(float64) <= 5_000_000_00 {
		t.Errorf("unit research %v (40+), funds %v fen (over 5M yuan)", district["unit_research_visits"], district["funds_fen"])
	}
	sum := map[string]float64{}
	var towns []string
	for k, id := range ids {
		if !strings.Contains(k, "/") {
			towns = append(towns, id)
		}
	}
	for _, tid := range towns {
		for k, v := range metrics("&scope=town&id=" + tid) {
			if f, ok := v.(float64); ok {
				sum[k] += f
			}
		}
	}
	for k := range demoReport {
		if sum[k] != district[k] {
			t.Errorf("the towns' %s add up to %v, the district's is %v", k, sum[k], district[k])
		}
	}
	// The villages of 杜店街道 (郭集's town) add up to the town.
	rows := e.do(t, req{method: "GET", path: "/api/v1/stats/villages?" + period + "&townId=" + ids["杜店街道"], token: tok})
	want(t, rows, 200)
	town := metrics("&scope=town&id=" + ids["杜店街道"])
	vsum := map[string]float64{}
	for _, it := range rows.items() {
		for k, v := range it["metrics"].(map[string]any) {
			if f, ok := v.(float64); ok {
				vsum[k] += f
			}
		}
	}
	for _, k := range []string{"committee_meetings", "households_visited", "conflicts_identified", "losses_recovered_fen", "funds_fen"} {
		if vsum[k] != town[k] {
			t.Errorf("杜店街道's villages' %s add up to %v, the town's is %v", k, vsum[k], town[k])
		}
	}
	if town["losses_recovered_fen"] != float64(demo.GuojiRecoveredFen) {
		t.Errorf("杜店街道 recovered %v fen; 郭集's 850万 is in it", town["losses_recovered_fen"])
	}
}

// checkDemoTeams finds the 45 teams of 131 people, every district team
// mixing the three age tiers.
func checkDemoTeams(t *testing.T, e *env, tok string) {
	t.Helper()
	teams := e.do(t, req{method: "GET", path: "/api/v1/teams?limit=500", token: tok}).items()
	if len(teams) != demo.NumTeams {
		t.Fatalf("%d teams", len(teams))
	}
	people := map[string]bool{}
	leaders, cadres := map[string]bool{}, map[string]bool{}
	for _, tm := range teams {
		tv := e.do(t, req{method: "GET", path: "/api/v1/teams/" + tm["id"].(string), token: tok})
		want(t, tv, 200)
		for _, m := range tv.json["members"].([]any) {
			m := m.(map[string]any)
			people[m["userId"].(string)] = true
			if m["unitId"] != nil && m["unitId"] != "" {
				cadres[m["userId"].(string)] = true
			}
		}
		if tm["level"] == "district" {
			leaders[tm["leaderId"].(string)] = true
			if miss, _ := tv.json["missingTiers"].([]any); len(miss) > 0 {
				t.Errorf("district team %s lacks tiers %v", tm["id"], miss)
			}
		}
	}
	if len(people) != demo.NumPeople || len(cadres) != demo.NumCadres || len(leaders) != demo.NumDistrict {
		t.Fatalf("%d people, %d district cadres, %d leading district leaders", len(people), len(cadres), len(leaders))
	}
}
