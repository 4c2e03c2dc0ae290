package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gopkg.in/yaml.v3"

	"zhucun"
)

// spec is openapi.yaml, read as plain maps: the tests check the routes,
// their roles and every response they see against it.
type spec struct {
	doc    map[string]any
	paths  map[string]map[string]any // template → method → operation
	router routers.Router            // kin-openapi's, for checkResponse
}

// parsedSpec is openapi.yaml loaded and validated by kin-openapi, once per test binary.
var parsedSpec = sync.OnceValues(func() (routers.Router, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(zhucun.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(l.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return gorillamux.NewRouter(doc)
})

func loadSpec(t testing.TB) *spec {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(zhucun.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := parsedSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	s := &spec{doc: doc, paths: map[string]map[string]any{}, router: router}
	for p, item := range doc["paths"].(map[string]any) {
		ops := map[string]any{}
		for m, op := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			ops[strings.ToUpper(m)] = op
		}
		s.paths[p] = ops
	}
	return s
}

var paramRE = regexp.MustCompile(`:([A-Za-z]+)`)

// specPath turns a Fiber path (/towns/:id) into an OpenAPI template (/towns/{id}).
func specPath(fiberPath string) string { return paramRE.ReplaceAllString(fiberPath, "{$1}") }

// TestSpecMatchesRoutes fails when a route is missing from openapi.yaml, the
// spec has a route the server lacks, or the spec's x-roles differ from the
// roles the route allows.
func TestSpecMatchesRoutes(t *testing.T) {
	s := loadSpec(t)
	env := newEnv(t)
	inCode := map[string]bool{}
	for _, r := range env.api.Routes() {
		key := r.Method + " " + specPath(r.Path)
		inCode[key] = true
		op, ok := s.paths[specPath(r.Path)][r.Method].(map[string]any)
		if !ok {
			t.Errorf("route %s is not in openapi.yaml", key)
			continue
		}
		var want []string
		for _, role := range r.Roles {
			want = append(want, string(role))
		}
		switch got := op["x-roles"].(type) {
		case string:
			if got != "public" || r.Roles != nil {
				t.Errorf("%s: spec x-roles %q, code allows %v", key, got, want)
			}
		case []any:
			var gs []string
			for _, g := range got {
				gs = append(gs, g.(string))
			}
			sort.Strings(gs)
			sort.Strings(want)
			if !slices.Equal(gs, want) {
				t.Errorf("%s: spec x-roles %v, code allows %v", key, gs, want)
			}
		default:
			t.Errorf("%s: spec has no x-roles", key)
		}
		if _, ok := op["responses"].(map[string]any); !ok {
			t.Errorf("%s: spec has no responses", key)
		}
	}
	for p, ops := range s.paths {
		for m := range ops {
			if !inCode[m+" "+p] {
				t.Errorf("openapi.yaml has %s %s, which the server does not route", m, p)
			}
		}
	}
}

// matchTemplate finds the spec template a concrete path belongs to.
func (s *spec) matchTemplate(path string) string {
	if _, ok := s.paths[path]; ok {
		return path // a literal path wins over a template that also matches
	}
	segs := strings.Split(path, "/")
	for tmpl := range s.paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		ok := true
		for i := range ts {
			// A template segment is {name} and may be followed by a literal suffix ({sheet}.csv).
			_, suffix, isParam := strings.Cut(ts[i], "}")
			if !(strings.HasPrefix(ts[i], "{") && isParam && strings.HasSuffix(segs[i], suffix) || ts[i] == segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return tmpl
		}
	}
	return ""
}

// checkResponse fails the test when a response does not match
// openapi.yaml: its status is not declared for the operation, a declared
// header is missing or malformed, its content type is not declared, or its
// body does not match the schema. kin-openapi's openapi3filter validates
// (JSON Schema 2020-12, as OpenAPI 3.1 asks).
func (s *spec) checkResponse(t testing.TB, r *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := s.responseError(r, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which does not match openapi.yaml: %v\nbody: %s", r.Method, r.URL.Path, status, err, trim(body))
	}
}

// responseError is what checkResponse finds wrong with a response, or nil.
func (s *spec) responseError(r *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return nil // an unknown route or method: its 404 or 405 is checked by the tests that send it
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestSpecCheckCatchesDrift: the response check fails a status, a body
// and a content type the spec does not declare, and passes a right one.
func TestSpecCheckCatchesDrift(t *testing.T) {
	s := loadSpec(t)
	r := httptest.NewRequest("GET", "/api/v1/towns/t1", nil)
	js := http.Header{"Content-Type": {"application/json"}}
	ok := `{"id":"t1","name":"市东街道","code":"","createdAt":"2026-03-01T00:00:00Z","updatedAt":"2026-03-01T00:00:00Z"}`
	if err := s.responseError(r, 200, js, []byte(ok)); err != nil {
		t.Fatalf("a right answer: %v", err)
	}
	for name, c := range map[string]struct {
		status int
		header http.Header
		body   string
	}{
		"a missing field":      {200, js, `{"id":"t1","name":"市东街道","code":""}`},
		"a wrong type":         {200, js, `{"id":1,"name":"市东街道","code":"","createdAt":"2026-03-01T00:00:00Z","updatedAt":"2026-03-01T00:00:00Z"}`},
		"a bad date-time":      {200, js, `{"id":"t1","name":"市东街道","code":"","createdAt":"yesterday","updatedAt":"2026-03-01T00:00:00Z"}`},
		"an undeclared status": {418, js, ok},
		"an undeclared type":   {200, http.Header{"Content-Type": {"text/plain"}}, "hello"},
		"a problem without a code": {404, http.Header{"Content-Type": {"application/problem+json"}},
			`{"type":"x","title":"Not Found","status":404,"detail":"x","requestId":"r"}`},
	} {
		if err := s.responseError(r, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s passed the check", name)
		}
	}
}

func trim(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// asStrings reads a JSON array as strings.
func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
