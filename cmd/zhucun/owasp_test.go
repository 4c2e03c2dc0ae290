package main

import (
	"strings"
	"testing"
	"time"

	"zhucun/domain"
)

// The OWASP API Security Top 10 (2023), the items that apply. API1 (object
// level) and API5 (function level) are TestAccessControl, route by route
// and role by role; API2 (authentication) the sign-in tests; these are the
// rest.

// API3, broken object property level authorization: a body that sets a
// field its caller may not — the server's own fields of a record (its
// review state, on-post mark, author), an account's role beyond the
// caller's reach, a leave's state — is refused and changes nothing.
func TestOWASPPropertyLevelAuthorization(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, townAdmin := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTownAdmin]
	at := e.clock.Now().Add(-time.Hour)
	report := func(extra map[string]any) *resp {
		body := map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": f.villA1, "occurredAt": at, "visitee": "household", "count": 2}
		for k, v := range extra {
			body[k] = v
		}
		return e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body})
	}
	for field, v := range map[string]any{"review": map[string]any{"state": "approved"}, "onPost": true, "createdBy": f.ids[domain.RoleAdmin],
		"townId": f.townB, "reporterId": f.ids[domain.RoleAdmin]} {
		r := report(map[string]any{field: v})
		want(t, r, 422, "validation_failed")
		if !strings.Contains(string(r.body), field) {
			t.Fatalf("%s: the refusal does not name the field: %s", field, r.body)
		}
	}
	ok := report(nil)
	want(t, ok, 201)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + ok.str("id"), token: cadre, body: map[string]any{"review": map[string]any{"state": "approved"}}}), 422)
	r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": []map[string]any{
		{"type": "report", "op": "update", "data": map[string]any{"id": ok.str("id"), "review": map[string]any{"state": "approved"}}}}}})
	want(t, r, 200)
	if st := r.json["results"].([]any)[0].(map[string]any)["status"]; st != "invalid" {
		t.Fatalf("a review state through sync: %v", st)
	}
	if g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + ok.str("id"), token: cadre}); g.json["review"].(map[string]any)["state"] != "submitted" || g.json["version"] != 1.0 {
		t.Fatalf("the record changed: %s", g.body)
	}
	// A town admin makes no admin, nor an account of another town.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: townAdmin, body: map[string]any{"name": "越权", "phone": "13700000077",
		"password": testPassword, "role": "admin"}}), 403)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], token: townAdmin, body: map[string]any{"role": "admin"}}), 403)
	if me := e.do(t, req{method: "GET", path: "/api/v1/me", token: e.login(t, f.phones[domain.RoleCadre], testPassword)}); me.str("role") != "cadre" {
		t.Fatalf("the cadre's role is %s", me.str("role"))
	}
	// A leave's state is the deciders'.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"from": "2026-03-02", "to": "2026-03-02", "reason": "x", "state": "approved"}}), 422)
	// An approval's state and lock are the approvers'.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/approvals/village/" + f.villA1 + "/202601/submit", token: f.tokens[domain.RoleTeamLeader],
		body: map[string]any{"state": "approved", "lockedBy": f.ids[domain.RoleAdmin]}}), 422)
}

// API4, unrestricted resource consumption: every list, batch and body has
// a limit, and going past it is a 4xx that stores nothing.
func TestOWASPResourceLimits(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, leader := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	items := make([]map[string]any, 501)
	for i := range items {
		items[i] = map[string]any{"type": "report", "op": "create", "data": map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "work_log",
			"villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour), "text": "x"}}
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": items}}), 422)
	reviews := make([]map[string]any, 201)
	for i := range reviews {
		reviews[i] = map[string]any{"id": domain.NewID(e.clock.Now()), "decision": "approve"}
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": reviews}}), 422)
	ids := make([]string, 501)
	for i := range ids {
		ids[i] = domain.NewID(e.clock.Now())
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/me/notifications/read", token: cadre, body: map[string]any{"ids": ids}}), 422)
	for _, p := range []string{"/api/v1/reports?limit=501", "/api/v1/leaves?limit=0", "/api/v1/me/notifications?limit=100000", "/api/v1/approvals?limit=-1"} {
		want(t, e.do(t, req{method: "GET", path: p, token: cadre}), 422)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/stats/series?metric=meetings&interval=week&from=1900-01-01&to=2026-01-01&scope=village&id=" + f.villA1, token: cadre}), 422)
	long := strings.Repeat("长", 501)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"from": "2026-03-02", "to": "2026-03-02", "reason": long}}), 422)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"from": "2026-01-01", "to": "2026-06-30", "reason": "x"}}), 422)
	if l, err := e.store.ListAudit(t.Context(), domain.AuditFilter{Entity: "report"}, domain.Page{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("a refused batch stored: %v %v", l.Items, err)
	}
}

// API10, unsafe consumption of APIs: WeChat's answers are not trusted —
// an error page, an answer past any real size, fields of the wrong types —
// each is a 503 the phone retries, never a 500 or a sign-in.
func TestOWASPWeChatAnswersNotTrusted(t *testing.T) {
	e := newEnv(t)
	for _, code := range []string{"garbage", "huge", "typed"} {
		r := e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": code}})
		want(t, r, 503, "wechat_unavailable")
		if r.str("access_token") != "" {
			t.Fatalf("%s signed someone in", code)
		}
	}
}

// Personal data (PIPL): a phone number is shown whole only to whom it
// concerns — the account itself, and whoever manages the account when
// reading it — and masked (138****0000) in every list and to everyone else.
func TestPhonesMasked(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadrePhone := f.phones[domain.RoleCadre]
	masked := cadrePhone[:3] + "****" + cadrePhone[7:]
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin} {
		l := e.do(t, req{method: "GET", path: "/api/v1/users?limit=500", token: f.tokens[role]})
		want(t, l, 200)
		for _, it := range l.items() {
			p := it["phone"].(string)
			if it["id"] == f.ids[role] {
				if p != f.phones[role] {
					t.Errorf("%s sees its own phone as %s in the list", role, p)
				}
			} else if !strings.Contains(p, "****") {
				t.Errorf("%s's list shows a phone whole: %s", role, p)
			}
		}
	}
	one := func(role domain.Role) string {
		r := e.do(t, req{method: "GET", path: "/api/v1/users/" + f.ids[domain.RoleCadre], token: f.tokens[role]})
		want(t, r, 200)
		return r.str("phone")
	}
	// Whole to who keeps the account: the system administrator, the town admin.
	if one(domain.RoleSysAdmin) != cadrePhone || one(domain.RoleTownAdmin) != cadrePhone || one(domain.RoleLeader) != masked ||
		one(domain.RoleAdmin) != masked || one(domain.RoleSecAdmin) != masked {
		t.Fatalf("one account's phone: system administrator %s, town admin %s, leader %s, campaign admin %s, security administrator %s",
			one(domain.RoleSysAdmin), one(domain.RoleTownAdmin), one(domain.RoleLeader), one(domain.RoleAdmin), one(domain.RoleSecAdmin))
	}
	if me := e.do(t, req{method: "GET", path: "/api/v1/me", token: f.tokens[domain.RoleCadre]}); me.str("phone") != cadrePhone {
		t.Fatalf("the cadre's own phone: %s", me.str("phone"))
	}
	if strings.Contains(e.logs.String(), cadrePhone) {
		t.Fatalf("a phone number is in the log")
	}
}

// The audit trail names the client's address and the outcome of every
// security-relevant event: sign-ins and their failures (an unknown phone
// masked), denials (a request, and an item of a batch), exports and bulk
// reads of accounts.
func TestAuditTrailOfSecurityEvents(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": "13612345678", "password": "wrong-pass-1"}}), 401)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": "wrong-pass-1"}}), 401)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/towns", token: f.tokens[domain.RoleCadre], body: map[string]any{"name": "越权镇"}}), 403)
	r := e.do(t, req{method: "POST", path: "/api/v1/reviews", token: f.tokens[domain.RoleTeamLeader], body: map[string]any{"items": []map[string]any{
		{"id": domain.NewID(e.clock.Now()), "decision": "approve"}}}})
	want(t, r, 200)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/users", token: admin}), 200)
	x := e.do(t, req{method: "GET", path: "/api/v1/exports/villages.csv?period=2026", token: admin})
	want(t, x, 200)
	l := e.do(t, req{method: "GET", path: "/api/v1/audit?limit=500", token: f.tokens[domain.RoleAuditAdmin]})
	want(t, l, 200)
	type seen struct{ entity, id, action, outcome string }
	var got []seen
	for _, it := range l.items() {
		if (it["addr"] == nil || it["addr"] == "") && it["userId"] != "system" { // the server's own work has no client
			t.Errorf("an entry without the client's address: %v", it)
		}
		got = append(got, seen{it["entity"].(string), it["entityId"].(string), it["action"].(string), it["outcome"].(string)})
	}
	for _, w := range []seen{
		{"session", "136****5678", "login_failed", domain.OutcomeFailure},
		{"session", f.ids[domain.RoleCadre], "login_failed", domain.OutcomeFailure},
		{"route", "POST /api/v1/towns", "deny", domain.OutcomeDenied},
		{"user", "", "list", domain.OutcomeSuccess},
		{"export", "villages.csv", "export", domain.OutcomeSuccess},
		{"session", f.ids[domain.RoleAdmin], "login", domain.OutcomeSuccess},
	} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("no audit entry %+v", w)
		}
	}
	if strings.Contains(string(l.body), "13612345678") {
		t.Fatalf("an unknown phone is in the audit trail whole")
	}
	if d := e.do(t, req{method: "GET", path: "/api/v1/audit?outcome=denied", token: f.tokens[domain.RoleAuditAdmin]}); len(d.items()) != 1 {
		t.Fatalf("denials: %s", d.body)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/audit?outcome=maybe", token: f.tokens[domain.RoleAuditAdmin]}), 422)
}
