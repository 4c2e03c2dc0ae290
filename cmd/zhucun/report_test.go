package main

import (
	"fmt"
	"testing"
	"time"

	"zhucun/domain"
)

func TestReportsNeverDuplicate(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	id := domain.NewID(time.Now())
	body := map[string]any{"id": id, "kind": "meeting", "villageId": f.villA1, "occurredAt": time.Now().Add(-2 * time.Hour).Format(time.RFC3339),
		"meetingType": "two_committees", "attendees": 7, "topics": []string{"换届准备"}, "location": map[string]any{"lat": 37.38, "lng": 118.0, "accuracy": 12}}
	first := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body})
	want(t, first, 201)
	if first.str("reporterId") != f.ids[domain.RoleCadre] || first.json["version"].(float64) != 1 || first.str("townId") != f.townA {
		t.Fatalf("created report: %s", first.body)
	}
	// Resent three times: the same answer, nothing new.
	for range 3 {
		r := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body})
		want(t, r, 200)
		if r.str("id") != id || r.str("createdAt") != first.str("createdAt") {
			t.Fatalf("resend answered another record: %s", r.body)
		}
	}
	// The same id with other content is a conflict, in the same or another village.
	body["attendees"] = 8
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body}), 409, "id_conflict")
	body["attendees"], body["villageId"] = 7, f.villA2
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: f.tokens[domain.RoleAdmin], body: body}), 409, "id_conflict")
	l := e.do(t, req{method: "GET", path: "/api/v1/reports?villageId=" + f.villA1, token: cadre})
	if n := len(l.items()); n != 1 {
		t.Fatalf("%d reports after resends, want 1", n)
	}
	// One audit entry for the create, written with the record (the trail
	// receives it when the record leaves the inbox, within moments).
	var audits []map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		audits = e.do(t, req{method: "GET", path: "/api/v1/audit?entity=report&entityId=" + id, token: f.tokens[domain.RoleAuditAdmin]}).items()
		if len(audits) > 0 {
			break
		}
	}
	if len(audits) != 1 || audits[0]["action"] != "create" || audits[0]["userId"] != f.ids[domain.RoleCadre] {
		t.Fatalf("audit of the create: %v", audits)
	}
	// The stored report is the first one.
	g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + id, token: cadre})
	if g.json["attendees"].(float64) != 7 || g.header.Get("ETag") != `"1"` {
		t.Fatalf("stored: %s", g.body)
	}
}

func TestReportValidation(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	now := time.Now()
	post := func(body map[string]any) *resp {
		if _, ok := body["id"]; !ok {
			body["id"] = domain.NewID(now)
		}
		if _, ok := body["villageId"]; !ok {
			body["villageId"] = f.villA1
		}
		if _, ok := body["occurredAt"]; !ok {
			body["occurredAt"] = now.Add(-time.Hour)
		}
		return e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body})
	}
	// No store takes a NUL in a string: refused before anything is read.
	want(t, post(map[string]any{"kind": "work_log", "text": "日记\x00"}), 400, "nul_character")
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"kind": "visit", "visitee": "household", "id": "not-a-uuid"}, "id"},
		{map[string]any{"kind": "gossip"}, "kind"},
		{map[string]any{"kind": "visit"}, "visitee"},
		{map[string]any{"kind": "visit", "visitee": "household", "count": -2}, "count"},
		{map[string]any{"kind": "visit", "visitee": "household", "meetingType": "other"}, "meetingType"},
		{map[string]any{"kind": "visit", "visitee": "household", "occurredAt": now.Add(time.Hour)}, "occurredAt"},
		{map[string]any{"kind": "visit", "visitee": "household", "occurredAt": now.AddDate(0, 0, -100)}, "occurredAt"},
		{map[string]any{"kind": "meeting", "meetingType": "party"}, "meetingType"},
		{map[string]any{"kind": "unit_research", "people": 3}, "unitId"},
		{map[string]any{"kind": "unit_research", "unitId": domain.NewID(now), "people": 0}, "unitId"},
		{map[string]any{"kind": "leader_research", "leaderId": domain.NewID(now)}, "leaderId"},
		{map[string]any{"kind": "reserve_candidate"}, "candidate"},
		{map[string]any{"kind": "reserve_candidate", "candidate": map[string]any{"name": "李四", "gender": "x"}}, "candidate.gender"},
		{map[string]any{"kind": "checkin"}, "location"},
		{map[string]any{"kind": "checkin", "location": map[string]any{"lat": 91, "lng": 0}}, "location.lat"},
		{map[string]any{"kind": "work_log"}, "text"},
		{map[string]any{"kind": "work_log", "text": "x", "photoIds": []string{"nope"}}, "photoIds[0]"},
	}
	for _, c := range cases {
		r := post(c.body)
		if r.status != 422 {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
			continue
		}
		found := false
		for _, fe := range r.json["errors"].([]any) {
			if fe.(map[string]any)["field"] == c.field {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: %s not named in %s", c.body, c.field, r.body)
		}
	}
	want(t, post(map[string]any{"kind": "visit", "visitee": "household", "villageId": f.villB1}), 404, "not_found")
	want(t, post(map[string]any{"kind": "visit", "visitee": "household", "unknown": 1}), 422, "validation_failed")
	// Nothing was stored by the bad requests; a good one with defaults is.
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/reports", token: cadre}).items()); n != 0 {
		t.Fatalf("%d reports stored by bad requests", n)
	}
	ok := post(map[string]any{"kind": "visit", "visitee": "party_member"})
	want(t, ok, 201)
	if ok.json["count"].(float64) != 1 {
		t.Errorf("count did not default to 1: %s", ok.body)
	}
	lr := post(map[string]any{"kind": "leader_research", "findings": "班子问题"})
	want(t, lr, 201)
	if lr.str("leaderId") != f.ids[domain.RoleCadre] {
		t.Errorf("leaderId did not default to the reporter: %s", lr.body)
	}
}

func TestReportEditsDeletesAndPaging(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, tl := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	base := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	var ids []string
	for i := range 7 {
		id := domain.NewID(time.Now())
		ids = append(ids, id)
		want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": id, "kind": "visit",
			"villageId": f.villA1, "visitee": "household", "count": i + 1, "occurredAt": base.Add(time.Duration(i%4) * time.Hour)}}), 201)
	}
	// Pages of 3, newest first, each report once.
	seen := map[string]bool{}
	var last time.Time
	cursor := ""
	for pages := 0; ; pages++ {
		p := "/api/v1/reports?limit=3&villageId=" + f.villA1
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		pg := e.do(t, req{method: "GET", path: p, token: cadre})
		want(t, pg, 200)
		for _, it := range pg.items() {
			at, _ := time.Parse(time.RFC3339, it["occurredAt"].(string))
			if seen[it["id"].(string)] || !last.IsZero() && at.After(last) {
				t.Fatalf("page %d repeats or misorders %v", pages, it["id"])
			}
			seen[it["id"].(string)], last = true, at
		}
		if pg.json["nextCursor"] == nil {
			break
		}
		cursor = pg.str("nextCursor")
	}
	if len(seen) != 7 {
		t.Fatalf("paged %d reports, want 7", len(seen))
	}
	// An edit with a stale version is refused; a resend of an applied edit is fine.
	id := ids[0]
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: cadre, body: map[string]any{"count": 9, "version": 1}}), 200)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: cadre, body: map[string]any{"count": 9, "version": 1}}), 200)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: tl, body: map[string]any{"count": 5, "version": 1}}), 412, "version_mismatch")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: tl, body: map[string]any{"villageId": f.villA2}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: tl, body: map[string]any{"kind": "meeting"}}), 422, "validation_failed")
	g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + id, token: cadre})
	if g.json["count"].(float64) != 9 || g.json["version"].(float64) != 2 {
		t.Fatalf("after edits: %s", g.body)
	}
	// Deletes: a stale If-Match is refused; then twice 204; then gone and not editable.
	want(t, e.do(t, req{method: "DELETE", path: "/api/v1/reports/" + id, token: cadre, header: map[string]string{"If-Match": `"1"`}}), 412)
	for range 2 {
		want(t, e.do(t, req{method: "DELETE", path: "/api/v1/reports/" + id, token: cadre}), 204)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/reports/" + id, token: cadre}), 404, "not_found")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + id, token: cadre, body: map[string]any{"count": 1}}), 409, "deleted")
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/reports?limit=500", token: cadre}).items()); n != 6 {
		t.Fatalf("%d reports listed after a delete, want 6", n)
	}
	// Filters.
	l := e.do(t, req{method: "GET", path: fmt.Sprintf("/api/v1/reports?from=%s&to=%s", base.Add(time.Hour).Format(time.RFC3339), base.Add(2*time.Hour).Format(time.RFC3339)), token: cadre})
	for _, it := range l.items() {
		if it["occurredAt"] != base.Add(time.Hour).UTC().Format(time.RFC3339) {
			t.Errorf("date filter let %v through", it["occurredAt"])
		}
	}
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/reports?kind=meeting", token: cadre}).items()); n != 0 {
		t.Errorf("kind filter: %d meetings", n)
	}
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/reports?reporterId=" + f.ids[domain.RoleCadre], token: f.tokens[domain.RoleAdmin]}).items()); n != 6 {
		t.Errorf("reporter filter: %d", n)
	}
}
