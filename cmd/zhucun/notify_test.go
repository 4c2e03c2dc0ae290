package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zhucun/domain"
)

// testTemplates are the subscribe-message templates the test servers send.
var testTemplates = map[string]string{domain.RuleRecordReturned: "tmpl-returned", domain.RuleLeaveDecided: "tmpl-leave",
	domain.RuleTargetDue: "tmpl-target", domain.RuleTargetOverdue: "tmpl-target", domain.RuleReviewWaiting: "tmpl-review"}

// pushServer is the WeChat-like server of subscribe messages: stable_token
// hands out tok-1, tok-2 …; subscribeMessage.send takes the current token
// only, answers by openid (openid-refuse: 43101; openid-reject: 40003;
// openid-busy: -1 for its first busy sends) and records what it took.
type pushServer struct {
	mu      sync.Mutex
	tokens  int
	forced  int
	expire  bool // the next send answers 42001 (expired token)
	busy    int  // sends to openid-busy still to answer -1
	sent    []sentMessage
	answers map[string]int // openid → sends answered (any code)
}

type sentMessage struct {
	ToUser     string                       `json:"touser"`
	TemplateID string                       `json:"template_id"`
	Page       string                       `json:"page"`
	Data       map[string]map[string]string `json:"data"`
	State      string                       `json:"miniprogram_state"`
}

func (p *pushServer) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.answers == nil {
		p.answers = map[string]int{}
	}
	switch r.URL.Path {
	case "/cgi-bin/stable_token":
		var b struct {
			GrantType string `json:"grant_type"`
			AppID     string `json:"appid"`
			Secret    string `json:"secret"`
			Force     bool   `json:"force_refresh"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&b) != nil || b.AppID != "wxapp" || b.Secret != "wxsecret" || b.GrantType != "client_credential" {
			fmt.Fprint(w, `{"errcode":40013,"errmsg":"invalid appid"}`)
			return
		}
		p.tokens++
		if b.Force {
			p.forced++
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":7200}`, p.tokens)
	case "/cgi-bin/message/subscribe/send":
		var m sentMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			fmt.Fprint(w, `{"errcode":47001,"errmsg":"data format error"}`)
			return
		}
		p.answers[m.ToUser]++
		switch {
		case r.URL.Query().Get("access_token") != fmt.Sprintf("tok-%d", p.tokens):
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
		case p.expire:
			p.expire = false
			fmt.Fprint(w, `{"errcode":42001,"errmsg":"access_token expired"}`)
		case m.ToUser == "openid-refuse":
			fmt.Fprint(w, `{"errcode":43101,"errmsg":"user refuse to accept the msg"}`)
		case m.ToUser == "openid-reject":
			fmt.Fprint(w, `{"errcode":40003,"errmsg":"invalid openid"}`)
		case m.ToUser == "openid-busy" && p.busy > 0:
			p.busy--
			fmt.Fprint(w, `{"errcode":-1,"errmsg":"system error"}`)
		default:
			p.sent = append(p.sent, m)
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		}
	default:
		fmt.Fprint(w, `{"errcode":40066,"errmsg":"invalid url"}`)
	}
}

func (p *pushServer) messages(to string) []sentMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []sentMessage
	for _, m := range p.sent {
		if m.ToUser == to {
			out = append(out, m)
		}
	}
	return out
}

// campaignTime is a time of today's campaign date (Asia/Shanghai), plus days.
func campaignTime(days, hour, minute int) time.Time {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	n := time.Now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day()+days, hour, minute, 0, 0, loc)
}

// relogin signs every fixture account in again (after the clock moved past their tokens).
func (e *env) relogin(t *testing.T, f *fixture) {
	t.Helper()
	for role, phone := range f.phones {
		f.tokens[role] = e.login(t, phone, testPassword)
	}
}

// bindWeChat binds an account to openid-<name> and accepts templates.
func (e *env) bindWeChat(t *testing.T, phone, token, name string, accept ...string) {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-" + name}})
	want(t, r, 401, "wechat_unbound")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/auth/wechat/bind", body: map[string]any{"ticket": r.str("bind_ticket"), "phone": phone, "password": testPassword}}), 200)
	if len(accept) > 0 {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/me/wechat/subscriptions", token: token, body: map[string]any{"accepted": accept}}), 200)
	}
}

// inbox reads an account's inbox: the rules of its items, and its unread count.
func (e *env) inbox(t *testing.T, token string) ([]map[string]any, int) {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/me/notifications?limit=500", token: token})
	want(t, r, 200)
	return r.items(), int(r.json["unread"].(float64))
}

func rules(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["rule"].(string))
	}
	slices.Sort(out)
	return out
}

func (e *env) tick(t *testing.T) {
	t.Helper()
	if err := e.notify.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestRemindersQuietHoursAndOncePerDay: a record returned at 23:30 waits
// for 07:00 in the inbox and on WeChat; a rule tells a person once per
// item and day; a notice whose item is dealt with before the morning is
// dropped; the daily rules (targets due and overdue, records waiting for
// review) run once a day and stop when the item is done.
func TestRemindersQuietHoursAndOncePerDay(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(campaignTime(0, 9, 0))
	f := e.fixture(t)
	cadre, leader := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	e.bindWeChat(t, f.phones[domain.RoleCadre], cadre, "cadre", "tmpl-returned", "tmpl-returned", "tmpl-leave")
	subs := e.do(t, req{method: "GET", path: "/api/v1/me/wechat/subscriptions", token: cadre})
	want(t, subs, 200)
	for _, s := range subs.json["templates"].([]any) {
		m := s.(map[string]any)
		if m["templateId"] == "tmpl-returned" && m["remaining"] != 2.0 || m["templateId"] == "tmpl-leave" && m["remaining"] != 1.0 {
			t.Fatalf("grants: %v", subs.json)
		}
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/me/wechat/subscriptions", token: cadre, body: map[string]any{"accepted": []string{"tmpl-nope"}}}), 422)
	report := func(hoursAgo int) string {
		r := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit",
			"villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Duration(hoursAgo) * time.Hour), "visitee": "household", "count": 2}})
		want(t, r, 201)
		return r.str("id")
	}
	giveBack := func(id, comment string) {
		t.Helper()
		r := e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": []map[string]any{{"id": id, "decision": "return", "comment": comment}}}})
		want(t, r, 200)
		if st := r.json["results"].([]any)[0].(map[string]any)["status"]; st != "reviewed" {
			t.Fatalf("return: %v", st)
		}
	}
	r1, r2 := report(2), report(3)

	// 23:30: the return waits for the morning, in the inbox and on WeChat.
	e.clock.Set(campaignTime(0, 23, 30))
	e.relogin(t, f)
	cadre, leader = f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	giveBack(r1, "户数不符")
	giveBack(r2, "缺照片")
	if items, unread := e.inbox(t, cadre); len(items) != 0 || unread != 0 {
		t.Fatalf("at 23:30 the inbox holds %v", rules(items))
	}
	e.tick(t)
	if m := e.wechat.push.messages("openid-cadre"); len(m) != 0 {
		t.Fatalf("a message went out at 23:30: %+v", m)
	}
	// The cadre fixes r2 before the morning: its reminder is dealt with.
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + r2, token: cadre, body: map[string]any{"notes": "已补照片"}}), 200)

	// 07:01: r1's return shows and goes out once; r2's was dropped.
	e.clock.Set(campaignTime(1, 7, 1))
	e.relogin(t, f)
	cadre, leader = f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	items, unread := e.inbox(t, cadre)
	if len(items) != 1 || unread != 1 || items[0]["item"] != r1 || !strings.Contains(items[0]["body"].(string), "户数不符") || items[0]["data"].(map[string]any)["recordId"] != r1 {
		t.Fatalf("the morning inbox: %v", items)
	}
	e.tick(t)
	e.tick(t)
	msgs := e.wechat.push.messages("openid-cadre")
	if len(msgs) != 1 || msgs[0].TemplateID != "tmpl-returned" || msgs[0].Page != "pages/index/index" || msgs[0].Data["thing1"]["value"] != "记录被退回" ||
		msgs[0].State != "formal" || msgs[0].Data["time3"]["value"] == "" {
		t.Fatalf("messages: %+v", msgs)
	}
	// Returned again the same day: still one notice of that item today.
	giveBack(r1, "户数仍不符")
	if items, _ := e.inbox(t, cadre); len(items) != 1 {
		t.Fatalf("a second return the same day: %v", rules(items))
	}

	// A target of A1 due in two days: the daily rule tells its cadre and team
	// leader once today, again tomorrow, and not once it is done.
	tg := e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", token: f.tokens[domain.RoleAdmin], body: map[string]any{
		"domain": "leadership", "task": "strengthen_team", "kind": "common", "title": "配强班子", "year": campaignTime(1, 9, 0).Year(),
		"due": campaignTime(3, 9, 0).Format(domain.DateLayout)}})
	want(t, tg, 201)
	markRead := e.do(t, req{method: "POST", path: "/api/v1/me/notifications/read", token: cadre, body: map[string]any{"all": true}})
	want(t, markRead, 200)
	if markRead.json["marked"] != 1.0 || markRead.json["unread"] != 0.0 {
		t.Fatalf("mark read: %s", markRead.body)
	}
	e.notify.Daily = &domain.DailyMark{} // a restart: the daily rules run again today
	e.tick(t)
	e.notify.Daily = &domain.DailyMark{}
	e.tick(t)
	items, unread = e.inbox(t, cadre)
	if got := rules(items); !slices.Equal(got, []string{domain.RuleRecordReturned, domain.RuleTargetDue}) || unread != 1 {
		t.Fatalf("after the daily rules, twice: %v, %d unread", got, unread)
	}
	li, _ := e.inbox(t, leader)
	if got := rules(li); !slices.Equal(got, []string{domain.RuleReviewWaiting, domain.RuleTargetDue}) {
		t.Fatalf("the team leader's inbox: %v", got)
	}
	for _, it := range li {
		if it["rule"] == domain.RuleReviewWaiting && it["data"].(map[string]any)["count"] != "1" {
			t.Fatalf("review summary: %v", it) // r2 waits again since the fix
		}
	}
	e.clock.Set(campaignTime(2, 8, 0))
	e.relogin(t, f)
	cadre = f.tokens[domain.RoleCadre]
	e.tick(t)
	if items, _ := e.inbox(t, cadre); len(items) != 3 {
		t.Fatalf("the next day: %v", rules(items))
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/targets/" + tg.str("id") + "/progress", token: cadre, body: map[string]any{
		"date": campaignTime(2, 8, 0).Format(domain.DateLayout), "percent": 100, "note": "已配齐"}}), 201)
	e.clock.Set(campaignTime(3, 8, 0))
	e.relogin(t, f)
	cadre = f.tokens[domain.RoleCadre]
	e.tick(t)
	if items, _ := e.inbox(t, cadre); len(items) != 3 {
		t.Fatalf("after the target is done: %v", rules(items))
	}
	// Bad input changes nothing.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/me/notifications/read", token: cadre, body: map[string]any{}}), 422)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/me/notifications/read", token: cadre, body: map[string]any{"ids": []string{"x"}}}), 422)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/me/notifications?unread=maybe", token: cadre}), 422)
	// Another account's notices are not the cadre's to read.
	leader = f.tokens[domain.RoleTeamLeader]
	_, before := e.inbox(t, leader)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/me/notifications/read", token: cadre, body: map[string]any{"ids": []string{li[0]["id"].(string)}}}), 200)
	if _, after := e.inbox(t, leader); after != before {
		t.Fatalf("the cadre marked the leader's notice read")
	}
}

// TestSubscribeMessageErrors: WeChat's answers are handled — an expired
// token is fetched again and the message sent; a refused subscription is
// not retried (and its grants forgotten); a rejected message fails for
// good; system busy is retried later; leave and period reminders go out.
func TestSubscribeMessageErrors(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(campaignTime(0, 9, 0))
	f := e.fixture(t)
	cadre, leader, townAdmin := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader], f.tokens[domain.RoleTownAdmin]
	e.bindWeChat(t, f.phones[domain.RoleCadre], cadre, "cadre", "tmpl-leave", "tmpl-leave")
	e.bindWeChat(t, f.phones[domain.RoleTeamLeader], leader, "refuse", "tmpl-leave", "tmpl-review")
	e.bindWeChat(t, f.phones[domain.RoleTownAdmin], townAdmin, "busy", "tmpl-review")
	e.bindWeChat(t, "13900000009", e.login(t, "13900000009", testPassword), "reject", "tmpl-leave")
	leave := func(token string) string {
		r := e.do(t, req{method: "POST", path: "/api/v1/leaves", token: token, body: map[string]any{"id": domain.NewID(e.clock.Now()),
			"from": campaignTime(1, 0, 0).Format(domain.DateLayout), "to": campaignTime(1, 0, 0).Format(domain.DateLayout), "reason": "就医"}})
		want(t, r, 201)
		return r.str("id")
	}
	decide := func(token, id string) {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves/" + id + "/decision", token: token, body: map[string]any{"decision": "approve"}}), 200)
	}
	// The first send finds its token expired: a forced fetch, and it goes.
	e.wechat.push.mu.Lock()
	e.wechat.push.expire = true
	e.wechat.push.mu.Unlock()
	decide(leader, leave(cadre))
	e.tick(t)
	if m := e.wechat.push.messages("openid-cadre"); len(m) != 1 || m[0].TemplateID != "tmpl-leave" || m[0].Data["thing1"]["value"] != "请假已批准" {
		t.Fatalf("leave message: %+v", m)
	}
	if e.wechat.push.forced != 1 {
		t.Fatalf("forced token fetches: %d", e.wechat.push.forced)
	}
	items, _ := e.inbox(t, cadre)
	if len(items) != 1 || items[0]["push"] != domain.PushSent {
		t.Fatalf("the leave notice: %v", items)
	}
	// The team leader's subscription is refused by WeChat: not retried, grants forgotten.
	decide(townAdmin, leave(leader))
	e.tick(t)
	e.clock.Advance(2 * time.Hour)
	e.relogin(t, f)
	leader, townAdmin = f.tokens[domain.RoleTeamLeader], f.tokens[domain.RoleTownAdmin]
	e.tick(t)
	if n := e.wechat.push.answers["openid-refuse"]; n != 1 {
		t.Fatalf("a refused subscription was sent %d times", n)
	}
	items, _ = e.inbox(t, leader)
	if len(items) != 1 || items[0]["push"] != domain.PushRefused {
		t.Fatalf("the refused notice: %v", items)
	}
	subs := e.do(t, req{method: "GET", path: "/api/v1/me/wechat/subscriptions", token: leader})
	for _, s := range subs.json["templates"].([]any) {
		if m := s.(map[string]any); m["templateId"] == "tmpl-leave" && m["remaining"] != 0.0 {
			t.Fatalf("grants after 43101: %v", m)
		}
	}
	// A rejected openid fails for good.
	cadreB := e.login(t, "13900000009", testPassword)
	decide(f.tokens[domain.RoleAdmin], leave(cadreB))
	e.tick(t)
	e.clock.Advance(2 * time.Hour)
	e.tick(t)
	if n := e.wechat.push.answers["openid-reject"]; n != 1 {
		t.Fatalf("a rejected message was sent %d times", n)
	}
	// System busy is retried later, and goes through.
	e.wechat.push.mu.Lock()
	e.wechat.push.busy = 1
	e.wechat.push.mu.Unlock()
	e.notify.Daily = &domain.DailyMark{}
	cadre = e.login(t, f.phones[domain.RoleCadre], testPassword)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit",
		"villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 2}}), 201)
	e.tick(t) // the daily review summary for the town admin: busy
	if m := e.wechat.push.messages("openid-busy"); len(m) != 0 || e.wechat.push.answers["openid-busy"] != 1 {
		t.Fatalf("busy: %+v %d", m, e.wechat.push.answers["openid-busy"])
	}
	e.tick(t) // not yet due again
	if e.wechat.push.answers["openid-busy"] != 1 {
		t.Fatalf("retried at once")
	}
	e.clock.Advance(2 * time.Minute)
	e.tick(t)
	if m := e.wechat.push.messages("openid-busy"); len(m) != 1 || m[0].TemplateID != "tmpl-review" {
		t.Fatalf("after busy: %+v", m)
	}

	// A month submitted, then approved: the village's people hear it is about to lock, then locked.
	month, _ := lastMonth(e.clock.Now())
	e.relogin(t, f)
	ap := "/api/v1/approvals/village/" + f.villA1 + "/" + month
	want(t, e.do(t, req{method: "POST", path: ap + "/submit", token: f.tokens[domain.RoleTeamLeader]}), 200)
	want(t, e.do(t, req{method: "POST", path: ap + "/approve", token: f.tokens[domain.RoleTownAdmin]}), 200)
	items, _ = e.inbox(t, f.tokens[domain.RoleCadre])
	if got := rules(items); !slices.Contains(got, domain.RulePeriodSubmitted) || !slices.Contains(got, domain.RulePeriodLocked) {
		t.Fatalf("the cadre's inbox after the month: %v", got)
	}
	cb, _ := e.inbox(t, e.login(t, "13900000009", testPassword))
	if slices.Contains(rules(cb), domain.RulePeriodLocked) {
		t.Fatalf("B1's cadre heard of A1's month")
	}
}

// TestVillageRemindersReachTeams: a village's notices reach the people of
// its teams, not only the accounts assigned to it.
func TestVillageRemindersReachTeams(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(campaignTime(0, 10, 0))
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	month, _ := lastMonth(e.clock.Now())
	want(t, e.do(t, req{method: "POST", path: "/api/v1/approvals/village/" + f.villA2 + "/" + month + "/submit", token: f.tokens[domain.RoleTownAdmin]}), 200)
	// A2's team is led by the district leader, assigned to no village.
	items, _ := e.inbox(t, f.tokens[domain.RoleLeader])
	if got := rules(items); !slices.Equal(got, []string{domain.RulePeriodSubmitted}) || items[0]["data"].(map[string]any)["scopeId"] != f.villA2 {
		t.Fatalf("the team's leader heard %v", items)
	}
	if items, _ := e.inbox(t, f.tokens[domain.RoleCadre]); len(items) != 0 {
		t.Fatalf("A1's cadre heard of A2's month: %v", rules(items))
	}
}
