package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"zhucun/domain"
)

func TestErrorsAreProblems(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	post := func(body any, ct string, hdr map[string]string) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/towns", token: admin, body: body, contentType: ct, header: hdr})
	}
	want(t, post(`{"name":`, "application/json", nil), 400, "malformed_json")
	want(t, post(`{"name":"a"} {"name":"b"}`, "application/json", nil), 400, "malformed_json")
	want(t, post(``, "application/json", nil), 400, "malformed_json")
	want(t, post(`[1]`, "application/json", nil), 400, "malformed_json")
	want(t, post(`name=a`, "application/x-www-form-urlencoded", nil), 415, "unsupported_media_type")
	want(t, post(`{"name":"a"}`, "", nil), 415, "unsupported_media_type")
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	want(t, post(big, "application/json", nil), 413, "body_too_large")

	// Validation lists each bad field, in Chinese by default and English on request.
	r := post(map[string]any{"name": strings.Repeat("镇", 101), "code": strings.Repeat("c", 41)}, "", nil)
	want(t, r, 422, "validation_failed")
	errs := r.json["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("want 2 field errors, got %s", r.body)
	}
	if r.header.Get("Content-Language") != "zh-CN" || !strings.Contains(r.str("detail"), "字段") {
		t.Errorf("default detail is not Chinese: %s", r.body)
	}
	r = post(map[string]any{"name": 5}, "", map[string]string{"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
	want(t, r, 422, "validation_failed")
	if r.header.Get("Content-Language") != "en" || !strings.Contains(r.str("detail"), "invalid fields") {
		t.Errorf("English detail not given: %s", r.body)
	}
	if fe := r.json["errors"].([]any)[0].(map[string]any); fe["field"] != "name" || fe["code"] != "invalid" {
		t.Errorf("type error field: %v", fe)
	}
	r = post(map[string]any{"name": "x"}, "", map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
	if r.status != 201 {
		t.Fatalf("create: %s", r.body)
	}
	// Duplicate name: 409 naming the field.
	r = post(map[string]any{"name": "x"}, "", nil)
	want(t, r, 409, "already_exists")
	// Nothing was created by the bad requests above.
	l := e.do(t, req{method: "GET", path: "/api/v1/towns", token: admin})
	if n := len(l.items()); n != 3 {
		t.Errorf("%d towns after bad requests, want 3", n)
	}

	want(t, e.do(t, req{method: "GET", path: "/api/v1/nothing", token: admin}), 404, "route_not_found")
	want(t, e.do(t, req{method: "DELETE", path: "/api/v1/towns", token: admin}), 405, "method_not_allowed")
	want(t, e.do(t, req{method: "GET", path: "/api/v1/towns/not-an-id", token: admin}), 404, "not_found")
	want(t, e.do(t, req{method: "GET", path: "/api/v1/towns?limit=501", token: admin}), 422, "invalid_query")
	want(t, e.do(t, req{method: "GET", path: "/api/v1/towns?cursor=@@", token: admin}), 422, "invalid_query")
	want(t, e.do(t, req{method: "GET", path: "/api/v1/audit?from=yesterday", token: f.tokens[domain.RoleAuditAdmin]}), 422, "invalid_query")
}

func TestPanicIs500WithoutInternals(t *testing.T) {
	e := newEnv(t)
	// Under /api: the console serves every other path.
	e.api.App.Get("/api/v1/boom", func(*fiber.Ctx) error { panic("secret internal state at db.go:42") })
	e.api.App.Get("/api/v1/fail", func(*fiber.Ctx) error { return errors.New("dial tcp 10.0.0.5:27017: secret") })
	for _, p := range []string{"/api/v1/boom", "/api/v1/fail"} {
		res, err := e.api.App.Test(httptest.NewRequest("GET", p, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 500 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s", p, res.StatusCode, b)
		}
		if bytes.Contains(b, []byte("secret")) || !bytes.Contains(b, []byte(`"code":"internal_error"`)) {
			t.Errorf("%s leaks or lacks its code: %s", p, b)
		}
	}
	if !strings.Contains(e.logs.String(), "dial tcp 10.0.0.5") {
		t.Error("the internal error was not logged")
	}
}

func TestRequestIDLogsMetricsHeaders(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	r := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villA1, token: f.tokens[domain.RoleCadre], header: map[string]string{"X-Request-ID": "abc-123"}})
	want(t, r, 200)
	if r.header.Get("X-Request-ID") != "abc-123" {
		t.Errorf("request id not echoed: %q", r.header.Get("X-Request-ID"))
	}
	r = e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id with spaces\n"}})
	if id := r.header.Get("X-Request-ID"); id == "" || strings.Contains(id, " ") {
		t.Errorf("bad request id accepted or none made: %q", id)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing security header %s", h)
		}
	}
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS header sent though no origins are configured")
	}
	logs := e.logs.String()
	for _, s := range []string{`"requestId":"abc-123"`, `"route":"/api/v1/villages/:id"`, `"status":200`, `"account":"` + f.ids[domain.RoleCadre] + `"`, `"durationMs"`} {
		if !strings.Contains(logs, s) {
			t.Errorf("request log lacks %s", s)
		}
	}
	if strings.Contains(logs, testPassword) {
		t.Error("a password is in the logs")
	}
	m := e.do(t, req{method: "GET", path: "/metrics"})
	for _, s := range []string{
		`zhucun_http_requests_total{method="GET",route="/api/v1/villages/:id",status="200"} 1`,
		`zhucun_http_request_duration_seconds_bucket{method="GET",route="/api/v1/villages/:id",status="200",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(m.body), s) {
			t.Errorf("metrics lack %s:\n%s", s, m.body)
		}
	}
}

func TestDocsServedLocally(t *testing.T) {
	e := newEnv(t)
	d := e.do(t, req{method: "GET", path: "/docs"})
	want(t, d, 200)
	if strings.Contains(string(d.body), "http://") || strings.Contains(string(d.body), "https://") {
		t.Errorf("the docs page loads something from another host: %s", d.body)
	}
	for _, a := range []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-ui-standalone-preset.js", "/docs/zhucun-docs.js"} {
		r := e.do(t, req{method: "GET", path: a})
		if r.status != 200 || len(r.body) < 100 {
			t.Errorf("%s: %d, %d bytes", a, r.status, len(r.body))
		}
	}
	want(t, e.do(t, req{method: "GET", path: "/docs/..%2fgo.mod"}), 404)
	s := e.do(t, req{method: "GET", path: "/openapi.yaml"})
	if !bytes.HasPrefix(s.body, []byte("openapi: 3.1")) {
		t.Errorf("/openapi.yaml: %.40s", s.body)
	}
}

func TestReadyzFollowsTheDatabase(t *testing.T) {
	e := newEnv(t)
	want(t, e.do(t, req{method: "GET", path: "/readyz"}), 200)
	if err := e.store.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want(t, e.do(t, req{method: "GET", path: "/readyz"}), 503)
	want(t, e.do(t, req{method: "GET", path: "/healthz"}), 200)
}

func multipartFile(t *testing.T, name string, data []byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func TestImportVillages(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	imp := func(tok string, body []byte, ct string) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/imports/villages", token: tok, body: body, contentType: ct})
	}
	count := func() int {
		return len(e.do(t, req{method: "GET", path: "/api/v1/villages?limit=500", token: admin}).items())
	}
	before := count()

	// A bad file names each bad row and imports nothing.
	bad := "乡镇,村居,类型,编码\n市东街道,甲村,村,\n不存在镇,乙村,村,\n市东街道,,居,\n市东街道,丙村,镇,\n市东街道,甲村,村,\n"
	body, ct := multipartFile(t, "villages.csv", []byte(bad))
	r := imp(admin, body, ct)
	want(t, r, 422, "import_invalid")
	rows := r.json["rows"].([]any)
	got := map[float64]string{}
	for _, x := range rows {
		m := x.(map[string]any)
		got[m["row"].(float64)] = m["field"].(string)
	}
	wantRows := map[float64]string{3: "town", 4: "village", 5: "kind", 6: "village"}
	if len(got) != len(wantRows) {
		t.Fatalf("bad rows %v, want %v", got, wantRows)
	}
	for k, v := range wantRows {
		if got[k] != v {
			t.Errorf("row %v: field %q, want %q", k, got[k], v)
		}
	}
	if count() != before {
		t.Fatal("a rejected import changed the villages")
	}

	// A good CSV (GB18030, as Excel on Chinese Windows saves it) imports; again changes nothing.
	good := "乡镇,村居,类型,编码\n市东街道,于家胡同村,村,Y01\n三河湖镇,大王村,村,\n三河湖镇,肖家村,村,\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	body, ct = multipartFile(t, "villages.csv", gb)
	r = imp(admin, body, ct)
	want(t, r, 200)
	if r.json["created"].(float64) != 2 || r.json["unchanged"].(float64) != 1 {
		t.Fatalf("first import: %s", r.body)
	}
	r = imp(admin, body, ct)
	want(t, r, 200)
	if r.json["created"].(float64) != 0 || r.json["unchanged"].(float64) != 3 {
		t.Fatalf("re-import: %s", r.body)
	}
	if count() != before+2 {
		t.Fatalf("%d villages, want %d", count(), before+2)
	}

	// XLSX, with a changed code: updated.
	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"乡镇", "村居", "类型", "编码"})
	_ = x.SetSheetRow("Sheet1", "A2", &[]any{"市东街道", "于家胡同村", "village", "Y02"})
	_ = x.SetSheetRow("Sheet1", "A3", &[]any{"市东街道", "东玉村", "社区", ""})
	var xb bytes.Buffer
	if err := x.Write(&xb); err != nil {
		t.Fatal(err)
	}
	r = imp(admin, xb.Bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	want(t, r, 200)
	if r.json["created"].(float64) != 1 || r.json["updated"].(float64) != 1 {
		t.Fatalf("xlsx import: %s", r.body)
	}
	l := e.do(t, req{method: "GET", path: "/api/v1/villages?q=" + urlq("东玉"), token: admin}).items()
	if len(l) != 1 || l[0]["kind"] != "community" {
		t.Fatalf("imported community: %v", l)
	}

	// A town admin imports into its own town only.
	body, ct = multipartFile(t, "v.csv", []byte("三河湖镇,侯家园子村,村,\n"))
	want(t, imp(f.tokens[domain.RoleTownAdmin], body, ct), 422, "import_invalid")
	want(t, imp(admin, []byte("not a file"), "application/pdf"), 415, "unsupported_media_type")
	body, ct = multipartFile(t, "v.xlsx", []byte("PK\x03\x04garbage"))
	want(t, imp(admin, body, ct), 422, "invalid_file")
	// Every import was audited.
	a := e.do(t, req{method: "GET", path: "/api/v1/audit?action=import&limit=500", token: f.tokens[domain.RoleAuditAdmin]})
	if n := len(a.items()); n != 4 {
		t.Errorf("%d import audit entries, want 4", n)
	}
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	r := e.do(t, req{method: "PATCH", path: "/api/v1/villages/" + f.villA1, token: f.tokens[domain.RoleTownAdmin],
		body: map[string]any{"code": "XW"}, header: map[string]string{"X-Request-ID": "req-audit-1"}})
	want(t, r, 200)
	a := e.do(t, req{method: "GET", path: "/api/v1/audit?entity=village&entityId=" + f.villA1, token: f.tokens[domain.RoleAuditAdmin]})
	items := a.items()
	if len(items) != 2 {
		t.Fatalf("audit of A1: %s", a.body)
	}
	last := items[1]
	if last["action"] != "update" || last["userId"] != f.ids[domain.RoleTownAdmin] || last["requestId"] != "req-audit-1" || last["townId"] != f.townA {
		t.Errorf("audit entry %v", last)
	}
	// Paging the whole trail returns every entry once.
	seen := map[string]bool{}
	cursor := ""
	for range 100 {
		p := "/api/v1/audit?limit=3"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		pg := e.do(t, req{method: "GET", path: p, token: f.tokens[domain.RoleAuditAdmin]})
		for _, it := range pg.items() {
			if seen[it["id"].(string)] {
				t.Fatal("an entry came twice")
			}
			seen[it["id"].(string)] = true
		}
		if pg.json["nextCursor"] == nil {
			break
		}
		cursor = pg.str("nextCursor")
	}
	all := e.do(t, req{method: "GET", path: "/api/v1/audit?limit=500", token: f.tokens[domain.RoleAuditAdmin]})
	if len(seen) != len(all.items()) || len(seen) < 10 {
		t.Errorf("paged %d entries, listed %d", len(seen), len(all.items()))
	}
}
