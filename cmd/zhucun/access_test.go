package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"zhucun/domain"
)

// acCase says how to call one route as a role: on an object in the
// caller's scope, and (for scoped roles) on one outside it.
type acCase struct {
	// in is the request on an in-scope object; its answer must be 2xx for
	// an allowed role (or one of okIn).
	in func(f *fixture, role domain.Role) req
	// out is the request on an out-of-scope object, or nil when the route
	// has none; its answer must be one of outStatus (404 by default) and
	// must not show the object.
	out       func(f *fixture, role domain.Role) req
	outStatus []int
	okIn      []int
	// listCheck, for list routes, fails when an item is out of scope.
	listCheck func(t *testing.T, f *fixture, role domain.Role, r *resp)
}

func get(path string) func(*fixture, domain.Role) req {
	return func(*fixture, domain.Role) req { return req{method: "GET", path: path} }
}

// accessTable has one entry per route. TestAccessControl fails on a route
// that is missing here, so no route can skip the check.
func accessTable() map[string]acCase {
	phoneFor := map[domain.Role]string{domain.RoleAdmin: "13700000001", domain.RoleTownAdmin: "13700000002"}
	return map[string]acCase{
		"GET /healthz":      {in: get("/healthz")},
		"GET /readyz":       {in: get("/readyz")},
		"GET /metrics":      {in: get("/metrics")},
		"GET /openapi.yaml": {in: get("/openapi.yaml")},
		"GET /docs":         {in: get("/docs")},
		"GET /docs/:file":   {in: get("/docs/swagger-ui.css")},
		"POST /api/v1/auth/login": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"phone": f.adminPhone, "password": f.adminPass}}
		}},
		"POST /api/v1/auth/refresh": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": "nope"}}
		}, okIn: []int{401}},
		"POST /api/v1/auth/logout": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": "nope"}}
		}},
		"POST /api/v1/auth/wechat": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/wechat", body: map[string]any{"code": "good-x"}}
		}, okIn: []int{401}},
		"POST /api/v1/auth/wechat/bind": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/wechat/bind", body: map[string]any{"ticket": "x", "phone": "13900000000", "password": "x"}}
		}, okIn: []int{401}},
		"GET /api/v1/me": {in: get("/api/v1/me")},

		"POST /api/v1/towns": {in: func(_ *fixture, r domain.Role) req {
			return req{method: "POST", path: "/api/v1/towns", body: map[string]any{"name": "新镇" + string(r)}}
		}},
		"GET /api/v1/towns": {in: get("/api/v1/towns"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role != domain.RoleAdmin && role != domain.RoleLeader && it["id"] != f.townA {
					t.Errorf("%s sees town %v outside its scope", role, it["name"])
				}
			}
		}},
		"GET /api/v1/towns/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/towns/" + f.townA} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/towns/" + f.townB} },
		},
		"PATCH /api/v1/towns/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/towns/" + f.townA, body: map[string]any{"code": "SD"}}
			},
		},
		"POST /api/v1/villages": {
			in: func(f *fixture, r domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages", body: map[string]any{"name": "新村" + string(r), "townId": f.townA, "kind": "village"}}
			},
			out: func(f *fixture, r domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages", body: map[string]any{"name": "越界村" + string(r), "townId": f.townB, "kind": "village"}}
			},
			outStatus: []int{422},
		},
		"GET /api/v1/villages": {in: get("/api/v1/villages?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			ids := []string{}
			for _, it := range r.items() {
				ids = append(ids, it["id"].(string))
			}
			switch role {
			case domain.RoleTownAdmin:
				if slices.Contains(ids, f.villB1) || !slices.Contains(ids, f.villA2) {
					t.Errorf("town admin of A lists %v", ids)
				}
			case domain.RoleTeamLeader, domain.RoleCadre:
				if !slices.Equal(ids, []string{f.villA1}) {
					t.Errorf("%s of A1 lists %v", role, ids)
				}
			default:
				if !slices.Contains(ids, f.villB1) {
					t.Errorf("%s does not list every village: %v", role, ids)
				}
			}
		}},
		"GET /api/v1/villages/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/villages/" + f.villA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/villages/" + f.villB1} },
		},
		"PATCH /api/v1/villages/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/villages/" + f.villA1, body: map[string]any{"code": "A1"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/villages/" + f.villB1, body: map[string]any{"code": "B1"}}
			},
		},
		"POST /api/v1/imports/villages": {
			in: func(*fixture, domain.Role) req {
				return req{method: "POST", path: "/api/v1/imports/villages", contentType: "text/csv", body: "市东街道,导入村,村,\n"}
			},
			out: func(*fixture, domain.Role) req {
				return req{method: "POST", path: "/api/v1/imports/villages", contentType: "text/csv", body: "三河湖镇,越界导入村,村,\n"}
			},
			outStatus: []int{422},
		},
		"POST /api/v1/users": {
			in: func(f *fixture, r domain.Role) req {
				return req{method: "POST", path: "/api/v1/users", body: map[string]any{"name": "新干部", "phone": phoneFor[r],
					"password": testPassword, "role": "cadre", "villageIds": []string{f.villA2}}}
			},
			out: func(f *fixture, r domain.Role) req {
				return req{method: "POST", path: "/api/v1/users", body: map[string]any{"name": "越界干部", "phone": "13700000099",
					"password": testPassword, "role": "cadre", "villageIds": []string{f.villB1}}}
			},
			outStatus: []int{422},
		},
		"GET /api/v1/users": {in: get("/api/v1/users?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role == domain.RoleTownAdmin && it["id"] == f.cadreBID {
					t.Errorf("town admin of A lists the cadre of B1")
				}
			}
		}},
		"GET /api/v1/users/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/users/" + f.ids[domain.RoleCadre]}
			},
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/users/" + f.cadreBID} },
		},
		"PATCH /api/v1/users/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], body: map[string]any{"name": "测试cadre"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/users/" + f.cadreBID, body: map[string]any{"name": "改名"}}
			},
		},
		"GET /api/v1/audit": {in: get("/api/v1/audit")},
	}
}

// TestAccessControl walks every route the app serves × every role (and no
// token): a role the route does not allow gets 403, no token gets 401, an
// allowed role succeeds in scope and gets 404 (or a 422 naming the
// reference) out of scope, and lists hold only what the role may see.
func TestAccessControl(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	table := accessTable()
	routes := e.api.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		c, ok := table[key]
		if !ok {
			t.Errorf("route %s has no access-control case: add one to accessTable", key)
			continue
		}
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			if rt.Roles == nil {
				r := e.do(t, c.in(f, ""))
				if r.status == 401 && r.str("code") == "unauthenticated" || r.status == 403 || r.status >= 500 {
					t.Fatalf("public route answered %d: %s", r.status, trim(r.body))
				}
				if r.status >= 300 && !slices.Contains(c.okIn, r.status) {
					t.Fatalf("public route answered %d: %s", r.status, trim(r.body))
				}
				return
			}
			// No token, and a forged one.
			rq := c.in(f, domain.RoleAdmin)
			want(t, e.do(t, rq), 401, "unauthenticated")
			rq.token = f.tokens[domain.RoleAdmin][:len(f.tokens[domain.RoleAdmin])-2] + "xx"
			want(t, e.do(t, rq), 401, "invalid_token")
			for _, role := range domain.Roles {
				rq := c.in(f, role)
				rq.token = f.tokens[role]
				r := e.do(t, rq)
				if !slices.Contains(rt.Roles, role) {
					if r.status != 403 || r.str("code") != "forbidden" {
						t.Errorf("%s as %s: %d, want 403 forbidden", key, role, r.status)
					}
					continue
				}
				if (r.status < 200 || r.status > 299) && !slices.Contains(c.okIn, r.status) {
					t.Errorf("%s as %s in scope: %d %s", key, role, r.status, trim(r.body))
					continue
				}
				if c.listCheck != nil {
					c.listCheck(t, f, role, r)
				}
				if c.out == nil || role == domain.RoleAdmin || role == domain.RoleLeader {
					continue
				}
				oq := c.out(f, role)
				oq.token = f.tokens[role]
				o := e.do(t, oq)
				statuses := c.outStatus
				if statuses == nil {
					statuses = []int{404}
				}
				if !slices.Contains(statuses, o.status) {
					t.Errorf("%s as %s out of scope: %d, want one of %v: %s", key, role, o.status, statuses, trim(o.body))
				}
				if strings.Contains(string(o.body), "肖家村") || strings.Contains(string(o.body), "三河湖镇\"") || strings.Contains(string(o.body), "乙村干部") {
					t.Errorf("%s as %s out of scope shows the object: %s", key, role, trim(o.body))
				}
			}
		})
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("accessTable has %s, which the app does not route", key)
		}
	}
	// Out-of-scope writes changed nothing.
	b := e.do(t, req{method: "GET", path: "/api/v1/villages/" + f.villB1, token: f.tokens[domain.RoleAdmin]})
	if b.str("code") != "" {
		t.Errorf("village B1 code changed by an out-of-scope PATCH: %q", b.str("code"))
	}
	u := e.do(t, req{method: "GET", path: "/api/v1/users/" + f.cadreBID, token: f.tokens[domain.RoleAdmin]})
	if u.str("name") != "乙村干部" {
		t.Errorf("cadre of B1 renamed by an out-of-scope PATCH: %q", u.str("name"))
	}
	l := e.do(t, req{method: "GET", path: "/api/v1/villages?q=" + urlq("越界"), token: f.tokens[domain.RoleAdmin]})
	if n := len(l.items()); n != 0 {
		t.Errorf("out-of-scope creates made %d villages", n)
	}
	_ = fmt.Sprint()
}
