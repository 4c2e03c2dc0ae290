package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
)

// The tests of identification (身份鉴别) and separation of duties (三员分立)
// run the deployment's policy (secureConfig): passwords an administrator
// set are changed at first sign-in, they expire, and the administrator
// roles and leaders sign in with a TOTP second factor.

// secureEnv is a server on the deployment's policy with one account of
// each role made from the shell (as an installer does), and towns A and B
// with a village each.
type secureEnv struct {
	*env
	ids          map[domain.Role]string
	phones       map[domain.Role]string
	townA, villA string
	townB, villB string
	secrets      map[string][]byte // phone → enrolled TOTP secret
	users        domain.UserService
}

const securePassword = "Pass-word-1"

func newSecureEnv(t *testing.T) *secureEnv {
	t.Helper()
	e := newEnvWith(t, secureConfig)
	s := &secureEnv{env: e, ids: map[domain.Role]string{}, phones: map[domain.Role]string{}, secrets: map[string][]byte{}}
	ctx := context.Background()
	s.users = userService(e.store, passwd.Fast(), e.clock.Now)
	s.users.Policy = domain.PasswordPolicy{History: 5} // the shell's accounts keep their passwords here
	org := domain.OrgService{Store: e.store, Audit: s.users.Audit, Now: e.clock.Now}
	sys := domain.System("test")
	ta, err := org.CreateTown(ctx, sys, domain.TownInput{Name: "市东街道"})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := org.CreateTown(ctx, sys, domain.TownInput{Name: "三河湖镇"})
	if err != nil {
		t.Fatal(err)
	}
	va, err := org.CreateVillage(ctx, sys, domain.VillageInput{Name: "西王村", TownID: ta.ID, Kind: string(domain.KindVillage)})
	if err != nil {
		t.Fatal(err)
	}
	vb, err := org.CreateVillage(ctx, sys, domain.VillageInput{Name: "肖家村", TownID: tb.ID, Kind: string(domain.KindVillage)})
	if err != nil {
		t.Fatal(err)
	}
	s.townA, s.villA, s.townB, s.villB = ta.ID, va.ID, tb.ID, vb.ID
	for i, r := range domain.Roles {
		in := domain.UserInput{Name: "账号" + string(r), Phone: "1380000010" + string(rune('0'+i)), Password: securePassword, Role: r}
		switch {
		case r == domain.RoleTownAdmin:
			in.TownID = ta.ID
		case r.VillageLevel():
			in.VillageIDs = []string{va.ID}
		}
		u, err := s.users.Create(ctx, sys, in)
		if err != nil {
			t.Fatal(err)
		}
		s.ids[r], s.phones[r] = u.ID, u.Phone
	}
	return s
}

// signIn signs in with the password and, when the account has a factor,
// the code of the current step; it answers the access token.
func (s *secureEnv) signIn(t *testing.T, role domain.Role) string {
	t.Helper()
	phone := s.phones[role]
	r := s.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": phone, "password": securePassword}})
	if r.status == 200 {
		return r.str("access_token")
	}
	want(t, r, 401, "second_factor_required")
	s.clock.Advance(totpStep) // each code is taken once
	r = s.do(t, req{method: "POST", path: "/api/v1/auth/second-factor", body: map[string]any{
		"ticket": r.str("factor_ticket"), "code": domain.TOTPCode(s.secrets[phone], s.clock.Now())}})
	want(t, r, 200)
	return r.str("access_token")
}

const totpStep = 30 * time.Second

// enrol signs in with the password, enrols a factor and answers the
// token of the session opened with both factors.
func (s *secureEnv) enrol(t *testing.T, role domain.Role) string {
	t.Helper()
	tok := s.signIn(t, role)
	st := s.do(t, req{method: "POST", path: "/api/v1/me/second-factor", token: tok, body: map[string]any{"password": securePassword}})
	want(t, st, 200)
	secret, err := domain.DecodeTOTPSecret(st.str("secret"))
	if err != nil {
		t.Fatal(err)
	}
	s.secrets[s.phones[role]] = secret
	s.clock.Advance(totpStep) // a code of this step may have been taken
	c := s.do(t, req{method: "POST", path: "/api/v1/me/second-factor/confirm", token: tok,
		body: map[string]any{"code": domain.TOTPCode(secret, s.clock.Now())}})
	want(t, c, 200)
	return c.str("access_token")
}

func TestPasswordPolicy(t *testing.T) {
	s := newSecureEnv(t)
	sys := s.enrol(t, domain.RoleSysAdmin)
	mk := func(pw string) *resp {
		return s.do(t, req{method: "POST", path: "/api/v1/users", token: sys, body: map[string]any{
			"name": "新干部", "phone": "13712345678", "password": pw, "role": "cadre", "villageIds": []string{s.villA}}})
	}
	for pw, code := range map[string]string{
		"short-1":         "too_short",
		"alllowercase":    "password_weak",
		"lower-and-dash":  "password_weak", // two classes
		"Ab13712345678":   "password_phone",
		"x-12345678-Y":    "password_phone", // the last eight digits
		"Ab87654321731-x": "password_phone", // the number reversed
	} {
		r := mk(pw)
		want(t, r, 422, "validation_failed")
		if errs, _ := r.json["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["code"] != code {
			t.Errorf("password %q: %v, want %s", pw, r.json["errors"], code)
		}
	}
	want(t, mk("Chosen-by-admin-1"), 201)

	// The account signs in with the administrator's password and must change it.
	login := func(pw string) *resp {
		return s.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": "13712345678", "password": pw}})
	}
	r := login("Chosen-by-admin-1")
	want(t, r, 200)
	tok := r.str("access_token")
	me := s.do(t, req{method: "GET", path: "/api/v1/me", token: tok})
	want(t, me, 200)
	if me.str("passwordChange") != "first" {
		t.Fatalf("me: %s", me.body)
	}
	r = s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok})
	want(t, r, 403, "password_change_required")
	if r.str("reason") != "first" {
		t.Fatalf("reason: %s", r.body)
	}
	change := func(cur, next string) *resp {
		return s.do(t, req{method: "POST", path: "/api/v1/me/password", token: tok, body: map[string]any{"currentPassword": cur, "newPassword": next}})
	}
	want(t, change("wrong-Pass-1", "Mine-now-1"), 422, "validation_failed")
	want(t, change("Chosen-by-admin-1", "Chosen-by-admin-1"), 422, "validation_failed") // the current one
	want(t, change("Chosen-by-admin-1", "Mine-now-1"), 204)
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok}), 200)
	// None of the last five again.
	want(t, change("Mine-now-1", "Mine-now-2"), 204)
	want(t, change("Mine-now-2", "Mine-now-3"), 204)
	if r := change("Mine-now-3", "Chosen-by-admin-1"); r.status != 422 || !strings.Contains(string(r.body), "password_reused") {
		t.Fatalf("a password of four changes ago: %d %s", r.status, r.body)
	}
	want(t, change("Mine-now-3", "Mine-now-4"), 204)
	want(t, change("Mine-now-4", "Mine-now-5"), 204)
	want(t, change("Mine-now-5", "Chosen-by-admin-1"), 204) // five changes ago: allowed again
	// A reset by the security administrator makes the account change it again.
	sec := s.enrol(t, domain.RoleSecAdmin)
	want(t, s.do(t, req{method: "PATCH", path: "/api/v1/users/" + me.str("id"), token: sec, body: map[string]any{"password": "Reset-by-sec-1"}}), 200)
	tok = login("Reset-by-sec-1").str("access_token")
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok}), 403, "password_change_required")
	want(t, change("Reset-by-sec-1", "Mine-again-1"), 204)

	// 90 days on, the password has expired: sign-in works, the rest waits for a change.
	s.clock.Advance(91 * 24 * time.Hour)
	r = login("Mine-again-1")
	want(t, r, 200)
	tok = r.str("access_token")
	r = s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok})
	want(t, r, 403, "password_change_required")
	if r.str("reason") != "expired" {
		t.Fatalf("reason: %s", r.body)
	}
	want(t, change("Mine-again-1", "Mine-after-90-days-1"), 204)
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok}), 200)
	// Nothing of the passwords is in the logs.
	for _, pw := range []string{"Chosen-by-admin-1", "Mine-now-1", "Reset-by-sec-1"} {
		if strings.Contains(s.logs.String(), pw) {
			t.Fatalf("a password in the logs: %s", pw)
		}
	}
}

func TestSecondFactor(t *testing.T) {
	s := newSecureEnv(t)
	phone := s.phones[domain.RoleAdmin]
	login := func() *resp {
		return s.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": phone, "password": securePassword}})
	}
	// Before enrolment: the session reaches only its own account and the enrolment.
	r := login()
	want(t, r, 200)
	tok, oldRefresh := r.str("access_token"), r.str("refresh_token")
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok}), 403, "second_factor_required")
	me := s.do(t, req{method: "GET", path: "/api/v1/me", token: tok})
	if me.json["secondFactorRequired"] != true || me.json["secondFactor"] != false {
		t.Fatalf("me before enrolment: %s", me.body)
	}
	want(t, s.do(t, req{method: "POST", path: "/api/v1/me/second-factor", token: tok, body: map[string]any{"password": "wrong-Pass-1"}}), 422)
	st := s.do(t, req{method: "POST", path: "/api/v1/me/second-factor", token: tok, body: map[string]any{"password": securePassword}})
	want(t, st, 200)
	if !strings.HasPrefix(st.str("otpauthUri"), "otpauth://totp/zhucun:") || strings.Contains(st.str("otpauthUri"), phone) {
		t.Fatalf("otpauth URI %s", st.str("otpauthUri"))
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(st.str("qrCode"), "data:image/png;base64,"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("qr code is no PNG: %v", err)
	}
	secret, err := domain.DecodeTOTPSecret(st.str("secret"))
	if err != nil {
		t.Fatal(err)
	}
	want(t, s.do(t, req{method: "POST", path: "/api/v1/me/second-factor/confirm", token: tok, body: map[string]any{"code": "000000"}}), 401, "second_factor_invalid")
	c := s.do(t, req{method: "POST", path: "/api/v1/me/second-factor/confirm", token: tok,
		body: map[string]any{"code": domain.TOTPCode(secret, s.clock.Now())}})
	want(t, c, 200)
	// The secret is kept sealed with the data key, the recovery codes as hashes.
	if u, err := s.store.GetUser(context.Background(), s.ids[domain.RoleAdmin], domain.Scope{All: true}); err != nil ||
		!strings.HasPrefix(u.Security.TOTPSecret, "a1:") || strings.Contains(u.Security.TOTPSecret, st.str("secret")) || len(u.Security.RecoveryCodes) != domain.RecoveryCodeCount {
		t.Fatalf("stored factor: %+v %v", u.Security, err)
	}
	recovery, _ := c.json["recoveryCodes"].([]any)
	if len(recovery) != domain.RecoveryCodeCount {
		t.Fatalf("recovery codes: %v", c.json["recoveryCodes"])
	}
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: c.str("access_token")}), 200)
	// The one-factor session is over: its token refuses, its refresh too.
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: tok}), 403, "second_factor_required")
	want(t, s.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": oldRefresh}}), 401, "invalid_grant")
	want(t, s.do(t, req{method: "POST", path: "/api/v1/me/second-factor", token: c.str("access_token"), body: map[string]any{"password": securePassword}}), 409, "second_factor_enrolled")

	// A sign-in without the code is refused; the password gives only a ticket.
	r = login()
	want(t, r, 401, "second_factor_required")
	if r.str("access_token") != "" || r.str("factor_ticket") == "" {
		t.Fatalf("password-only sign-in: %s", r.body)
	}
	ticket := r.str("factor_ticket")
	second := func(body map[string]any) *resp {
		body["ticket"] = ticket
		return s.do(t, req{method: "POST", path: "/api/v1/auth/second-factor", body: body})
	}
	// The confirming code was taken: the same step's code is refused.
	want(t, second(map[string]any{"code": domain.TOTPCode(secret, s.clock.Now())}), 401, "second_factor_reused")
	want(t, second(map[string]any{}), 422)
	want(t, s.do(t, req{method: "POST", path: "/api/v1/auth/second-factor", body: map[string]any{"ticket": "forged", "code": "123456"}}), 401, "invalid_ticket")
	s.clock.Advance(totpStep)
	ok := second(map[string]any{"code": domain.TOTPCode(secret, s.clock.Now())})
	want(t, ok, 200)
	want(t, s.do(t, req{method: "GET", path: "/api/v1/stats/summary?from=2026-03-01&to=2026-06-30", token: ok.str("access_token")}), 200)
	// A refresh keeps both factors.
	rf := s.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": ok.str("refresh_token")}})
	want(t, rf, 200)
	want(t, s.do(t, req{method: "GET", path: "/api/v1/reports", token: rf.str("access_token")}), 200)

	// A recovery code works once.
	code := recovery[0].(string)
	want(t, second(map[string]any{"recoveryCode": strings.ToUpper(code)}), 200)
	want(t, second(map[string]any{"recoveryCode": code}), 401, "second_factor_invalid")
	want(t, second(map[string]any{"recoveryCode": recovery[1].(string)}), 200)

	// Wrong codes are throttled per account.
	var last *resp
	for range 8 {
		if last = second(map[string]any{"code": "000001"}); last.status == 429 {
			break
		}
	}
	want(t, last, 429, "too_many_attempts")

	audits := s.auditActions(t)
	for _, a := range []string{"second_factor_enrolled", "login_password_ok", "login", "login_recovery_code", "second_factor_failed"} {
		if !audits[a] {
			t.Errorf("no audit entry %s: %v", a, audits)
		}
	}
}

// auditActions signs in as the audit administrator and reads the actions
// of the whole trail.
func (s *secureEnv) auditActions(t *testing.T) map[string]bool {
	t.Helper()
	tok := s.enrolled(t, domain.RoleAuditAdmin)
	seen := map[string]bool{}
	cursor := ""
	for range 50 {
		r := s.do(t, req{method: "GET", path: "/api/v1/audit?limit=500&cursor=" + cursor, token: tok})
		want(t, r, 200)
		for _, it := range r.items() {
			seen[it["action"].(string)] = true
		}
		next, _ := r.json["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	return seen
}

// enrolled signs a role in with its factor, enrolling it first if need be.
func (s *secureEnv) enrolled(t *testing.T, role domain.Role) string {
	t.Helper()
	if _, ok := s.secrets[s.phones[role]]; ok {
		return s.signIn(t, role)
	}
	return s.enrol(t, role)
}

// TestSeparationOfDuties tries what each administrator of separated
// duties may and may not do, signed in with its second factor.
func TestSeparationOfDuties(t *testing.T) {
	s := newSecureEnv(t)
	sys, sec, aud, adm := s.enrol(t, domain.RoleSysAdmin), s.enrol(t, domain.RoleSecAdmin), s.enrol(t, domain.RoleAuditAdmin), s.enrol(t, domain.RoleAdmin)
	call := func(tok, method, path string, body any) *resp {
		return s.do(t, req{method: method, path: path, token: tok, body: body})
	}
	// The system administrator: accounts, towns and villages; not the campaign's content, not the trail.
	cadre := call(sys, "POST", "/api/v1/users", map[string]any{"name": "新干部", "phone": "13712340001", "password": "Chosen-pw-1", "role": "cadre", "villageIds": []string{s.villA}})
	want(t, cadre, 201)
	newAdmin := call(sys, "POST", "/api/v1/users", map[string]any{"name": "新管理员", "phone": "13712340002", "password": "Chosen-pw-1", "role": "admin"})
	want(t, newAdmin, 201)
	if newAdmin.json["disabled"] != true {
		t.Fatalf("a privileged account made by the system administrator is not locked: %s", newAdmin.body)
	}
	want(t, call(sys, "GET", "/api/v1/users/"+cadre.str("id"), nil), 200)
	if p := call(sys, "GET", "/api/v1/users/"+cadre.str("id"), nil).str("phone"); p != "13712340001" {
		t.Errorf("the system administrator editing an account sees its phone as %s", p)
	}
	want(t, call(sys, "PATCH", "/api/v1/users/"+cadre.str("id"), map[string]any{"name": "改名"}), 200)
	want(t, call(sys, "POST", "/api/v1/towns", map[string]any{"name": "新镇"}), 201)
	want(t, call(sys, "GET", "/api/v1/villages", nil), 200)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/reports"}, {"GET", "/api/v1/stats/summary?from=2026-03-01&to=2026-06-30"}, {"GET", "/api/v1/audit"},
		{"GET", "/api/v1/teams"}, {"GET", "/api/v1/exports/ledger.xlsx"},
	} {
		want(t, call(sys, c.method, c.path, nil), 403, "forbidden")
	}
	want(t, call(sys, "PATCH", "/api/v1/users/"+cadre.str("id"), map[string]any{"role": "admin"}), 403, "forbidden")
	want(t, call(sys, "PATCH", "/api/v1/users/"+s.ids[domain.RoleSysAdmin], map[string]any{"role": "sec_admin"}), 403, "forbidden")
	want(t, call(sys, "PATCH", "/api/v1/users/"+newAdmin.str("id"), map[string]any{"disabled": false}), 403, "forbidden")
	want(t, call(sys, "PATCH", "/api/v1/users/"+s.ids[domain.RoleSecAdmin], map[string]any{"password": "Taken-over-1"}), 403, "forbidden")
	want(t, call(sys, "POST", "/api/v1/users/"+s.ids[domain.RoleAdmin]+"/second-factor/reset", nil), 403, "forbidden")

	// The security administrator: roles, locks, factors, password resets; not profiles.
	want(t, call(sec, "PATCH", "/api/v1/users/"+newAdmin.str("id"), map[string]any{"disabled": false}), 200)
	want(t, call(sec, "PATCH", "/api/v1/users/"+cadre.str("id"), map[string]any{"role": "leader", "villageIds": []string{}}), 200)
	want(t, call(sec, "PATCH", "/api/v1/users/"+cadre.str("id"), map[string]any{"name": "再改名"}), 403, "forbidden")
	want(t, call(sec, "PATCH", "/api/v1/users/"+s.ids[domain.RoleSecAdmin], map[string]any{"role": "sys_admin"}), 403, "forbidden")
	want(t, call(sec, "POST", "/api/v1/users/"+s.ids[domain.RoleSecAdmin]+"/second-factor/reset", nil), 403, "forbidden")
	want(t, call(sec, "POST", "/api/v1/users", map[string]any{"name": "x", "phone": "13712340003", "password": "Chosen-pw-1", "role": "cadre"}), 403, "forbidden")
	for _, p := range []string{"/api/v1/reports", "/api/v1/audit", "/api/v1/towns", "/api/v1/teams"} {
		want(t, call(sec, "GET", p, nil), 403, "forbidden")
	}
	// A lost phone: the security administrator resets the campaign admin's
	// factor; its next session can only enrol again.
	want(t, call(sec, "POST", "/api/v1/users/"+s.ids[domain.RoleAdmin]+"/second-factor/reset", nil), 200)
	delete(s.secrets, s.phones[domain.RoleAdmin])
	again := s.signIn(t, domain.RoleAdmin)
	want(t, call(again, "GET", "/api/v1/reports", nil), 403, "second_factor_required")
	adm = s.enrol(t, domain.RoleAdmin)

	// The audit administrator: the trail, and nothing else.
	a := call(aud, "GET", "/api/v1/audit?limit=500", nil)
	want(t, a, 200)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users"}, {"GET", "/api/v1/reports"}, {"GET", "/api/v1/towns"}, {"GET", "/api/v1/stats/summary?from=2026-03-01&to=2026-06-30"},
		{"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/" + s.ids[domain.RoleAuditAdmin]},
	} {
		want(t, call(aud, c.method, c.path, map[string]any{}), 403, "forbidden")
	}

	// The campaign administrator: the campaign's data; not accounts, not the trail.
	want(t, call(adm, "GET", "/api/v1/reports", nil), 200)
	want(t, call(adm, "GET", "/api/v1/users", nil), 200)
	want(t, call(adm, "GET", "/api/v1/audit", nil), 403, "forbidden")
	want(t, call(adm, "POST", "/api/v1/users", map[string]any{"name": "x", "phone": "13712340004", "password": "Chosen-pw-1", "role": "cadre"}), 403, "forbidden")
	want(t, call(adm, "PATCH", "/api/v1/users/"+cadre.str("id"), map[string]any{"disabled": true}), 403, "forbidden")

	// Every grant, lock and reset is in the trail, with who did it and from where.
	seen := map[string]bool{}
	for _, it := range call(aud, "GET", "/api/v1/audit?entity=user&limit=500", nil).items() {
		seen[it["action"].(string)+"/"+it["role"].(string)] = true
		if it["addr"] == "" || it["outcome"] == "" {
			t.Errorf("entry without address or outcome: %v", it)
		}
	}
	for _, k := range []string{"create/sys_admin", "update/sec_admin", "second_factor_reset/sec_admin", "second_factor_enrolled/admin"} {
		if !seen[k] {
			t.Errorf("no audit entry %s: %v", k, seen)
		}
	}
	denied := call(aud, "GET", "/api/v1/audit?outcome=denied&limit=500", nil)
	if len(denied.items()) < 10 {
		t.Errorf("only %d denials audited", len(denied.items()))
	}
	// The audit administrator exports the trail, with the seals; the export is audited.
	csv := call(aud, "GET", "/api/v1/audit.csv?outcome=denied", nil)
	want(t, csv, 200)
	if lines := strings.Count(string(csv.body), "\n"); lines != len(denied.items())+1 || !strings.Contains(string(csv.body), "sec_admin") {
		t.Errorf("audit.csv: %d lines for %d denials: %s", lines, len(denied.items()), trim(csv.body))
	}
	want(t, call(sys, "GET", "/api/v1/audit.csv", nil), 403, "forbidden")
	if l := call(aud, "GET", "/api/v1/audit?action=export&entityId=audit.csv", nil).items(); len(l) != 1 || l[0]["role"] != "audit_admin" {
		t.Errorf("the export is not audited: %v", l)
	}
}
