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
