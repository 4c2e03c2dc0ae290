package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"zhucun/domain"
)

// TestRoundAtReportScale builds the report's round through the API: 602
// villages in 10 towns, evaluated; the ranking gives exactly 90 candidates,
// the same on every call; 25 district-level and 20 town-level selections,
// 79 problems for the district-level villages, 364 target items, 34 units
// and 45 teams.
func TestRoundAtReportScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 602-village round")
	}
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	var towns []string
	townName := map[string]string{}
	for i := range 10 {
		name := fmt.Sprintf("测试镇%02d", i)
		r := e.do(t, req{method: "POST", path: "/api/v1/towns", token: admin, body: map[string]any{"name": name}})
		want(t, r, 201)
		towns = append(towns, r.str("id"))
		townName[r.str("id")] = name
	}
	// 602 villages by import: 61 in the first two towns, 60 in the others.
	var csv strings.Builder
	n := 0
	for i := range 10 {
		k := 60
		if i < 2 {
			k = 61
		}
		for j := range k {
			fmt.Fprintf(&csv, "%s,测试%02d-%03d村,村,\n", townName[towns[i]], i, j)
			n++
		}
	}
	if n != 602 {
		t.Fatalf("%d villages generated", n)
	}
	r := e.do(t, req{method: "POST", path: "/api/v1/imports/villages", token: admin, contentType: "text/csv", body: csv.String()})
	want(t, r, 200)
	if r.json["created"].(float64) != 602 {
		t.Fatalf("import: %s", r.body)
	}
	var villages []string
	for _, town := range towns {
		for cursor := ""; ; {
			p := "/api/v1/villages?limit=500&townId=" + town
			if cursor != "" {
				p += "&cursor=" + cursor
			}
			l := e.do(t, req{method: "GET", path: p, token: admin})
			for _, it := range l.items() {
				villages = append(villages, it["id"].(string))
			}
			if l.json["nextCursor"] == nil {
				break
			}
			cursor = l.str("nextCursor")
		}
	}
	if len(villages) != 602 {
		t.Fatalf("%d villages listed", len(villages))
	}
	cp := e.do(t, req{method: "POST", path: "/api/v1/campaigns", token: admin,
		body: map[string]any{"name": "第三轮薄弱村集中整顿", "startDate": "2026-01-01", "endDate": "2027-12-31", "districtTarget": 25, "townTarget": 20}})
	want(t, cp, 201)
	campaign := cp.str("id")
	if cp.json["candidateShare"].(float64) != 0.15 {
		t.Errorf("default candidate share %v", cp.json["candidateShare"])
	}
	// Scores with many ties (integers 40–99), some manifestations.
	rng := rand.New(rand.NewPCG(1, 2))
	codes := []string{"shell_economy", "disunited_leadership", "disorderly_openness", "weak_service", "prominent_petitions"}
	for _, v := range villages {
		var ms []string
		for _, c := range codes {
			if rng.IntN(4) == 0 {
				ms = append(ms, c)
			}
		}
		want(t, e.do(t, req{method: "PUT", path: "/api/v1/campaigns/" + campaign + "/evaluations/" + v, token: admin,
			body: map[string]any{"score": 40 + rng.IntN(60), "manifestations": ms}}), 200)
	}
	rank := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + campaign + "/ranking", token: admin})
	want(t, rank, 200)
	rows := rank.items()
	if len(rows) != 602 || rank.json["evaluated"].(float64) != 602 || rank.json["candidates"].(float64) != 90 {
		t.Fatalf("ranking: %d rows, %v evaluated, %v candidates", len(rows), rank.json["evaluated"], rank.json["candidates"])
	}
	var cands []string
	for i, row := range rows {
		if int(row["rank"].(float64)) != i+1 {
			t.Fatalf("row %d has rank %v", i, row["rank"])
		}
		if i > 0 {
			prev := rows[i-1]
			ps, s := prev["score"].(float64), row["score"].(float64)
			pm, m := len(prev["manifestations"].([]any)), len(row["manifestations"].([]any))
			if s > ps || s == ps && m < pm {
				t.Fatalf("rows %d and %d are out of order: %v/%d then %v/%d", i, i+1, ps, pm, s, m)
			}
		}
		if row["candidate"].(bool) {
			cands = append(cands, row["villageId"].(string))
			if i < 512 {
				t.Fatalf("row %d (rank %d) is a candidate; only the worst 90 are", i, i+1)
			}
		}
	}
	if len(cands) != 90 {
		t.Fatalf("%d candidates, want 90", len(cands))
	}
	// The same on every call, and the candidate list agrees.
	for range 2 {
		again := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + campaign + "/ranking", token: admin})
		if !bytes.Equal(again.body, rank.body) {
			t.Fatal("the ranking differs between two calls")
		}
	}
	cl := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + campaign + "/candidates", token: admin}).items()
	if len(cl) != 90 || cl[0]["villageId"] != rows[601]["villageId"] {
		t.Fatalf("candidate list: %d rows, first %v", len(cl), cl[0]["villageId"])
	}
	// Town ranks count within each town.
	perTown := map[string]int{}
	for _, row := range rows {
		perTown[row["townId"].(string)]++
		if int(row["townRank"].(float64)) != perTown[row["townId"].(string)] {
			t.Fatalf("townRank of %v is %v, want %d", row["villageName"], row["townRank"], perTown[row["townId"].(string)])
		}
	}

	// 25 district-level and 20 town-level selections from the candidates.
	for i, v := range cands[:45] {
		level := "district"
		if i >= 25 {
			level = "town"
		}
		s := e.do(t, req{method: "POST", path: "/api/v1/campaigns/" + campaign + "/selections", token: admin,
			body: map[string]any{"villageId": v, "level": level, "reason": "问题突出",
				"notes": []map[string]any{{"source": "discipline", "text": "纪委意见"}, {"source": "petition", "text": "信访较多"}}}})
		want(t, s, 201)
		if len(s.json["notes"].([]any)) != 2 || !s.json["candidate"].(bool) {
			t.Fatalf("selection: %s", s.body)
		}
	}
	sl := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + campaign + "/selections?level=district&limit=500", token: admin})
	if len(sl.items()) != 25 {
		t.Fatalf("%d district-level selections", len(sl.items()))
	}
	sl = e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + campaign + "/selections?level=town&limit=500", token: admin})
	if len(sl.items()) != 20 {
		t.Fatalf("%d town-level selections", len(sl.items()))
	}

	// 79 problems over the 25 district-level villages, 364 targets over all 45.
	aspects := []string{"petitions", "disunity", "weak_organisation", "affairs_disorder", "public_order", "weak_economy", "infrastructure", "public_services"}
	for i := range 79 {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + cands[i%25] + "/problems", token: admin,
			body: map[string]any{"aspect": aspects[i%8], "description": fmt.Sprintf("问题%d", i), "source": "evaluation", "campaignId": campaign}}), 201)
	}
	tasks, domains := []string{"resolve_disputes", "strengthen_team", "collective_economy", "livelihood_projects"},
		[]string{"social_stability", "leadership", "development", "livelihood"}
	for i := range 364 {
		kind := "common"
		if i%3 == 0 {
			kind = "differentiated"
		}
		want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + cands[i%45] + "/targets", token: admin,
			body: map[string]any{"domain": domains[i%4], "task": tasks[i%4], "kind": kind, "title": fmt.Sprintf("目标%d", i), "year": 2026, "due": "2026-12-31"}}), 201)
	}
	problems, targets := 0, 0
	for _, v := range cands[:45] {
		l := e.do(t, req{method: "GET", path: "/api/v1/villages/" + v + "/ledger", token: admin})
		want(t, l, 200)
		problems += int(l.json["problems"].(map[string]any)["total"].(float64))
		targets += int(l.json["targets"].(map[string]any)["total"].(float64))
	}
	if problems != 79 || targets != 364 {
		t.Fatalf("ledgers hold %d problems and %d targets, want 79 and 364", problems, targets)
	}

	// 34 units of the four types, then 45 teams.
	types := []string{"party", "political_legal", "economic", "line"}
	var units []string
	for i := range 34 {
		u := e.do(t, req{method: "POST", path: "/api/v1/units", token: admin, body: map[string]any{"name": fmt.Sprintf("派出单位%02d", i), "type": types[i%4]}})
		want(t, u, 201)
		units = append(units, u.str("id"))
	}
	if l := e.do(t, req{method: "GET", path: "/api/v1/units?limit=500", token: admin}); len(l.items()) != 34 {
		t.Fatalf("%d units", len(l.items()))
	}
	var people []string
	for i := range 6 {
		u := e.do(t, req{method: "POST", path: "/api/v1/users", token: f.tokens[domain.RoleSysAdmin], body: map[string]any{"name": fmt.Sprintf("干部%d", i),
			"phone": fmt.Sprintf("1350000%04d", i), "password": testPassword, "role": "cadre", "unitId": units[i], "birthYear": 1965 + 8*i}})
		want(t, u, 201)
		people = append(people, u.str("id"))
	}
	for i, v := range cands[:45] {
		tm := e.do(t, req{method: "POST", path: "/api/v1/teams", token: admin, body: map[string]any{"campaignId": campaign, "villageId": v,
			"leaderId": f.ids[domain.RoleLeader], "memberIds": []string{people[i%6], people[(i+1)%6]}, "townMemberId": f.ids[domain.RoleTownAdmin]}})
		want(t, tm, 201)
	}
	if l := e.do(t, req{method: "GET", path: "/api/v1/teams?limit=500&campaignId=" + campaign, token: admin}); len(l.items()) != 45 {
		t.Fatalf("%d teams", len(l.items()))
	}
}

func TestCampaignBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	admin, ta := f.tokens[domain.RoleAdmin], f.tokens[domain.RoleTownAdmin]
	camp := "/api/v1/campaigns/" + f.c.campaign
	eval := func(tok, v string, body any) *resp {
		return e.do(t, req{method: "PUT", path: camp + "/evaluations/" + v, token: tok, body: body})
	}
	want(t, eval(admin, f.villA1, map[string]any{"score": 101}), 422, "validation_failed")
	want(t, eval(admin, f.villA1, map[string]any{"score": -1}), 422, "validation_failed")
	want(t, eval(admin, f.villA1, map[string]any{}), 422, "validation_failed")
	r := eval(admin, f.villA1, map[string]any{"score": 50, "manifestations": []string{"weak_service", "no_such_thing", "weak_service"}})
	want(t, r, 422, "validation_failed")
	if len(r.json["errors"].([]any)) != 2 {
		t.Errorf("want the unknown and the repeated code named: %s", r.body)
	}
	want(t, eval(ta, f.villB1, map[string]any{"score": 10}), 404, "not_found")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/campaigns/" + f.villA1 + "/evaluations/" + f.villA1, token: admin, body: map[string]any{"score": 10}}), 404, "not_found")
	// The evaluation of A1 is still the fixture's.
	ev := e.do(t, req{method: "GET", path: camp + "/evaluations", token: admin})
	for _, it := range ev.items() {
		if it["villageId"] == f.villA1 && it["score"].(float64) != 50 {
			t.Errorf("A1's evaluation changed to %v", it["score"])
		}
	}

	sel := func(tok string, body any) *resp {
		return e.do(t, req{method: "POST", path: camp + "/selections", token: tok, body: body})
	}
	want(t, sel(admin, map[string]any{"villageId": f.villA1, "level": "district", "reason": "再次"}), 409, "already_selected")
	want(t, sel(admin, map[string]any{"villageId": f.c.villB3, "level": "county", "reason": "x"}), 422, "validation_failed")
	want(t, sel(admin, map[string]any{"villageId": f.c.villB3, "level": "district"}), 422, "validation_failed")
	want(t, sel(ta, map[string]any{"villageId": f.c.villA4, "level": "district", "reason": "x"}), 422, "validation_failed")
	want(t, sel(admin, map[string]any{"villageId": f.c.villB3, "level": "district", "reason": "x",
		"notes": []map[string]any{{"source": "gossip", "text": "x"}}}), 422, "validation_failed")
	// A village that was never evaluated is no candidate: only an admin's override selects it.
	nv := e.do(t, req{method: "POST", path: "/api/v1/villages", token: admin, body: map[string]any{"name": "未评估村", "townId": f.townA, "kind": "village"}}).str("id")
	want(t, sel(ta, map[string]any{"villageId": nv, "level": "town", "reason": "x", "override": "镇里坚持"}), 422, "not_candidate")
	want(t, sel(admin, map[string]any{"villageId": nv, "level": "district", "reason": "x"}), 422, "not_candidate")
	o := sel(admin, map[string]any{"villageId": nv, "level": "district", "reason": "x", "override": "信访部门点名"})
	want(t, o, 201)
	if o.json["candidate"].(bool) || o.str("override") != "信访部门点名" {
		t.Errorf("override selection: %s", o.body)
	}

	team := func(tok string, body any) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/teams", token: tok, body: body})
	}
	want(t, team(admin, map[string]any{"campaignId": f.c.campaign, "villageId": f.c.villA4, "leaderId": f.ids[domain.RoleLeader]}), 422, "not_selected")
	want(t, team(admin, map[string]any{"campaignId": f.c.campaign, "villageId": f.villA1, "leaderId": f.ids[domain.RoleLeader]}), 409, "team_exists")
	want(t, team(admin, map[string]any{"campaignId": f.c.campaign, "villageId": f.c.villB2, "leaderId": f.villA1}), 422, "validation_failed")
	want(t, team(admin, map[string]any{"campaignId": f.c.campaign, "villageId": f.c.villB2, "leaderId": f.ids[domain.RoleLeader],
		"memberIds": []string{f.ids[domain.RoleCadre], f.ids[domain.RoleCadre]}}), 422, "validation_failed")
	want(t, team(ta, map[string]any{"campaignId": f.c.campaign, "villageId": f.villA1, "leaderId": f.ids[domain.RoleLeader]}), 403, "forbidden")
	// A town admin forms teams of town-level villages only.
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/teams/" + f.c.teamA1, token: ta, body: map[string]any{"memberIds": []string{}}}), 403, "forbidden")
	if l := e.do(t, req{method: "GET", path: "/api/v1/teams?limit=500", token: admin}); len(l.items()) != 3 {
		t.Errorf("%d teams after bad requests, want 3", len(l.items()))
	}

	prob := "/api/v1/problems/" + f.c.probA1
	cadre := f.tokens[domain.RoleCadre]
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", token: cadre,
		body: map[string]any{"aspect": "nonsense", "description": "x", "source": "petition"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", token: cadre,
		body: map[string]any{"aspect": "petitions", "description": "x", "source": "rumour"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: prob, token: cadre, body: map[string]any{"status": "resolved"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: prob, token: cadre, body: map[string]any{"status": "resolved", "resolution": "已调解", "resolvedAt": "2999-01-01"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: prob, token: cadre, body: map[string]any{"status": "closed"}}), 422, "validation_failed")
	// Optimistic concurrency: a stale version is refused and changes nothing.
	p := e.do(t, req{method: "GET", path: prob, token: cadre})
	v := int(p.json["version"].(float64))
	if p.header.Get("ETag") != fmt.Sprintf(`"%d"`, v) {
		t.Errorf("ETag %q for version %d", p.header.Get("ETag"), v)
	}
	ok := e.do(t, req{method: "PATCH", path: prob, token: cadre, header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)},
		body: map[string]any{"status": "resolved", "resolution": "已调解", "resolvedAt": f.c.today}})
	want(t, ok, 200)
	want(t, e.do(t, req{method: "PATCH", path: prob, token: cadre, header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)},
		body: map[string]any{"description": "覆盖"}}), 412, "version_mismatch")
	want(t, e.do(t, req{method: "PATCH", path: prob, token: cadre, body: map[string]any{"description": "覆盖", "version": v}}), 412, "version_mismatch")
	now := e.do(t, req{method: "GET", path: prob, token: cadre})
	if now.str("description") == "覆盖" || now.str("status") != "resolved" || now.str("resolvedAt") != f.c.today {
		t.Errorf("after stale edits: %s", now.body)
	}
	// Reopening clears the resolution.
	re := e.do(t, req{method: "PATCH", path: prob, token: cadre, body: map[string]any{"status": "in_progress"}})
	want(t, re, 200)
	if re.str("resolution") != "" || re.str("resolvedAt") != "" {
		t.Errorf("reopened problem keeps its resolution: %s", re.body)
	}

	targ := "/api/v1/targets/" + f.c.targA1
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: cadre,
		body: map[string]any{"domain": "leadership", "task": "collective_economy", "kind": "common", "title": "x", "year": 2026}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: cadre,
		body: map[string]any{"domain": "leadership", "task": "strengthen_team", "kind": "shared", "title": "x", "year": 1999, "due": "31/12/2026"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: targ + "/progress", token: cadre, body: map[string]any{"date": "2999-01-01", "percent": 10}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: targ + "/progress", token: cadre, body: map[string]any{"date": f.c.today, "percent": 101}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: cadre,
		body: map[string]any{"domain": "leadership", "task": "strengthen_team", "kind": "common", "title": "x", "year": 2026, "campaignId": f.villA1}}), 422, "validation_failed")
	if l := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/targets", token: cadre}); len(l.items()) != 1 {
		t.Errorf("%d targets in A1 after bad requests, want 1", len(l.items()))
	}
}

func TestTargetProgressAndOverdue(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	cadre := f.tokens[domain.RoleCadre]
	mk := e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: cadre, body: map[string]any{
		"domain": "livelihood", "task": "living_environment", "kind": "differentiated", "title": "雨污分流改造", "year": 2026, "due": "2026-01-31"}})
	want(t, mk, 201)
	id := mk.str("id")
	if mk.str("status") != "not_started" || mk.json["overdue"] != (f.c.today > "2026-01-31") {
		t.Fatalf("new target: %s", mk.body)
	}
	add := func(date string, pct int) *resp {
		r := e.do(t, req{method: "POST", path: "/api/v1/targets/" + id + "/progress", token: cadre, body: map[string]any{"date": date, "percent": pct, "note": "进展"}})
		want(t, r, 201)
		return r
	}
	r := add("2026-01-10", 30)
	if tg := r.json["target"].(map[string]any); tg["status"] != "in_progress" || tg["percent"].(float64) != 30 {
		t.Fatalf("after 30%%: %v", tg)
	}
	// A late entry for an earlier day does not move the target back.
	r = add("2026-01-20", 60)
	r = add("2026-01-05", 10)
	if tg := r.json["target"].(map[string]any); tg["percent"].(float64) != 60 || tg["progressAt"] != "2026-01-20" {
		t.Fatalf("backdated entry moved the target: %v", tg)
	}
	r = add("2026-01-25", 100)
	if tg := r.json["target"].(map[string]any); tg["status"] != "done" || tg["overdue"] != false {
		t.Fatalf("done: %v", tg)
	}
	h := e.do(t, req{method: "GET", path: "/api/v1/targets/" + id + "/progress", token: cadre}).items()
	if len(h) != 4 || h[0]["date"] != "2026-01-05" || h[3]["percent"].(float64) != 100 {
		t.Fatalf("history: %v", h)
	}
	led := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/ledger", token: cadre})
	tc := led.json["targets"].(map[string]any)
	if tc["total"].(float64) != 2 || tc["done"].(float64) != 1 {
		t.Errorf("ledger targets %v", tc)
	}
}

func TestTeamScopeMixAndSuggestions(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	admin := f.tokens[domain.RoleAdmin]
	unit := func(name, typ string) string {
		r := e.do(t, req{method: "POST", path: "/api/v1/units", token: admin, body: map[string]any{"name": name, "type": typ}})
		want(t, r, 201)
		return r.str("id")
	}
	econ, pl := unit("区发改局", "economic"), unit("区政法委", "political_legal")
	person := func(phone string, body map[string]any) (string, string) {
		body["name"], body["phone"], body["password"], body["role"] = "干部"+phone[7:], phone, testPassword, "cadre"
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: f.tokens[domain.RoleSysAdmin], body: body})
		want(t, r, 201)
		return r.str("id"), e.login(t, phone, testPassword)
	}
	young, youngTok := person("13600000001", map[string]any{"unitId": econ, "birthYear": 1998})
	senior, _ := person("13600000002", map[string]any{"unitId": pl, "ageTier": "senior"})
	// Without a team the new cadre sees no village.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.c.villB2, token: youngTok}), 404, "not_found")
	// B2 has problems of disorder and poverty.
	for _, a := range []string{"public_order", "petitions", "weak_economy"} {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.c.villB2 + "/problems", token: admin,
			body: map[string]any{"aspect": a, "description": a, "source": "field_check"}}), 201)
	}
	sg := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.c.villB2 + "/unit-suggestions", token: admin}).items()
	if len(sg) != 2 || sg[0]["type"] != "political_legal" || sg[0]["problems"].(float64) != 2 || sg[1]["type"] != "economic" {
		t.Fatalf("suggestions: %v", sg)
	}
	tm := e.do(t, req{method: "POST", path: "/api/v1/teams", token: admin, body: map[string]any{"campaignId": f.c.campaign,
		"villageId": f.c.villB2, "leaderId": senior, "memberIds": []string{young}}})
	want(t, tm, 201)
	if tm.json["mixComplete"] != false || !slices.Equal(asStrings(tm.json["missingTiers"]), []string{"middle"}) {
		t.Errorf("age mix: %v %v", tm.json["ageMix"], tm.json["missingTiers"])
	}
	if got := asStrings(tm.json["missingUnitTypes"]); len(got) != 0 {
		t.Errorf("the team has both unit types its problems call for, yet lacks %v", got)
	}
	// Team membership gives the village at once, and the team's removal of the member takes it away.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.c.villB2, token: youngTok}), 200)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.c.villB2 + "/problems", token: youngTok,
		body: map[string]any{"aspect": "infrastructure", "description": "道路破损", "source": "team"}}), 201)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villB1, token: youngTok}), 404)
	p := e.do(t, req{method: "PATCH", path: "/api/v1/teams/" + tm.str("id"), token: admin, body: map[string]any{"memberIds": []string{}, "version": 1}})
	want(t, p, 200)
	if got := asStrings(p.json["missingUnitTypes"]); !slices.Equal(got, []string{"economic", "line"}) {
		t.Errorf("missing unit types after the economist left: %v", got)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.c.villB2, token: youngTok}), 404, "not_found")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/teams/" + tm.str("id"), token: admin, body: map[string]any{"memberIds": []string{young}, "version": 1}}), 412, "version_mismatch")
}

func TestCataloguesAndCandidateExport(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	admin := f.tokens[domain.RoleAdmin]
	counts := map[string]int{"manifestations": 10, "problem-aspects": 8, "domains": 6, "tasks": 11}
	for kind, n := range counts {
		l := e.do(t, req{method: "GET", path: "/api/v1/catalogues/" + kind, token: f.tokens[domain.RoleCadre]}).items()
		if len(l) != n {
			t.Errorf("%s: %d items, want %d", kind, len(l), n)
		}
	}
	ms := e.do(t, req{method: "GET", path: "/api/v1/catalogues/manifestations", token: admin}).items()
	fromReport := 0
	for _, m := range ms {
		if m["fromReport"].(bool) {
			fromReport++
		}
	}
	if fromReport != 4 || ms[0]["name"] != "集体经济空壳村" {
		t.Errorf("manifestations: %d from the report, first %v", fromReport, ms[0]["name"])
	}
	tasks := e.do(t, req{method: "GET", path: "/api/v1/catalogues/tasks", token: admin}).items()
	for _, tk := range tasks {
		if tk["domain"] == "" || tk["domain"] == nil {
			t.Errorf("task %v has no domain", tk["code"])
		}
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/catalogues/colours", token: admin}), 404, "not_found")
	// Admins add, rename and retire items; a retired code cannot be used any more.
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/manifestations/land_disputes", token: admin, body: map[string]any{"name": "土地纠纷突出"}}), 201)
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/manifestations/land_disputes", token: admin, body: map[string]any{"active": false}}), 200)
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/campaigns/" + f.c.campaign + "/evaluations/" + f.villA1, token: admin,
		body: map[string]any{"score": 50, "manifestations": []string{"land_disputes"}}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/tasks/new_task", token: admin, body: map[string]any{"name": "新任务"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/tasks/new_task", token: admin, body: map[string]any{"name": "新任务", "domain": "nowhere"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/tasks/Bad-Code", token: admin, body: map[string]any{"name": "x"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/catalogues/manifestations/weak_service", token: f.tokens[domain.RoleTownAdmin], body: map[string]any{"name": "x"}}), 403, "forbidden")
	// Seeding again at start-up keeps the edits.
	if err := (domain.CatalogueService{Store: e.store, Audit: domain.Auditor{Store: e.store, Now: e.clock.Now}, Now: e.clock.Now}).Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	ms = e.do(t, req{method: "GET", path: "/api/v1/catalogues/manifestations", token: admin}).items()
	if len(ms) != 11 || ms[10]["active"] != false {
		t.Errorf("after re-seeding: %d items, last %v", len(ms), ms[len(ms)-1])
	}

	x := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/candidates.xlsx", token: f.tokens[domain.RoleTownAdmin]})
	want(t, x, 200)
	wb, err := excelize.OpenReader(bytes.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.GetRows(wb.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	// The town admin of A gets A's four candidates (share 1.0), worst first, with names of manifestations.
	if len(rows) != 5 || rows[1][1] != "市东街道" || !strings.Contains(rows[1][5], "党组织服务能力弱") {
		t.Fatalf("export rows: %v", rows)
	}
}
