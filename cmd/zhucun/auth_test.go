package main

import (
	"strconv"
	"testing"
	"time"

	"zhucun/domain"
)

func TestLoginRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	login := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}})
	want(t, login, 200)
	if login.str("token_type") != "Bearer" || login.json["expires_in"].(float64) != 900 {
		t.Fatalf("token response %s", login.body)
	}
	if login.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response Cache-Control %q", login.header.Get("Cache-Control"))
	}
	if got := login.json["user"].(map[string]any)["role"]; got != "cadre" {
		t.Errorf("user.role %v", got)
	}
	r1 := login.str("refresh_token")
	rot := e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": r1}})
	want(t, rot, 200)
	r2 := rot.str("refresh_token")
	if r2 == "" || r2 == r1 {
		t.Fatal("refresh did not rotate the token")
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: rot.str("access_token")}), 200)
	// Reusing r1 revokes the family, r2 included.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": r1}}), 401, "refresh_token_reused")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": r2}}), 401, "invalid_grant")
	// Another sign-in's session is untouched.
	other := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}})
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": other.str("refresh_token")}}), 200)

	// Logout revokes; logging out twice is fine.
	s := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}})
	for range 2 {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": s.str("refresh_token")}}), 204)
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": s.str("refresh_token")}}), 401, "invalid_grant")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{}}), 422, "validation_failed")

	// A session used every 6 days lives on; one left 7 days is dead (idle timeout).
	x := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}})
	tok := x.str("refresh_token")
	for range 3 {
		e.clock.Advance(6 * 24 * time.Hour)
		r := e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": tok}})
		want(t, r, 200)
		tok = r.str("refresh_token")
	}
	e.clock.Advance(7*24*time.Hour + time.Minute)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": tok}}), 401, "invalid_grant")
	// And so do access tokens.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: x.str("access_token")}), 401, "invalid_token")
}

func TestDisabledAccountLosesAccessAtOnce(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	tok := f.tokens[domain.RoleCadre]
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 200)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], token: f.tokens[domain.RoleSecAdmin],
		body: map[string]any{"disabled": true}}), 200)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 401, "invalid_token")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}}), 401, "invalid_credentials")
	// The security administrator cannot lock itself; the campaign admin locks nobody.
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleSecAdmin], token: f.tokens[domain.RoleSecAdmin],
		body: map[string]any{"disabled": true}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleTeamLeader], token: f.tokens[domain.RoleAdmin],
		body: map[string]any{"disabled": true}}), 403, "forbidden")
}

func TestScopeChangeTakesEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	tok := f.tokens[domain.RoleCadre]
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA2, token: tok}), 404, "not_found")
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], token: f.tokens[domain.RoleTownAdmin],
		body: map[string]any{"villageIds": []string{f.villA1, f.villA2}}}), 200)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA2, token: tok}), 200)
	// A town admin cannot hand out another town's village.
	r := e.do(t, req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], token: f.tokens[domain.RoleTownAdmin],
		body: map[string]any{"villageIds": []string{f.villB1}}})
	want(t, r, 422, "validation_failed")
	// Nor make an admin.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: f.tokens[domain.RoleTownAdmin],
		body: map[string]any{"name": "x", "phone": "13600000000", "password": testPassword, "role": "admin"}}), 403, "forbidden")
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	bad := req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": "wrong-password"}}
	for i := range 3 {
		r := e.do(t, bad)
		want(t, r, 401, "invalid_credentials")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("attempt %d: 401 without WWW-Authenticate", i)
		}
	}
	r := e.do(t, bad) // the 4th failure locks for 1 s
	want(t, r, 429, "too_many_attempts")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	// While locked even the right password is refused, without checking it.
	good := req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.phones[domain.RoleCadre], "password": testPassword}}
	want(t, e.do(t, good), 429, "too_many_attempts")
	e.clock.Advance(1100 * time.Millisecond)
	r = e.do(t, bad) // the 5th: 2 s
	want(t, r, 429)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra != 2 {
		t.Errorf("second lock-out Retry-After %q, want 2", r.header.Get("Retry-After"))
	}
	e.clock.Advance(2100 * time.Millisecond)
	want(t, e.do(t, good), 200)
	// Success resets the count.
	want(t, e.do(t, bad), 401)
	// An unknown phone is answered like a wrong password.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": "13511112222", "password": "whatever-1"}}), 401, "invalid_credentials")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": "", "password": ""}}), 422, "validation_failed")
}

func TestWeChatSignIn(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	// Unbound: 401 with a bind ticket.
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-1"}})
	want(t, r, 401, "wechat_unbound")
	ticket := r.str("bind_ticket")
	if ticket == "" || r.json["ticket_expires_in"].(float64) != 300 {
		t.Fatalf("no bind ticket: %s", r.body)
	}
	// A ticket is not an access token, nor an access token a ticket.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: ticket}), 401, "invalid_token")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind",
		body: map[string]any{"ticket": f.tokens[domain.RoleCadre], "phone": f.phones[domain.RoleCadre], "password": testPassword}}), 401, "invalid_ticket")
	// Wrong password: nothing bound.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind",
		body: map[string]any{"ticket": ticket, "phone": f.phones[domain.RoleCadre], "password": "wrong-password"}}), 401, "invalid_credentials")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-1"}}), 401, "wechat_unbound")
	// Bind, and a retried bind, both sign in.
	for range 2 {
		b := e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind",
			body: map[string]any{"ticket": ticket, "phone": f.phones[domain.RoleCadre], "password": testPassword}})
		want(t, b, 200)
		if b.json["user"].(map[string]any)["id"] != f.ids[domain.RoleCadre] {
			t.Fatalf("bound to the wrong account: %s", b.body)
		}
	}
	// Now the code signs in directly.
	in := e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-1"}})
	want(t, in, 200)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: in.str("access_token")}), 200)
	// The openid cannot be bound to another account.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind",
		body: map[string]any{"ticket": ticket, "phone": f.phones[domain.RoleLeader], "password": testPassword}}), 409, "wechat_already_bound")
	// WeChat's refusals and failures.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "used"}}), 401, "wechat_code_invalid")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "bad"}}), 401, "wechat_code_invalid")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "busy"}}), 503, "wechat_unavailable")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": ""}}), 422, "validation_failed")
	// Tickets expire.
	r = e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-2"}})
	e.clock.Advance(6 * time.Minute)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind",
		body: map[string]any{"ticket": r.str("bind_ticket"), "phone": f.phones[domain.RoleLeader], "password": testPassword}}), 401, "invalid_ticket")
}

// A cadre serving villages of two towns: the town admin of one may rename
// it and change its own town's villages, but not touch the other town's.
func TestTownAdminKeepsOtherTownsVillages(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin, ta := f.tokens[domain.RoleSysAdmin], f.tokens[domain.RoleTownAdmin]
	id := f.ids[domain.RoleCadre]
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin,
		body: map[string]any{"villageIds": []string{f.villA1, f.villB1}}}), 200)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: ta, body: map[string]any{"name": "改名"}}), 200)
	r := e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: ta,
		body: map[string]any{"villageIds": []string{f.villA2, f.villB1}}})
	want(t, r, 200)
	r = e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: ta, body: map[string]any{"villageIds": []string{f.villA2}}})
	want(t, r, 422, "validation_failed")
	got := e.do(t, req{method: "GET", path: "/api/v1/users/" + id, token: admin})
	ids := got.json["villageIds"].([]any)
	if len(ids) != 2 || got.str("name") != "改名" {
		t.Fatalf("after the town admin's edits: %s", got.body)
	}
}
