package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"zhucun/domain"
)

// summary asks for a scope's metrics.
func (e *env) summary(t *testing.T, token, query string) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/stats/summary?" + query, token: token})
	want(t, r, 200)
	return r.json["metrics"].(map[string]any)
}

func metric(m map[string]any, name string) int64 {
	f, _ := m[name].(float64)
	return int64(f)
}

// TestStatsReportScale files what the report counts for its four months
// and reads the same numbers back, for the district, every town (which add
// up to the district) and every village (which add up to their town).
func TestStatsReportScale(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.Backfill = 200 * 24 * time.Hour })
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	rng := rand.New(rand.NewPCG(3, 5))
	now := e.clock.Now()
	from := now.Add(-119 * 24 * time.Hour)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	// Ten towns of two villages each (the fixture's A and B among them).
	towns := []string{f.townA, f.townB}
	for i := len(towns); i < 10; i++ {
		r := e.do(t, req{method: "POST", path: "/api/v1/towns", token: admin, body: map[string]any{"name": fmt.Sprintf("镇%d", i)}})
		want(t, r, 201)
		towns = append(towns, r.str("id"))
	}
	villagesOf := map[string][]string{f.townA: {f.villA1, f.villA2}, f.townB: {f.villB1}}
	var villages []string
	for _, tw := range towns {
		for len(villagesOf[tw]) < 2 {
			r := e.do(t, req{method: "POST", path: "/api/v1/villages", token: admin,
				body: map[string]any{"name": fmt.Sprintf("村%d", len(villages)+len(villagesOf[tw])), "townId": tw, "kind": "village"}})
			want(t, r, 201)
			villagesOf[tw] = append(villagesOf[tw], r.str("id"))
		}
		villages = append(villages, villagesOf[tw]...)
	}
	when := func() time.Time { return from.Add(time.Duration(rng.Int64N(int64(118 * 24 * time.Hour)))) }
	var items []map[string]any
	report := func(kind string, extra map[string]any) {
		body := map[string]any{"id": domain.NewID(e.clock.Now()), "kind": kind, "villageId": villages[rng.IntN(len(villages))], "occurredAt": when()}
		for k, v := range extra {
			body[k] = v
		}
		items = append(items, map[string]any{"type": "report", "op": "create", "data": body})
	}
	for range 27 {
		report("leader_research", map[string]any{"findings": "实地调研"})
	}
	for range 163 {
		report("meeting", map[string]any{"meetingType": "two_committees", "topics": []string{"整顿"}})
	}
	for range 30 {
		report("meeting", map[string]any{"meetingType": "party_members"})
	}
	// 398 party members and 1,263 households, in visits of a few each.
	split := func(total, parts int) []int {
		out := make([]int, parts)
		for i := range out {
			out[i] = 1
		}
		for left := total - parts; left > 0; left-- {
			out[rng.IntN(parts)]++
		}
		return out
	}
	for _, n := range split(398, 120) {
		report("visit", map[string]any{"visitee": "party_member", "count": n})
	}
	for _, n := range split(1263, 300) {
		report("visit", map[string]any{"visitee": "household", "count": n})
	}
	for range 19 {
		report("reserve_candidate", map[string]any{"candidate": map[string]any{"name": "张某", "birthYear": 1990}})
	}
	for i := range 40 {
		identified := when()
		body := map[string]any{"id": domain.NewID(e.clock.Now()), "villageId": villages[rng.IntN(len(villages))], "identifiedAt": identified,
			"category": "land", "description": "土地纠纷"}
		if i < 20 {
			resolved := identified.Add(time.Duration(rng.IntN(72)) * time.Hour)
			if resolved.After(now) {
				resolved = now.Add(-time.Minute)
			}
			body["status"], body["resolvedAt"], body["resolution"], body["lossesRecoveredFen"] = "resolved", resolved, "调解", 850_000_000/20
		}
		items = append(items, map[string]any{"type": "dispute", "op": "create", "data": body})
	}
	for start := 0; start < len(items); start += 500 {
		end := min(start+500, len(items))
		r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: admin, body: map[string]any{"items": items[start:end]}})
		want(t, r, 200)
		for i, res := range r.json["results"].([]any) {
			if st := res.(map[string]any)["status"]; st != "created" {
				t.Fatalf("item %d: %v", start+i, res)
			}
		}
	}
	year := now.In(loc).Year()
	for i := range 364 {
		r := e.do(t, req{method: "POST", path: "/api/v1/villages/" + villages[i%len(villages)] + "/targets", token: admin, body: map[string]any{
			"domain": "leadership", "task": "strengthen_team", "kind": "common", "title": fmt.Sprintf("目标%d", i), "year": year,
			"due": fmt.Sprintf("%d-12-31", year)}})
		want(t, r, 201)
	}

	q := fmt.Sprintf("from=%s&to=%s", from.In(loc).Format(time.DateOnly), now.In(loc).Format(time.DateOnly))
	district := e.summary(t, admin, "scope=district&"+q)
	for name, n := range map[string]int64{"leader_research_visits": 27, "committee_meetings": 163, "meetings": 193, "party_members_visited": 398,
		"households_visited": 1263, "conflicts_identified": 40, "disputes_resolved": 20, "reserve_candidates": 19, "targets_set": 364,
		"losses_recovered_fen": 850_000_000} {
		if got := metric(district, name); got != n {
			t.Errorf("district %s = %d, want %d", name, got, n)
		}
	}
	sumTowns := map[string]int64{}
	for _, tw := range towns {
		town := e.summary(t, admin, "scope=town&id="+tw+"&"+q)
		sumVillages := map[string]int64{}
		for _, v := range villagesOf[tw] {
			for name := range e.summary(t, admin, "scope=village&id="+v+"&"+q) {
				sumVillages[name] += metric(e.summary(t, admin, "scope=village&id="+v+"&"+q), name)
			}
		}
		for _, name := range domain.MetricNames {
			sumTowns[name] += metric(town, name)
			if name != "onpost_rate" && sumVillages[name] != metric(town, name) {
				t.Errorf("town %s: villages add up to %s = %d, the town has %d", tw, name, sumVillages[name], metric(town, name))
			}
		}
	}
	for _, name := range domain.MetricNames {
		if name != "onpost_rate" && sumTowns[name] != metric(district, name) {
			t.Errorf("towns add up to %s = %d, the district has %d", name, sumTowns[name], metric(district, name))
		}
	}
	// Every count equals a recount from the records.
	if diffs, err := e.store.VerifyStats(t.Context()); err != nil || len(diffs) > 0 {
		t.Fatalf("verify: %v %v", err, diffs)
	}
}

// TestStatsFollowEdits checks each kind of event moves with its record:
// resends change nothing, an edit moves a count to another day (and
// period), a delete takes it away; checkins count once per cadre and day;
// projects are active between their start and completion; photos count
// when completed; plans give the on-post rate; scopes are checked.
func TestStatsFollowEdits(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, admin := f.tokens[domain.RoleCadre], f.tokens[domain.RoleAdmin]
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := e.clock.Now().In(loc)
	today := now.Format(time.DateOnly)
	yesterday := now.AddDate(0, 0, -1)
	vq := "scope=village&id=" + f.villA1 + "&from=" + now.AddDate(0, 0, -30).Format(time.DateOnly) + "&to=" + today
	dayQ := func(d time.Time) string {
		return "scope=village&id=" + f.villA1 + "&from=" + d.Format(time.DateOnly) + "&to=" + d.Format(time.DateOnly)
	}
	post := func(path string, body map[string]any, status int) *resp {
		t.Helper()
		r := e.do(t, req{method: "POST", path: path, token: cadre, body: body})
		want(t, r, status)
		return r
	}
	visit := map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": f.villA1, "occurredAt": yesterday,
		"visitee": "household", "count": 4}
	v := post("/api/v1/reports", visit, 201)
	post("/api/v1/reports", visit, 200) // a resend
	if n := metric(e.summary(t, cadre, dayQ(yesterday)), "households_visited"); n != 4 {
		t.Fatalf("households yesterday %d, want 4", n)
	}
	// Moved to today with another count.
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + v.str("id"), token: cadre,
		body: map[string]any{"version": 1, "occurredAt": now.Add(-time.Minute), "count": 6}}), 200)
	if y, d := metric(e.summary(t, cadre, dayQ(yesterday)), "households_visited"), metric(e.summary(t, cadre, dayQ(now)), "households_visited"); y != 0 || d != 6 {
		t.Fatalf("after the move: yesterday %d, today %d", y, d)
	}
	want(t, e.do(t, req{method: "DELETE", path: "/api/v1/reports/" + v.str("id"), token: cadre, header: map[string]string{"If-Match": `"2"`}}), 204)
	if n := metric(e.summary(t, cadre, vq), "households_visited"); n != 0 {
		t.Fatalf("after the delete: %d", n)
	}

	// Two checkins by one cadre on one day are one day; a plan of 4 days gives 25 %.
	for range 2 {
		post("/api/v1/reports", map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "checkin", "villageId": f.villA1,
			"occurredAt": now.Add(-time.Minute), "location": map[string]any{"lat": 34.7, "lng": 113.6}}, 201)
	}
	y, w := now.ISOWeek()
	week := fmt.Sprintf("%04dW%02d", y, w)
	days, _ := domain.ParseWeek(week)
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/onpost-plans/" + f.ids[domain.RoleCadre] + "/" + week, token: admin,
		body: map[string]any{"days": days[:4]}}), 200)
	m := e.summary(t, cadre, "scope=village&id="+f.villA1+"&period="+week)
	if metric(m, "checkins") != 1 || m["onpost_rate"] != 0.25 {
		t.Fatalf("week %s: checkins %v, onpost_rate %v", week, m["checkins"], m["onpost_rate"])
	}

	// A project is active from its start to its completion.
	p := post("/api/v1/projects", map[string]any{"id": domain.NewID(e.clock.Now()), "villageId": f.villA1, "name": "大棚",
		"projectType": "greenhouse", "budgetFen": 100}, 201)
	if n := metric(e.summary(t, cadre, vq), "projects_active"); n != 0 {
		t.Fatalf("a planned project is active: %d", n)
	}
	post("/api/v1/projects/"+p.str("id")+"/updates", map[string]any{"id": domain.NewID(e.clock.Now()), "date": yesterday.Format(time.DateOnly),
		"note": "开工", "stage": "in_progress"}, 201)
	if n := metric(e.summary(t, cadre, vq), "projects_active"); n != 1 {
		t.Fatalf("a started project: %d", n)
	}
	post("/api/v1/projects/"+p.str("id")+"/updates", map[string]any{"id": domain.NewID(e.clock.Now()), "date": today,
		"note": "竣工", "stage": "completed"}, 201)
	if a, b := metric(e.summary(t, cadre, vq), "projects_active"), metric(e.summary(t, cadre, dayQ(yesterday)), "projects_active"); a != 0 || b != 1 {
		t.Fatalf("completed today: active at the end %d (want 0), at yesterday's end %d (want 1)", a, b)
	}

	// A photo counts once completed.
	want(t, e.uploadPhoto(t, cadre, f.villA1, "", testPhoto(t, 16, 16, nil)), 201)
	if n := metric(e.summary(t, cadre, vq), "photos"); n != 1 {
		t.Fatalf("photos %d", n)
	}

	// Periods and scopes.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=village&id=" + f.villB1 + "&period=2026", token: cadre}), 404)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=district&period=2026", token: cadre}), 404)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=town&id=" + f.townB + "&period=2026", token: f.tokens[domain.RoleTownAdmin]}), 404)
	for _, bad := range []string{"period=2026W54", "period=202613", "period=2026Q5", "period=26", "from=2026-03-01",
		"from=2026-03-02&to=2026-03-01", "period=2026&from=2026-01-01&to=2026-01-02", "scope=county&period=2026"} {
		want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/summary?" + bad, token: admin}), 422)
	}
	for _, ok := range []string{"period=2026W05", "period=202603", "period=2026Q1", "period=2026S1", "period=2026", "from=2026-01-01&to=2026-07-19"} {
		want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/summary?" + ok, token: admin}), 200)
	}
	s := e.do(t, req{method: "GET", path: "/api/v1/stats/series?metric=checkins&interval=week&scope=village&id=" + f.villA1 +
		"&from=" + days[0] + "&to=" + days[6], token: cadre})
	want(t, s, 200)
	if pts := s.json["points"].([]any); len(pts) != 1 || pts[0].(map[string]any)["value"] != 1.0 {
		t.Fatalf("series: %s", s.body)
	}
	if diffs, err := e.store.VerifyStats(t.Context()); err != nil || len(diffs) > 0 {
		t.Fatalf("verify: %v %v", err, diffs)
	}
}

// TestVillageTableAndLights reads the village table: provisional lights
// with their reasons, then an assessment's.
func TestVillageTableAndLights(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	table := func() map[string]map[string]any {
		r := e.do(t, req{method: "GET", path: "/api/v1/stats/villages?period=2026&townId=" + f.townA, token: admin})
		want(t, r, 200)
		out := map[string]map[string]any{}
		for _, it := range r.items() {
			out[it["villageId"].(string)] = it
		}
		return out
	}
	light := func(row map[string]any) (string, []string) {
		l := row["light"].(map[string]any)
		var codes []string
		for _, r := range l["reasons"].([]any) {
			codes = append(codes, r.(map[string]any)["code"].(string))
		}
		return l["light"].(string), codes
	}
	rows := table()
	if len(rows) != 2 {
		t.Fatalf("town A has %d rows, want 2", len(rows))
	}
	if l, codes := light(rows[f.villA1]); l != "yellow" || len(codes) != 1 || codes[0] != "no_onpost_7_days" {
		t.Fatalf("A1 with no checkin: %s %v", l, codes)
	}
	// A dispute open for 40 days and an unresolved problem make it red.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: admin, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"villageId": f.villA1, "identifiedAt": e.clock.Now().Add(-40 * 24 * time.Hour), "category": "family", "description": "家庭纠纷"}}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", token: admin,
		body: map[string]any{"aspect": "disunity", "description": "班子不团结", "source": "evaluation"}}), 201)
	if l, codes := light(table()[f.villA1]); l != "red" || len(codes) != 3 {
		t.Fatalf("A1: %s %v", l, codes)
	}
	// An assessment decides the light; the live one stays beside it.
	body := assessmentBody(80)
	body["scores"] = append(body["scores"].([]map[string]any), map[string]any{"indicator": "village_targets", "score": 8})
	a := e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026S1", token: admin, body: body})
	want(t, a, 201)
	if a.str("light") != "green" || a.json["total"].(float64) != 88 {
		t.Fatalf("assessment: %s", a.body)
	}
	row := table()[f.villA1]["light"].(map[string]any)
	if row["light"] != "green" || row["source"] != "draft" || row["provisional"] != "red" {
		t.Fatalf("light with an assessment: %v", row)
	}
	// Replacing it with a stale version is 412; bad scores are 422.
	body["version"] = 7
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026S1", token: admin, body: body}), 412)
	bad := assessmentBody(88)
	bad["scores"] = bad["scores"].([]map[string]any)[:7]
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026S1", token: admin, body: bad}), 422)
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026Q1", token: admin, body: assessmentBody(50)}), 422)
	over := assessmentBody(88)
	over["scores"].([]map[string]any)[0]["score"] = 11
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026S1", token: admin, body: over}), 422)
	low := assessmentBody(60)
	low["scores"] = append(low["scores"].([]map[string]any), map[string]any{"indicator": "discipline", "score": 5})
	r := e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + f.villA1 + "/2026S1", token: admin, body: low})
	want(t, r, 200)
	if r.str("light") != "red" || r.json["total"].(float64) != 55 {
		t.Fatalf("55 points: %s", r.body)
	}
}

func TestFieldChecksAndMonthly(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin, townA := f.tokens[domain.RoleAdmin], f.tokens[domain.RoleTownAdmin]
	body := fieldCheckBody(f.villA1)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: townA, body: body}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: townA, body: body}), 200)
	body["rating"] = "poor"
	want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: townA, body: body}), 409, "id_conflict")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: townA, body: fieldCheckBody(f.villB1)}), 404)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: f.tokens[domain.RoleCadre], body: fieldCheckBody(f.villA1)}), 403)
	bad := fieldCheckBody(f.villA1)
	bad["rating"], bad["date"], bad["checkers"] = "great", "2099-01-01", []string{}
	r := e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: admin, body: bad})
	want(t, r, 422)
	if n := len(r.json["errors"].([]any)); n != 3 {
		t.Fatalf("three bad fields, %d named: %s", n, r.body)
	}
	q1 := e.do(t, req{method: "GET", path: "/api/v1/field-checks?quarter=2026Q1&villageId=" + f.villA1, token: f.tokens[domain.RoleCadre]})
	want(t, q1, 200)
	if items := q1.items(); len(items) != 1 || items[0]["quarter"] != "2026Q1" {
		t.Fatalf("Q1 checks: %s", q1.body)
	}
	if items := e.do(t, req{method: "GET", path: "/api/v1/field-checks?quarter=2026Q2", token: admin}).items(); len(items) != 0 {
		t.Fatalf("Q2 checks: %d", len(items))
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/field-checks?quarter=Q1", token: admin}), 422)

	// The month: a target and its progress, a problem resolved.
	tg := e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: admin, body: map[string]any{
		"domain": "leadership", "task": "strengthen_team", "kind": "common", "title": "配强班子", "year": 2026, "due": "2026-02-28"}})
	want(t, tg, 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/targets/" + tg.str("id") + "/progress", token: admin,
		body: map[string]any{"date": "2026-03-10", "percent": 60, "note": "进行中"}}), 201)
	pb := e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", token: admin,
		body: map[string]any{"aspect": "disunity", "description": "班子不团结", "source": "evaluation"}})
	want(t, pb, 201)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/problems/" + pb.str("id"), token: admin,
		body: map[string]any{"version": 1, "status": "resolved", "resolution": "调整班子", "resolvedAt": "2026-03-20"}}), 200)
	m := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/monthly?month=202603", token: f.tokens[domain.RoleCadre]})
	want(t, m, 200)
	targets := m.json["targets"].([]any)
	if len(targets) != 1 || targets[0].(map[string]any)["percent"] != 60.0 || targets[0].(map[string]any)["overdue"] != true {
		t.Fatalf("targets: %v", targets)
	}
	if len(m.json["problemsResolved"].([]any)) != 1 || metric(m.json["metrics"].(map[string]any), "problems_resolved") != 1 ||
		metric(m.json["metrics"].(map[string]any), "targets_overdue") != 1 {
		t.Fatalf("month: %s", m.body)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/monthly?month=2026Q1", token: admin}), 422)
}
