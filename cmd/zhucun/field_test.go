package main

import (
	"fmt"
	"testing"
	"time"

	"zhucun/domain"
)

func TestDisputeLifecycle(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	id := domain.NewID(time.Now())
	identified := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: cadre, body: map[string]any{"id": id, "villageId": f.villA1,
		"identifiedAt": identified, "category": "economic", "description": "工程款纠纷", "parties": []string{"施工队", "村委会"}, "source": "排查"}})
	want(t, r, 201)
	if r.str("status") != "identified" || r.str("type") != "dispute" {
		t.Fatalf("new dispute: %s", r.body)
	}
	path := "/api/v1/disputes/" + id
	want(t, e.do(t, req{method: "PATCH", path: path, token: cadre, body: map[string]any{"status": "mediating"}}), 200)
	// Resolving needs its date and resolution; the date cannot precede identification.
	want(t, e.do(t, req{method: "POST", path: path + "/resolve", token: cadre, body: map[string]any{"resolution": "调解"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: path + "/resolve", token: cadre, body: map[string]any{"resolution": "调解",
		"resolvedAt": identified.Add(-time.Hour)}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: path + "/resolve", token: cadre, body: map[string]any{"resolution": "调解",
		"resolvedAt": time.Now().Add(-time.Hour), "lossesRecoveredFen": -5}}), 422, "validation_failed")
	res := map[string]any{"resolution": "协调追回工程款", "resolvedAt": time.Now().Add(-time.Hour).Truncate(time.Second), "lossesRecoveredFen": 850_000_000}
	ok := e.do(t, req{method: "POST", path: path + "/resolve", token: cadre, body: res})
	want(t, ok, 200)
	if ok.str("status") != "resolved" || ok.json["lossesRecoveredFen"].(float64) != 850_000_000 || ok.json["version"].(float64) != 3 {
		t.Fatalf("resolved: %s", ok.body)
	}
	// A resend is fine; a resolved dispute stays resolved.
	again := e.do(t, req{method: "POST", path: path + "/resolve", token: cadre, body: res})
	want(t, again, 200)
	if again.json["version"].(float64) != 3 {
		t.Errorf("a resent resolve made a new version: %s", again.body)
	}
	want(t, e.do(t, req{method: "POST", path: path + "/escalate", token: cadre, body: map[string]any{"escalatedTo": "区信访局",
		"escalatedAt": time.Now().Add(-time.Minute)}}), 409, "invalid_transition")
	// (The same versionless edit as before would be taken for its resend: edits name their version.)
	want(t, e.do(t, req{method: "PATCH", path: path, token: cadre, body: map[string]any{"status": "mediating", "version": 3}}), 409, "invalid_transition")
	// Escalation of another one, then its resolution by the department's answer.
	id2 := domain.NewID(time.Now())
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: cadre, body: map[string]any{"id": id2, "villageId": f.villA1,
		"identifiedAt": identified, "category": "petition", "description": "信访积案"}}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id2 + "/escalate", token: cadre, body: map[string]any{"escalatedTo": ""}}), 422, "validation_failed")
	esc := e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id2 + "/escalate", token: cadre, body: map[string]any{"escalatedTo": "区纪委监委",
		"escalatedAt": time.Now().Add(-time.Minute)}})
	want(t, esc, 200)
	if esc.str("status") != "escalated" || esc.str("escalatedTo") != "区纪委监委" {
		t.Fatalf("escalated: %s", esc.body)
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id2 + "/resolve", token: cadre, body: map[string]any{"resolution": "纪委查处",
		"resolvedAt": time.Now().Add(-time.Minute)}}), 200)
	l := e.do(t, req{method: "GET", path: "/api/v1/disputes?status=resolved", token: cadre})
	if len(l.items()) != 2 {
		t.Errorf("%d resolved disputes listed, want 2", len(l.items()))
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: cadre, body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
		"identifiedAt": identified, "category": "gossip", "description": "x"}}), 422, "validation_failed")
}

func TestProjectsUpdatesAndFunds(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	today := domain.Today(time.Now(), time.UTC)
	pid := domain.NewID(time.Now())
	p := e.do(t, req{method: "POST", path: "/api/v1/projects", token: cadre, body: map[string]any{"id": pid, "villageId": f.villA1,
		"name": "进村道路改建", "projectType": "road", "budgetFen": 100_000_000}})
	want(t, p, 201)
	if p.str("stage") != "planned" || p.str("projectType") != "road" || p.str("type") != "project" {
		t.Fatalf("project: %s", p.body)
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/projects", token: cadre, body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
		"name": "x", "projectType": "spaceport"}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/projects/" + pid, token: cadre, body: map[string]any{"stage": "completed"}}), 422, "validation_failed")
	// A dated update that starts the work moves the project; its resend does not make a second.
	uid := domain.NewID(time.Now())
	upd := map[string]any{"id": uid, "date": today, "note": "开工", "stage": "in_progress", "photoIds": []string{domain.NewID(time.Now())}}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/projects/" + pid + "/updates", token: cadre, body: upd}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/projects/" + pid + "/updates", token: cadre, body: upd}), 200)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/projects/" + pid + "/updates", token: cadre, body: map[string]any{"id": domain.NewID(time.Now()),
		"date": "2999-01-01", "note": "x"}}), 422, "validation_failed")
	g := e.do(t, req{method: "GET", path: "/api/v1/projects/" + pid, token: cadre})
	if g.str("stage") != "in_progress" || g.str("startedOn") != today {
		t.Fatalf("after the update: %s", g.body)
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/projects/" + pid + "/updates", token: cadre, body: map[string]any{"id": domain.NewID(time.Now()),
		"date": today, "note": "竣工验收", "stage": "completed"}}), 201)
	g = e.do(t, req{method: "GET", path: "/api/v1/projects/" + pid, token: cadre})
	if g.str("stage") != "completed" || g.str("completedOn") != today {
		t.Fatalf("after completion: %s", g.body)
	}
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/projects/" + pid + "/updates", token: cadre}).items()); n != 2 {
		t.Fatalf("%d updates, want 2", n)
	}
	// Funds: positive fen, a named source, the project of the same village.
	fund := func(body map[string]any) *resp {
		body["id"], body["villageId"] = domain.NewID(time.Now()), f.villA1
		return e.do(t, req{method: "POST", path: "/api/v1/funds", token: cadre, body: body})
	}
	want(t, fund(map[string]any{"amountFen": 0, "source": "区财政", "purpose": "修路", "receivedOn": today}), 422, "validation_failed")
	want(t, fund(map[string]any{"amountFen": 5, "purpose": "修路", "receivedOn": today}), 422, "validation_failed")
	want(t, fund(map[string]any{"amountFen": 5, "source": "区财政", "purpose": "修路", "receivedOn": today, "amountFen2": 1}), 422, "validation_failed")
	want(t, fund(map[string]any{"amountFen": 5, "source": "区财政", "purpose": "修路", "receivedOn": today, "projectId": domain.NewID(time.Now())}), 422, "validation_failed")
	ok := fund(map[string]any{"amountFen": 100_000_000, "source": "区财政", "purpose": "修路", "receivedOn": today, "projectId": pid})
	want(t, ok, 201)
	l := e.do(t, req{method: "GET", path: "/api/v1/funds?projectId=" + pid, token: cadre})
	if len(l.items()) != 1 || l.items()[0]["amountFen"].(float64) != 100_000_000 {
		t.Fatalf("funds of the project: %s", l.body)
	}
}

func TestOnPostPlanAgainstCheckins(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	// Last week, in Asia/Shanghai as the campaign counts days.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	y, w := time.Now().In(loc).AddDate(0, 0, -7).ISOWeek()
	week := fmt.Sprintf("%dW%02d", y, w)
	days, err := domain.ParseWeek(week)
	if err != nil {
		t.Fatal(err)
	}
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/onpost-plans/" + f.ids[domain.RoleCadre] + "/" + week, token: cadre,
		body: map[string]any{"days": []string{days[0], days[1], days[2]}}}), 200)
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/onpost-plans/" + f.ids[domain.RoleCadre] + "/" + week, token: cadre,
		body: map[string]any{"days": []string{"1999-01-01"}}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/onpost-plans/" + f.ids[domain.RoleCadre] + "/2026W99", token: cadre,
		body: map[string]any{"days": []string{}}}), 404, "not_found")
	checkin := func(day string, hour int) {
		d, _ := time.ParseInLocation(domain.DateLayout, day, loc)
		want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(time.Now()),
			"kind": "checkin", "villageId": f.villA1, "occurredAt": d.Add(time.Duration(hour) * time.Hour),
			"location": map[string]any{"lat": 37.4, "lng": 118.0}}}), 201)
	}
	checkin(days[0], 8)
	checkin(days[0], 17) // the same day twice counts once
	checkin(days[2], 1)  // 01:00 in Shanghai is the previous day in UTC: still days[2]
	checkin(days[5], 9)  // not planned
	r := e.do(t, req{method: "GET", path: "/api/v1/onpost?week=" + week + "&townId=" + f.townA, token: f.tokens[domain.RoleTownAdmin]})
	want(t, r, 200)
	var row map[string]any
	for _, it := range r.items() {
		if it["cadreId"] == f.ids[domain.RoleCadre] {
			row = it
		}
	}
	if row == nil {
		t.Fatalf("no row for the cadre: %s", r.body)
	}
	if row["plannedDaysMet"].(float64) != 2 || len(row["checkinDays"].([]any)) != 3 || fmt.Sprintf("%.3f", row["onPostRate"]) != "0.667" {
		t.Fatalf("row: %v", row)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/onpost", token: cadre}), 422, "invalid_query")
}

// TestDatesInTheCampaignZone: a fund's receivedOn and a project update's
// date are calendar dates of the campaign's time zone — at 01:00 in
// Shanghai (17:00 UTC the day before) that day is today, not the future.
func TestDatesInTheCampaignZone(t *testing.T) {
	e := newEnv(t)
	e.clock.mu.Lock()
	e.clock.now = time.Now().UTC().Truncate(24 * time.Hour).Add(-7 * time.Hour) // 17:00 UTC yesterday, 01:00 today in Shanghai
	e.clock.mu.Unlock()
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	today := domain.Today(e.clock.Now(), shanghai)
	tomorrow := domain.Today(e.clock.Now().AddDate(0, 0, 1), shanghai)
	fund := func(day string) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/funds", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
			"villageId": f.villA1, "amountFen": 100, "source": "区财政", "purpose": "修路", "receivedOn": day}})
	}
	want(t, fund(today), 201)
	want(t, fund(tomorrow), 422, "validation_failed")
	p := e.do(t, req{method: "POST", path: "/api/v1/projects", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"villageId": f.villA1, "name": "大棚", "projectType": "greenhouse"}})
	want(t, p, 201)
	update := func(day string) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/projects/" + p.str("id") + "/updates", token: cadre,
			body: map[string]any{"id": domain.NewID(e.clock.Now()), "date": day, "note": "开工", "stage": "in_progress"}})
	}
	want(t, update(tomorrow), 422, "validation_failed")
	want(t, update(today), 201)
}
