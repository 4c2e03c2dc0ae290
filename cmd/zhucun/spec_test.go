package main

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"zhucun"
	"zhucun/domain"
)

// spec is openapi.yaml, read as plain maps: the tests check the routes,
// their roles and every response they see against it.
type spec struct {
	doc   map[string]any
	paths map[string]map[string]any // template → method → operation
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(zhucun.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	s := &spec{doc: doc, paths: map[string]map[string]any{}}
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

// checkResponse fails the test when a response's status is not declared
// for its operation, its content type is not the declared one, or a JSON
// body does not match the declared schema.
func (s *spec) checkResponse(t testing.TB, method, path string, status int, contentType string, body []byte) {
	t.Helper()
	tmpl := s.matchTemplate(path)
	if tmpl == "" {
		return // an unknown route: its 404 is checked by the tests that send it
	}
	op, ok := s.paths[tmpl][method].(map[string]any)
	if !ok {
		return // wrong method: 405
	}
	resps := op["responses"].(map[string]any)
	resp, ok := resps[fmt.Sprint(status)]
	if !ok {
		t.Errorf("%s %s answered %d, which openapi.yaml does not declare (body %s)", method, path, status, trim(body))
		return
	}
	r := s.resolve(resp.(map[string]any))
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			t.Errorf("%s %s %d: spec declares no body, got %s", method, path, status, trim(body))
		}
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("%s %s %d: content type %q is not declared", method, path, status, mt)
		return
	}
	if mt != "application/json" && mt != "application/problem+json" {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v", method, path, status, err)
		return
	}
	if err := s.validate(media["schema"], v, "$"); err != nil {
		t.Errorf("%s %s %d: body does not match the spec: %v\nbody: %s", method, path, status, err, trim(body))
	}
}

func trim(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

func (s *spec) resolve(m map[string]any) map[string]any {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = s.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		m = cur.(map[string]any)
	}
}

// validate checks v against the JSON Schema subset openapi.yaml uses:
// $ref, type (one or a list), required, properties, additionalProperties
// false, items, enum, const, pattern.
func (s *spec) validate(schema any, v any, at string) error {
	sm, ok := schema.(map[string]any)
	if !ok {
		return nil
	}
	sm = s.resolve(sm)
	if types := typesOf(sm["type"]); len(types) > 0 {
		if !slices.Contains(types, jsonTypeOf(v)) && !(jsonTypeOf(v) == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s, want %v", at, jsonTypeOf(v), types)
		}
	}
	if c, ok := sm["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		return fmt.Errorf("%s: %v, want %v", at, v, c)
	}
	if e, ok := sm["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if fmt.Sprint(x) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, e)
		}
	}
	if p, ok := sm["pattern"].(string); ok {
		if str, ok := v.(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", at, str, p)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range asStrings(sm["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: missing required %q", at, r)
			}
		}
		props, _ := sm["properties"].(map[string]any)
		for k, val := range x {
			ps, ok := props[k]
			if !ok {
				if props != nil {
					return fmt.Errorf("%s: property %q is not in the spec", at, k)
				}
				continue
			}
			if err := s.validate(ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, item := range x {
			if err := s.validate(sm["items"], item, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func typesOf(t any) []string {
	switch x := t.(type) {
	case string:
		return []string{x}
	case []any:
		return asStrings(x)
	}
	return nil
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

var _ = domain.Roles
