package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhucun/domain"
)

// chromium finds Debian's Chromium. Without it the browser tests skip,
// unless ZHUCUN_BROWSER_TESTS is set (as .ci/run sets it, having
// installed it): then they fail.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ZHUCUN_BROWSER_TESTS") != "" {
		t.Fatal("ZHUCUN_BROWSER_TESTS is set and no Chromium is installed (apt-get install chromium)")
	}
	t.Skip("no Chromium here (apt-get install chromium); .ci/run installs it and runs these")
	return ""
}

// consoleServer builds the demo district and serves it on a loopback
// port with a settable clock, as 'zhucun demo' then 'zhucun serve' would.
func consoleServer(t *testing.T) (base string, printed string, clk *clock, b built) {
	t.Helper()
	if !onEmbedded() {
		t.Skip("the demo runs on the embedded store")
	}
	printed, clk, b, _ = demoDistrict(t, map[string]string{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.api.App.Listener(ln) }()
	t.Cleanup(func() { _ = b.api.App.Shutdown() })
	return "http://" + ln.Addr().String(), printed, clk, b
}

// shots is where screenshots go: ZHUCUN_SCREENSHOTS, or the test's own
// directory.
func shots(t *testing.T) string {
	if d := os.Getenv("ZHUCUN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// newTab starts a browser of its own (a fresh profile: its own cookies).
func newTab(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("lang", "zh-CN"), chromedp.WindowSize(1366, 768))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first run starts the browser; it lives as long as ctx (no
	// timeout on it: each step has its own, in browse).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		where, _ := chromedp.Run(ctx, chromedp.Location())
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ""`))
		t.Fatalf("%s: %v\nat %s:\n%s", what, err, where, text)
	}
}

// read runs one action and returns its value.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(step, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// value is an element's value attribute.
func value(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return read(t, ctx, chromedp.AttributeValue(chromedp.CSS(css), "value")).Value
}

// js runs a script in the page.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, tg)
		return err
	})
}

// shoot saves a full-page screenshot at a width (what a screen of that
// size shows first, for a long page: h == 0 means the whole page).
func shoot(t *testing.T, ctx context.Context, dir, name string, w, h int64) {
	t.Helper()
	browse(t, ctx, "viewport", chromedp.EmulateViewport(w, max(h, 768)))
	shot := chromedp.FullScreenshot(100)
	if h > 0 && strings.HasPrefix(name, "reviews") {
		shot = chromedp.CaptureScreenshot()
	}
	png := read(t, ctx, shot)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "viewport", chromedp.EmulateViewport(1366, 768))
}

// TestConsoleInBrowser drives the console in Chromium on the demo
// district: the department's admin signs in and enrols its second factor,
// reads 总览 for March–June 2026, changes the period, drills down to a
// town and a village, downloads the ledger, reviews a record, sends and
// answers a 投诉建议; a form without its CSRF token is refused; a town admin
// cannot reach another town; an idle session is signed out. Screenshots
// at 1366×768 and on a tablet width go to ZHUCUN_SCREENSHOTS.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium(t)
	base, printed, clk, b := consoleServer(t)
	dir := shots(t)
	ctx := newTab(t, exe)

	// Sign in; the admin's role needs a second factor: enrol it.
	browse(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "13900000000"),
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.Search(`//form[@action="/factor"]`)), // the enrolment asks for the password again
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`img[alt="动态口令二维码"]`)),
	)
	if w := read(t, ctx, chromedp.Evaluate[int](`document.querySelector('img[alt="动态口令二维码"]').naturalWidth`)); w < 100 {
		t.Errorf("the QR code did not load (%d px wide)", w)
	}
	secret := read(t, ctx, chromedp.Text(chromedp.CSS(`main code`)))
	key, err := domain.DecodeTOTPSecret(strings.TrimSpace(secret))
	if err != nil {
		t.Fatalf("the secret on the page: %q: %v", secret, err)
	}
	browse(t, ctx, "confirm the factor",
		chromedp.SendKeys(chromedp.CSS(`#code`), domain.TOTPCode(key, clk.Now())),
		chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.codes`)),
	)
	if n := len(strings.Fields(read(t, ctx, chromedp.Text(chromedp.CSS(`ol.codes`))))); n != 10 {
		t.Fatalf("%d recovery codes shown", n)
	}

	// 总览 for March–June 2026: the report's numbers.
	browse(t, ctx, "总览", chromedp.Navigate(base+"/?kind=custom&from=2026-03-01&to=2026-06-30"), chromedp.WaitVisible(chromedp.CSS(`ul.cards`)))
	card := func(metric string) string { return value(t, ctx, `ul.cards data[data-metric="`+metric+`"]`) }
	for metric, want := range map[string]string{"households_visited": "1263", "leader_research_visits": "27", "committee_meetings": "163",
		"party_members_visited": "398", "conflicts_identified": "40", "disputes_resolved": "20", "reserve_candidates": "19",
		"projects_active": "37", "funds_fen": "523600000"} {
		if got := card(metric); got != want {
			t.Errorf("总览 shows %s = %s, the report %s", metric, got, want)
		}
	}
	shoot(t, ctx, dir, "overview-1366", 1366, 768)
	shoot(t, ctx, dir, "overview-tablet", 820, 1180)

	// Change the period with the picker: April 2026.
	browse(t, ctx, "the period picker",
		chromedp.SetValue(chromedp.CSS(`#kind`), "month"),
		js(`document.querySelector('#kind').dispatchEvent(new Event('change'))`),
		chromedp.SetValue(chromedp.CSS(`input[name="month"]`), "2026-04"),
		chromedp.Click(chromedp.CSS(`form.period button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.Search(`//span[@class="range"][contains(., "2026年4月")]`)),
	)
	sum, err := b.svc.Stats.Summary(context.Background(), districtScope(t, b), domain.Period{ID: "202604", From: "2026-04-01", To: "2026-04-30"})
	if err != nil {
		t.Fatal(err)
	}
	if april := card("households_visited"); april != fmt.Sprint(sum.Metrics["households_visited"]) {
		t.Errorf("April: the page shows %s households, the service %v", april, sum.Metrics["households_visited"])
	}

	// Drill down: district → 杜店街道 → 郭集.
	browse(t, ctx, "drill down",
		chromedp.Navigate(base+"/?kind=custom&from=2026-03-01&to=2026-06-30"),
		chromedp.Click(chromedp.Search(`//table//a[text()="杜店街道"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="杜店街道"]`)),
	)
	shoot(t, ctx, dir, "town-1366", 1366, 768)
	shoot(t, ctx, dir, "town-tablet", 820, 1180)
	browse(t, ctx, "a village", chromedp.Click(chromedp.Search(`//table//a[text()="郭集居委会"]`)), chromedp.WaitVisible(chromedp.CSS(`section.lightbox`)))
	if recovered, light := card("losses_recovered_fen"), read(t, ctx, chromedp.Text(chromedp.CSS(`#h-light`))); recovered != "850000000" || !strings.Contains(light, "绿灯") {
		t.Errorf("郭集: %s fen recovered, light %q", recovered, light)
	}
	if kept := read(t, ctx, chromedp.Text(chromedp.CSS(`span.range`))); !strings.Contains(kept, "2026-03-01 至 2026-06-30") {
		t.Errorf("the drill-down lost the period: %q", kept)
	}
	shoot(t, ctx, dir, "village-1366", 1366, 768)
	shoot(t, ctx, dir, "village-tablet", 820, 1180)

	// The ledger downloads (fetched by the page, with its session).
	browse(t, ctx, "ledger", chromedp.Navigate(base+"/?kind=custom&from=2026-03-01&to=2026-06-30"), chromedp.WaitVisible(chromedp.CSS(`a[download]`)))
	head := read(t, ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[download]').href).then(r => r.status + ' ' + r.headers.get('content-type') + ' ' + r.headers.get('content-disposition'))`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(head, "200 application/vnd.openxmlformats") || !strings.Contains(head, "attachment") {
		t.Errorf("the ledger download answered %q", head)
	}

	// The department's round and teams.
	browse(t, ctx, "round", chromedp.Navigate(base+"/round"), chromedp.WaitVisible(chromedp.CSS(`#h-cand`)))
	shoot(t, ctx, dir, "round-1366", 1366, 0)
	browse(t, ctx, "teams", chromedp.Navigate(base+"/teams"), chromedp.WaitVisible(chromedp.CSS(`table.grid`)))
	shoot(t, ctx, dir, "teams-1366", 1366, 0)

	// The review queue: approve the first record.
	browse(t, ctx, "reviews", chromedp.Navigate(base+"/reviews"), chromedp.WaitVisible(chromedp.CSS(`form.review`)))
	first := value(t, ctx, `form.review input[name="id"]`)
	// The records' cited photos are shown: the first one loads as a JPEG.
	photo := read(t, ctx, chromedp.Evaluate[string](`(() => { const i = document.querySelector('.photos img');
		return i ? fetch(i.src).then(r => r.status + ' ' + r.headers.get('content-type')) : 'no photo'; })()`, chromedp.EvalAwaitPromise))
	if photo != "200 image/jpeg" {
		t.Errorf("a cited photo in the queue: %q", photo)
	}
	shoot(t, ctx, dir, "reviews-1366", 1366, 768)
	shoot(t, ctx, dir, "reviews-tablet", 820, 1180)
	browse(t, ctx, "approve", chromedp.Click(chromedp.CSS(`form.review button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	flash := read(t, ctx, chromedp.Text(chromedp.CSS(`p.flash`)))
	rec, err := b.svc.Field.Records.GetRecord(context.Background(), first)
	if err != nil || rec.ReviewState() != domain.ReviewApproved || !strings.Contains(flash, "通过") {
		t.Errorf("the reviewed record stands %q (%v); the page said %q", rec.ReviewState(), err, flash)
	}

	// 投诉建议: a form without its CSRF token is refused and changes nothing.
	browse(t, ctx, "CSRF",
		chromedp.Navigate(base+"/feedback"),
		chromedp.WaitVisible(chromedp.CSS(`#text`)),
		chromedp.SendKeys(chromedp.CSS(`#text`), "没有令牌的表单"),
		js(`document.querySelector('form.stack input[name="_csrf"]').remove()`),
		chromedp.Submit(chromedp.CSS(`#text`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)),
	)
	if refused := read(t, ctx, chromedp.Text(chromedp.CSS(`h1`))); refused != "表单已失效" {
		t.Errorf("a form without its token: %q", refused)
	}
	browse(t, ctx, "send and answer",
		chromedp.Navigate(base+"/feedback"),
		chromedp.WaitVisible(chromedp.CSS(`#text`)),
		chromedp.SendKeys(chromedp.CSS(`#text`), "建议总览增加按月对比"),
		chromedp.Submit(chromedp.CSS(`#text`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="answer"]`), "已采纳，下一版提供"),
		chromedp.Submit(chromedp.CSS(`textarea[name="answer"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.answer`)),
	)
	answered, body := read(t, ctx, chromedp.Text(chromedp.CSS(`p.answer`))), read(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
	if !strings.Contains(answered, "已采纳") || strings.Contains(body, "没有令牌的表单") {
		t.Errorf("answer %q; the refused form left a message: %v", answered, strings.Contains(body, "没有令牌的表单"))
	}

	// A town admin: its own town only.
	phone, pass := accountOf(t, printed, "杜店街道组织委员")
	tctx := newTab(t, exe)
	browse(t, tctx, "town admin",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), phone),
		chromedp.SendKeys(chromedp.CSS(`#password`), pass),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#current`)), // the first password change
		chromedp.SendKeys(chromedp.CSS(`#current`), pass),
		chromedp.SendKeys(chromedp.CSS(`#new`), "Town-Admin-2026!"),
		chromedp.SendKeys(chromedp.CSS(`#again`), "Town-Admin-2026!"),
		chromedp.Submit(chromedp.CSS(`#again`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="杜店街道"]`)),
		chromedp.Navigate(base+"/towns/"+townID(t, b, "市东街道")),
		chromedp.WaitVisible(chromedp.CSS(`h1`)),
	)
	if other := read(t, tctx, chromedp.Text(chromedp.CSS(`h1`))); other != "找不到" {
		t.Errorf("a town admin on another town's page sees %q", other)
	}

	// Idle for half an hour: signed out.
	clk.Advance(31 * time.Minute)
	browse(t, ctx, "idle", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	if expired := read(t, ctx, chromedp.Text(chromedp.CSS(`main`))); !strings.Contains(expired, "自动退出") {
		t.Errorf("after 31 idle minutes the page says %q", expired)
	}
}

var idRE = regexp.MustCompile(`^[0-9a-f-]{36}$`)

func townID(t *testing.T, b built, name string) string {
	t.Helper()
	l, err := b.svc.Org.ListTowns(context.Background(), domain.System("test"), domain.TownFilter{}, domain.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tw := range l.Items {
		if tw.Name == name && idRE.MatchString(tw.ID) {
			return tw.ID
		}
	}
	t.Fatalf("no town %s", name)
	return ""
}

func districtScope(t *testing.T, b built) domain.StatsScope {
	t.Helper()
	sc, err := b.svc.Stats.ResolveScope(context.Background(), domain.Caller{Role: domain.RoleAdmin}, domain.ScopeDistrict, "")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
