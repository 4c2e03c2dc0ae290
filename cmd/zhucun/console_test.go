package main

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhucun/demo"
)

// browser is a cookie-keeping client of the console, through the app.
type browser struct {
	t       testing.TB
	e       *env
	cookies map[string]string
}

func newBrowser(t testing.TB, e *env) *browser {
	return &browser{t: t, e: e, cookies: map[string]string{}}
}

// page is a console response: status, where it redirects, the body.
type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) send(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.e.api.App.Test(r, -1)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck.Value
		}
	}
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw), header: res.Header}
}

func (b *browser) get(path string) page { return b.send(http.MethodGet, path, nil) }

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post sends a form with the CSRF token of the page it came from.
func (b *browser) post(from page, path string, form url.Values) page {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(from.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page for %s", path)
	}
	form.Set("_csrf", html.UnescapeString(m[1]))
	return b.send(http.MethodPost, path, form)
}

// signIn signs in with the form, changing the password when the console
// asks for it first.
func (b *browser) signIn(phone, password, newPassword string) {
	b.t.Helper()
	login := b.get("/login")
	p := b.post(login, "/login", url.Values{"phone": {phone}, "password": {password}})
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d %s", p.status, p.body)
	}
	if next := b.get(p.location); next.status == http.StatusSeeOther && next.location == "/password" {
		form := b.get("/password")
		ch := b.post(form, "/password", url.Values{"current": {password}, "new": {newPassword}, "again": {newPassword}})
		if ch.status != http.StatusSeeOther {
			b.t.Fatalf("password change: %d %s", ch.status, ch.body)
		}
	}
}

var cardsRE = regexp.MustCompile(`(?s)<ul class="cards">(.*?)</ul>`)
var dataRE = regexp.MustCompile(`<data class="n" data-metric="([a-z_]+)" value="(-?\d+)">`)

// cardValues are the numbers of a page's cards, by metric.
func cardValues(t *testing.T, body string) map[string]int64 {
	t.Helper()
	m := cardsRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no cards on the page")
	}
	out := map[string]int64{}
	for _, d := range dataRE.FindAllStringSubmatch(m[1], -1) {
		n, _ := strconv.ParseInt(d[2], 10, 64)
		out[d[1]] = n
	}
	return out
}

// accountOf finds a printed account's password by name.
func accountOf(t *testing.T, printed, name string) (phone, password string) {
	t.Helper()
	for _, line := range strings.Split(printed, "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[1] == name {
			return f[2], f[3]
		}
	}
	t.Fatalf("no account %s printed", name)
	return "", ""
}

// checkConsole drives the console on the demo district: 总览 shows the
// report's numbers for March–June 2026 equal to the API's; the towns
// drill down to a town and a village; the ledger downloads; a review;
// a 投诉建议 sent and answered; a form without its CSRF token refused; a
// town admin kept to its town; the idle timeout.
func checkConsole(t *testing.T, e *env, tok string, ids map[string]string, printed string) {
	t.Helper()
	const q = "kind=custom&from=2026-03-01&to=2026-06-30"
	api := func(path string) map[string]any {
		r := e.do(t, req{method: "GET", path: path, token: tok})
		want(t, r, 200)
		return r.json["metrics"].(map[string]any)
	}
	admin := newBrowser(t, e)
	if p := admin.get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("an anonymous 总览: %d %s", p.status, p.location)
	}
	admin.signIn("13900000000", testPassword, "")
	ov := admin.get("/?" + q)
	if ov.status != 200 || !strings.Contains(ov.body, "总览") {
		t.Fatalf("总览: %d %.300s", ov.status, ov.body)
	}
	if csp := ov.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || len(ov.header.Values("Content-Security-Policy")) != 1 {
		t.Errorf("总览's policy: %v", ov.header.Values("Content-Security-Policy"))
	}
	cards := cardValues(t, ov.body)
	district := api("/api/v1/stats/summary?scope=district&from=2026-03-01&to=2026-06-30")
	for k, n := range demoReport {
		if _, shown := cards[k]; !shown {
			continue
		}
		if cards[k] != n || float64(cards[k]) != district[k] {
			t.Errorf("总览 shows %s = %d; the report says %d, the API %v", k, cards[k], n, district[k])
		}
	}
	for _, k := range []string{"leader_research_visits", "committee_meetings", "party_members_visited", "households_visited",
		"conflicts_identified", "disputes_resolved", "reserve_candidates", "unit_research_visits", "projects_active", "funds_fen"} {
		if _, ok := cards[k]; !ok {
			t.Errorf("总览 has no card for %s", k)
		}
	}
	for _, s := range []string{"523.6", "1,263", "850", "<svg", "light-red", "市东街道"} {
		if !strings.Contains(ov.body, s) {
			t.Errorf("总览 lacks %q", s)
		}
	}
	// Another period: April only.
	apr := cardValues(t, admin.get("/?kind=month&month=2026-04").body)
	if aprAPI := api("/api/v1/stats/summary?period=202604"); float64(apr["households_visited"]) != aprAPI["households_visited"] || apr["households_visited"] >= cards["households_visited"] {
		t.Errorf("April: the page shows %d households, the API %v (March–June %d)", apr["households_visited"], aprAPI["households_visited"], cards["households_visited"])
	}
	// Drill down: the town of 郭集, then 郭集.
	town := ids["杜店街道"]
	tp := admin.get("/towns/" + town + "?" + q)
	if tp.status != 200 {
		t.Fatalf("town page: %d", tp.status)
	}
	townAPI := api("/api/v1/stats/summary?scope=town&id=" + town + "&from=2026-03-01&to=2026-06-30")
	for k, v := range cardValues(t, tp.body) {
		if float64(v) != townAPI[k] {
			t.Errorf("杜店街道's page shows %s = %d, the API %v", k, v, townAPI[k])
		}
	}
	guoji := ids[town+"/郭集居委会"]
	if !strings.Contains(tp.body, "/villages/"+guoji) {
		t.Fatalf("the town page does not link 郭集")
	}
	vp := admin.get("/villages/" + guoji + "?" + q)
	if vp.status != 200 || !strings.Contains(vp.body, "绿灯") || !strings.Contains(vp.body, "评估总分") {
		t.Fatalf("郭集's page: %d %.500s", vp.status, vp.body)
	}
	if cardValues(t, vp.body)["losses_recovered_fen"] != demo.GuojiRecoveredFen {
		t.Errorf("郭集's page does not show its 850万 recovered")
	}
	// The ledger downloads as a workbook.
	if dl := admin.get("/export/ledger.xlsx?" + q); dl.status != 200 || !strings.HasPrefix(dl.body, "PK") ||
		!strings.Contains(dl.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("ledger download: %d %s", dl.status, dl.header.Get("Content-Type"))
	}
	// The round: 602 evaluated, 90 on the list, 45 selected; the 45 teams.
	rp := admin.get("/round")
	for _, s := range []string{`value="602">602`, `value="90">90`, `value="45">45`, "25 / 20", "郭集居委会", "集体经济空壳村"} {
		if !strings.Contains(rp.body, s) {
			t.Errorf("the round's page lacks %q", s)
		}
	}
	if tm := admin.get("/teams"); tm.status != 200 || !strings.Contains(tm.body, "工作组（45）") {
		t.Errorf("the teams page: %d", tm.status)
	}
	// Approvals: March approved in every selected village; field checks; the half-year's assessments.
	if ap := admin.get("/approvals?state=approved"); ap.status != 200 || strings.Count(ap.body, "<td>202603</td>") != 45 {
		t.Errorf("the approvals page: %d, %d March months approved", ap.status, strings.Count(ap.body, "<td>202603</td>"))
	}
	if fc := admin.get("/field-checks"); fc.status != 200 || !strings.Contains(fc.body, "（“四不两直”，12 次）") {
		t.Errorf("the field checks page: %d", fc.status)
	}
	as := admin.get("/assessments?half=2026S1")
	if as.status != 200 || strings.Count(as.body, `<td class="num">`) != 45 || strings.Contains(as.body, "未评估") {
		t.Errorf("the assessments page: %d, %d assessed", as.status, strings.Count(as.body, `<td class="num">`))
	}
	// Accounts: phones masked in the list (PIPL).
	if ac := admin.get("/accounts?role=town_admin"); ac.status != 200 || strings.Count(ac.body, "组织委员") != 10 ||
		strings.Contains(ac.body, "13905431005") || !strings.Contains(ac.body, "139****1005") {
		t.Errorf("the accounts page: %d", ac.status)
	}
	// A review from the queue.
	queue := admin.get("/reviews")
	idRE := regexp.MustCompile(`name="id" value="([0-9a-f-]{36})"`)
	first := idRE.FindStringSubmatch(queue.body)
	if first == nil {
		t.Fatalf("the review queue is empty: %.300s", queue.body)
	}
	before := strings.Count(queue.body, `name="decision" value="approve"`)
	verRE := regexp.MustCompile(`name="id" value="` + first[1] + `">\s*<input type="hidden" name="version" value="(\d+)"`)
	ver := verRE.FindStringSubmatch(queue.body)
	if ver == nil {
		t.Fatalf("no version for %s", first[1])
	}
	if p := admin.post(queue, "/reviews", url.Values{"id": {first[1]}, "version": {ver[1]}, "decision": {"approve"}}); p.status != http.StatusSeeOther {
		t.Fatalf("review: %d %s", p.status, p.body)
	}
	after := admin.get("/reviews")
	if n := strings.Count(after.body, `name="decision" value="approve"`); n != before-1 || strings.Contains(after.body, first[1]) {
		t.Errorf("after the review the queue holds %d (was %d)", n, before)
	}
	// 投诉建议: a form posted without its token changes nothing.
	fb := admin.get("/feedback")
	if p := admin.send(http.MethodPost, "/feedback", url.Values{"kind": {"suggestion"}, "topic": {"system"}, "text": {"无令牌"}}); p.status != http.StatusForbidden {
		t.Errorf("a form without its CSRF token: %d", p.status)
	}
	town1Phone, town1Pass := accountOf(t, printed, "杜店街道组织委员")
	ta := newBrowser(t, e)
	ta.signIn(town1Phone, town1Pass, "Town-Admin-2026!")
	tfb := ta.get("/feedback")
	if p := ta.post(tfb, "/feedback", url.Values{"id": {feedbackID(tfb.body)}, "kind": {"suggestion"}, "topic": {"system"}, "text": {"希望增加按村导出照片"}}); p.status != http.StatusSeeOther {
		t.Fatalf("send feedback: %d %s", p.status, p.body)
	}
	fb = admin.get("/feedback")
	if strings.Contains(fb.body, "无令牌") || !strings.Contains(fb.body, "希望增加按村导出照片") {
		t.Fatalf("the department's 投诉建议: %.400s", fb.body)
	}
	ansRE := regexp.MustCompile(`action="/feedback/([0-9a-f-]{36})/answer"`)
	if p := admin.post(fb, "/feedback/"+ansRE.FindStringSubmatch(fb.body)[1]+"/answer", url.Values{"answer": {"已列入下一版本"}}); p.status != http.StatusSeeOther {
		t.Fatalf("answer: %d %s", p.status, p.body)
	}
	if mine := ta.get("/feedback"); !strings.Contains(mine.body, "已列入下一版本") {
		t.Errorf("the town admin does not see the answer")
	}
	// The town admin sees its town, not another.
	if p := ta.get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/towns/"+town) {
		t.Errorf("a town admin's 总览 goes to %d %s", p.status, p.location)
	}
	if p := ta.get("/towns/" + ids["市东街道"]); p.status != http.StatusNotFound {
		t.Errorf("a town admin reached another town's page: %d", p.status)
	}
	if p := ta.get("/villages/" + ids[ids["市东街道"]+"/西王居委会"]); p.status != http.StatusNotFound {
		t.Errorf("a town admin reached another town's village: %d", p.status)
	}
	if p := ta.get("/towns/" + town + "?" + q); p.status != 200 {
		t.Errorf("the town admin's own town: %d", p.status)
	}
	if p := ta.get("/accounts"); p.status != 200 || strings.Contains(p.body, "市东街道组织委员") || !strings.Contains(p.body, "杜店街道组织委员") {
		t.Errorf("a town admin's accounts page shows other towns' accounts: %d", p.status)
	}
	if p := ta.get("/approvals"); p.status != 200 || strings.Count(p.body, "<td>202603</td>") == 0 || strings.Count(p.body, "<td>202603</td>") >= 45 {
		t.Errorf("a town admin's approvals: %d, %d months", p.status, strings.Count(p.body, "<td>202603</td>"))
	}
	// Idle for 30 minutes: signed out.
	e.clock.Advance(31 * time.Minute)
	if p := admin.get("/?" + q); p.status != http.StatusSeeOther || !strings.Contains(p.location, "expired=1") {
		t.Errorf("after 31 idle minutes: %d %s", p.status, p.location)
	}
}

var feedbackIDRE = regexp.MustCompile(`<input type="hidden" name="id" value="([0-9a-f-]{36})">`)

// feedbackID is the new message's id on the 投诉建议 form.
func feedbackID(body string) string {
	if m := feedbackIDRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}
