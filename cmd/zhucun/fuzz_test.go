package main

import (
	"encoding/json"
	"testing"
	"time"

	"zhucun/domain"
)

// fuzzRoute is a write route the request fuzzer sends bodies to, and who
// sends them.
type fuzzRoute struct {
	method, path string
	role         domain.Role
}

// FuzzRequests sends arbitrary JSON bodies to the write routes, as the
// roles that use them: every answer is one openapi.yaml declares (e.do
// checks), never a 5xx, a refusal is problem+json with a code, and a
// refused request stores nothing (no audit entry of a success after it:
// every write makes one).
func FuzzRequests(f *testing.F) {
	e := newEnv(f)
	fx := e.fixture(f)
	rep := e.do(f, req{method: "POST", path: "/api/v1/reports", token: fx.tokens[domain.RoleCadre], body: map[string]any{"id": domain.NewID(time.Now()),
		"kind": "visit", "villageId": fx.villA1, "occurredAt": time.Now().Add(-time.Hour), "visitee": "household", "count": 2}})
	want(f, rep, 201)
	routes := []fuzzRoute{
		{"POST", "/api/v1/reports", domain.RoleCadre},
		{"PATCH", "/api/v1/reports/" + rep.str("id"), domain.RoleCadre},
		{"POST", "/api/v1/disputes", domain.RoleCadre},
		{"POST", "/api/v1/projects", domain.RoleTeamLeader},
		{"POST", "/api/v1/funds", domain.RoleTownAdmin},
		{"POST", "/api/v1/sync", domain.RoleCadre},
		{"POST", "/api/v1/reviews", domain.RoleTeamLeader},
		{"POST", "/api/v1/leaves", domain.RoleCadre},
		{"POST", "/api/v1/approvals/village/" + fx.villA1 + "/202601/submit", domain.RoleTeamLeader},
		{"POST", "/api/v1/villages", domain.RoleTownAdmin},
		{"POST", "/api/v1/users", domain.RoleSysAdmin},
		{"PATCH", "/api/v1/users/" + fx.ids[domain.RoleCadre], domain.RoleSysAdmin},
		{"POST", "/api/v1/villages/" + fx.villA1 + "/problems", domain.RoleCadre},
		{"POST", "/api/v1/villages/" + fx.villA1 + "/targets", domain.RoleTownAdmin},
		{"PUT", "/api/v1/assessments/" + fx.villA1 + "/2026S1", domain.RoleTownAdmin},
		{"POST", "/api/v1/field-checks", domain.RoleTownAdmin},
		{"POST", "/api/v1/auth/login", ""},
		// Added after the corpus was first kept: new routes go at the end.
		{"POST", "/api/v1/me/password", domain.RoleCadre},
		{"POST", "/api/v1/me/second-factor", domain.RoleCadre},
		{"POST", "/api/v1/me/second-factor/confirm", domain.RoleCadre},
		{"POST", "/api/v1/auth/second-factor", ""},
		{"PATCH", "/api/v1/users/" + fx.cadreBID, domain.RoleSecAdmin}, // an account no other route here uses
	}
	seeds := []string{
		`{}`, `[]`, `null`, `{"id":"x"}`,
		`{"id":"01a2b3c4-0000-7000-8000-000000000001","kind":"visit","villageId":"` + fx.villA1 + `","occurredAt":"2026-03-01T09:00:00+08:00","visitee":"household","count":-1}`,
		`{"items":[{"type":"report","op":"create","data":{"id":"x","kind":"visit"}},{"type":"fund","op":"delete","data":[]}]}`,
		`{"items":[{"id":"` + rep.str("id") + `","decision":"return"}]}`,
		`{"from":"2026-03-02","to":"2026-03-01","reason":"x"}`,
		`{"name":"` + string(make([]byte, 300)) + `"}`,
		`{"notes":"\u0000"}`, `{"count":1e999}`, `{"version":"1"}`,
		`{"currentPassword":"x","newPassword":"Abc-1234"}`, `{"ticket":"a.b.c","code":"123456"}`, `{"recoveryCode":"` + string(make([]byte, 40)) + `"}`,
		`{"role":"sys_admin"}`, `{"disabled":true}`, `{"password":"13900000004x"}`,
	}
	for i := range routes {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		rt := routes[int(which)%len(routes)]
		before := e.clock.Now()
		r := e.do(t, req{method: rt.method, path: rt.path, token: fx.tokens[rt.role], body: body, contentType: "application/json"})
		if r.status >= 500 {
			t.Fatalf("%s %s answered %d: %s", rt.method, rt.path, r.status, r.body)
		}
		refused := r.status >= 400
		if rt.path == "/api/v1/sync" || rt.path == "/api/v1/reviews" {
			refused = true // per item: stored only what an item says it stored
			if res, ok := r.json["results"].([]any); ok {
				for _, it := range res {
					switch it.(map[string]any)["status"] {
					case "created", "updated", "reviewed":
						refused = false
					}
				}
			}
		}
		if r.status >= 400 && r.str("code") == "" {
			t.Fatalf("%s %s answered %d without a code: %s", rt.method, rt.path, r.status, r.body)
		}
		if !refused || rt.path == "/api/v1/auth/login" {
			return
		}
		// Refusals are audited (outcome failure or denied); a write would be a success.
		l, err := e.store.ListAudit(t.Context(), domain.AuditFilter{From: before, Outcome: domain.OutcomeSuccess}, domain.Page{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) > 0 {
			b, _ := json.Marshal(l.Items)
			t.Fatalf("%s %s refused (%d) but stored: %s\nbody %q", rt.method, rt.path, r.status, b, body)
		}
	})
}
