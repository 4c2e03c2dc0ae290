package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

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
	phoneFor := map[domain.Role]string{domain.RoleSysAdmin: "13700000001", domain.RoleTownAdmin: "13700000002"}
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
		// Each role changes its own password (and changes it back: the
		// fixture's tokens and passwords stay as they were).
		"POST /api/v1/me/password": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/me/password", body: map[string]any{"currentPassword": "wrong-Pass-1", "newPassword": "Another-pass-9"}}
		}, okIn: []int{422}},
		"POST /api/v1/me/second-factor": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/me/second-factor", body: map[string]any{"password": testPassword}}
		}},
		"POST /api/v1/me/second-factor/confirm": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/me/second-factor/confirm", body: map[string]any{"code": "000000"}}
		}, okIn: []int{401}},
		"POST /api/v1/auth/second-factor": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/auth/second-factor", body: map[string]any{"ticket": "x", "code": "123456"}}
		}, okIn: []int{401}},
		// Every role sends its own; only the department answers.
		"POST /api/v1/feedback": {in: func(f *fixture, r domain.Role) req {
			return req{method: "POST", path: "/api/v1/feedback", body: map[string]any{"id": domain.NewID(time.Now()), "kind": "suggestion", "text": "建议" + string(r)}}
		}},
		"GET /api/v1/feedback": {in: get("/api/v1/feedback"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role != domain.RoleAdmin && it["userId"] != f.ids[role] {
					t.Errorf("%s lists the feedback of %v", role, it["userId"])
				}
			}
		}},
		"GET /api/v1/feedback/:id": {
			in: func(f *fixture, r domain.Role) req {
				return req{method: "GET", path: "/api/v1/feedback/" + f.feedback[r]}
			},
			out: func(f *fixture, r domain.Role) req {
				return req{method: "GET", path: "/api/v1/feedback/" + f.feedback[domain.RoleAdmin]}
			},
		},
		"POST /api/v1/feedback/:id/answer": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "POST", path: "/api/v1/feedback/" + f.feedback[domain.RoleCadre] + "/answer", body: map[string]any{"answer": "已收到"}}
		}},
		"GET /api/v1/me/notifications":              {in: get("/api/v1/me/notifications")},
		"GET /api/v1/me/notifications/unread-count": {in: get("/api/v1/me/notifications/unread-count")},
		"POST /api/v1/me/notifications/read": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/me/notifications/read", body: map[string]any{"all": true}}
		}},
		"GET /api/v1/me/wechat/subscriptions": {in: get("/api/v1/me/wechat/subscriptions")},
		"POST /api/v1/me/wechat/subscriptions": {in: func(*fixture, domain.Role) req {
			return req{method: "POST", path: "/api/v1/me/wechat/subscriptions", body: map[string]any{"accepted": []string{"tmpl-returned"}}}
		}},

		"POST /api/v1/towns": {in: func(_ *fixture, r domain.Role) req {
			return req{method: "POST", path: "/api/v1/towns", body: map[string]any{"name": "新镇" + string(r)}}
		}},
		"GET /api/v1/towns": {in: get("/api/v1/towns"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if !districtWide(role) && it["id"] != f.townA {
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
			in: func(f *fixture, r domain.Role) req {
				if r == domain.RoleSecAdmin { // locks, not profiles
					return req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], body: map[string]any{"disabled": false}}
				}
				return req{method: "PATCH", path: "/api/v1/users/" + f.ids[domain.RoleCadre], body: map[string]any{"name": "测试cadre"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/users/" + f.cadreBID, body: map[string]any{"name": "改名"}}
			},
		},
		"POST /api/v1/users/:id/second-factor/reset": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "POST", path: "/api/v1/users/" + f.ids[domain.RoleCadre] + "/second-factor/reset"}
		}},
		"GET /api/v1/audit":     {in: get("/api/v1/audit")},
		"GET /api/v1/audit.csv": {in: get("/api/v1/audit.csv?outcome=denied")},

		"GET /api/v1/catalogues/:kind": {in: get("/api/v1/catalogues/manifestations")},
		"PUT /api/v1/catalogues/:kind/:code": {in: func(*fixture, domain.Role) req {
			return req{method: "PUT", path: "/api/v1/catalogues/tasks/resolve_disputes", body: map[string]any{"name": "排查化解矛盾纠纷"}}
		}},
		"POST /api/v1/campaigns": {in: func(_ *fixture, r domain.Role) req {
			return req{method: "POST", path: "/api/v1/campaigns", body: map[string]any{"name": "轮次" + string(r), "startDate": "2026-01-01", "endDate": "2026-12-31"}}
		}},
		"GET /api/v1/campaigns": {in: get("/api/v1/campaigns")},
		"GET /api/v1/campaigns/:id": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign}
		}},
		"PATCH /api/v1/campaigns/:id": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "PATCH", path: "/api/v1/campaigns/" + f.c.campaign, body: map[string]any{"name": "第三轮"}}
		}},
		"PUT /api/v1/campaigns/:id/evaluations/:villageId": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PUT", path: "/api/v1/campaigns/" + f.c.campaign + "/evaluations/" + f.villA1, body: map[string]any{"score": 50, "manifestations": []string{"weak_service"}}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PUT", path: "/api/v1/campaigns/" + f.c.campaign + "/evaluations/" + f.villB1, body: map[string]any{"score": 99}}
			},
		},
		"GET /api/v1/campaigns/:id/evaluations": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/evaluations"}
			},
			listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
				for _, it := range r.items() {
					if role == domain.RoleTownAdmin && it["townId"] != f.townA {
						t.Errorf("town admin of A sees an evaluation of %v", it["villageId"])
					}
				}
			},
		},
		"GET /api/v1/campaigns/:id/ranking": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/ranking"}
			},
			listCheck: townRowsOnly,
		},
		"GET /api/v1/campaigns/:id/candidates": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/candidates"}
			},
			listCheck: townRowsOnly,
		},
		"GET /api/v1/campaigns/:id/candidates.xlsx": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/candidates.xlsx"}
			},
		},
		"POST /api/v1/campaigns/:id/selections": {
			in: func(f *fixture, r domain.Role) req {
				v, level := f.c.villB3, "district"
				if r == domain.RoleTownAdmin {
					v, level = f.c.villA4, "town"
				}
				return req{method: "POST", path: "/api/v1/campaigns/" + f.c.campaign + "/selections", body: map[string]any{"villageId": v, "level": level, "reason": "排名靠后"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/campaigns/" + f.c.campaign + "/selections", body: map[string]any{"villageId": f.c.villB3, "level": "town", "reason": "越界"}}
			},
			outStatus: []int{422},
		},
		"GET /api/v1/campaigns/:id/selections": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/selections"}
			},
			listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
				for _, it := range r.items() {
					if role.VillageLevel() && it["villageId"] != f.villA1 || role == domain.RoleTownAdmin && it["townId"] != f.townA {
						t.Errorf("%s sees the selection of %v", role, it["villageId"])
					}
				}
			},
		},
		"GET /api/v1/campaigns/:id/selections/:villageId": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/selections/" + f.villA1}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/campaigns/" + f.c.campaign + "/selections/" + f.villB1}
			},
		},
		"POST /api/v1/campaigns/:id/selections/:villageId/notes": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/campaigns/" + f.c.campaign + "/selections/" + f.villA1 + "/notes", body: map[string]any{"source": "petition", "text": "信访件多"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/campaigns/" + f.c.campaign + "/selections/" + f.villB1 + "/notes", body: map[string]any{"source": "petition", "text": "越界"}}
			},
		},
		"POST /api/v1/villages/:id/problems": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", body: map[string]any{"aspect": "petitions", "description": "信访突出", "source": "petition"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages/" + f.villB1 + "/problems", body: map[string]any{"aspect": "petitions", "description": "越界", "source": "petition"}}
			},
		},
		"GET /api/v1/villages/:id/problems": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/problems"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villB1 + "/problems"}
			},
		},
		"GET /api/v1/problems/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/problems/" + f.c.probA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/problems/" + f.c.probB1} },
		},
		"PATCH /api/v1/problems/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/problems/" + f.c.probA1, body: map[string]any{"status": "in_progress"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/problems/" + f.c.probB1, body: map[string]any{"status": "in_progress"}}
			},
		},
		"POST /api/v1/villages/:id/targets": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/targets", body: map[string]any{"domain": "development", "task": "collective_economy", "kind": "differentiated", "title": "集体增收", "year": 2026}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/villages/" + f.villB1 + "/targets", body: map[string]any{"domain": "development", "task": "collective_economy", "kind": "common", "title": "越界", "year": 2026}}
			},
		},
		"GET /api/v1/villages/:id/targets": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/targets"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villB1 + "/targets"}
			},
		},
		"GET /api/v1/targets/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/targets/" + f.c.targA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/targets/" + f.c.targB1} },
		},
		"PATCH /api/v1/targets/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/targets/" + f.c.targA1, body: map[string]any{"title": "配强班子"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/targets/" + f.c.targB1, body: map[string]any{"title": "越界"}}
			},
		},
		"POST /api/v1/targets/:id/progress": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/targets/" + f.c.targA1 + "/progress", body: map[string]any{"date": f.c.today, "percent": 10}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/targets/" + f.c.targB1 + "/progress", body: map[string]any{"date": f.c.today, "percent": 90}}
			},
		},
		"GET /api/v1/targets/:id/progress": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/targets/" + f.c.targA1 + "/progress"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/targets/" + f.c.targB1 + "/progress"}
			},
		},
		"GET /api/v1/villages/:id/ledger": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/ledger"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villB1 + "/ledger"}
			},
		},
		"GET /api/v1/villages/:id/unit-suggestions": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villA1 + "/unit-suggestions"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/villages/" + f.villB1 + "/unit-suggestions"}
			},
		},
		"POST /api/v1/units": {in: func(_ *fixture, r domain.Role) req {
			return req{method: "POST", path: "/api/v1/units", body: map[string]any{"name": "单位" + string(r), "type": "economic"}}
		}},
		"GET /api/v1/units":     {in: get("/api/v1/units")},
		"GET /api/v1/units/:id": {in: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/units/" + f.c.unit} }},
		"PATCH /api/v1/units/:id": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "PATCH", path: "/api/v1/units/" + f.c.unit, body: map[string]any{"code": "ZZB"}}
		}},
		"POST /api/v1/teams": {
			in: func(f *fixture, r domain.Role) req {
				v := f.c.villB2
				if r == domain.RoleTownAdmin {
					v = f.c.villA3
				}
				return req{method: "POST", path: "/api/v1/teams", body: map[string]any{"campaignId": f.c.campaign, "villageId": v, "leaderId": f.ids[domain.RoleLeader]}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/teams", body: map[string]any{"campaignId": f.c.campaign, "villageId": f.c.villB2, "leaderId": f.ids[domain.RoleLeader]}}
			},
			outStatus: []int{409, 422},
		},
		"GET /api/v1/teams": {in: get("/api/v1/teams"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role == domain.RoleCadre && it["villageId"] != f.villA1 || role == domain.RoleTownAdmin && it["townId"] != f.townA {
					t.Errorf("%s sees the team of %v", role, it["villageId"])
				}
			}
		}},
		"GET /api/v1/teams/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/teams/" + f.c.teamA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/teams/" + f.c.teamB1} },
		},
		"PATCH /api/v1/teams/:id": {
			in: func(f *fixture, r domain.Role) req {
				if r == domain.RoleTownAdmin {
					return req{method: "PATCH", path: "/api/v1/teams/" + f.c.teamA2, body: map[string]any{"memberIds": []string{}}}
				}
				return req{method: "PATCH", path: "/api/v1/teams/" + f.c.teamA1, body: map[string]any{"memberIds": []string{f.ids[domain.RoleTeamLeader]}}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/teams/" + f.c.teamB1, body: map[string]any{"memberIds": []string{}}}
			},
		},
		"POST /api/v1/trainings": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "POST", path: "/api/v1/trainings", body: map[string]any{"course": "岗前专题培训", "kind": "pre_posting",
				"startDate": "2026-03-01", "endDate": "2026-03-03", "participantIds": []string{f.ids[domain.RoleCadre]}}}
		}},
		"GET /api/v1/trainings": {in: get("/api/v1/trainings")},

		"POST /api/v1/reports": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/reports", body: map[string]any{"id": domain.NewID(time.Now()), "kind": "work_log",
					"villageId": f.villA1, "occurredAt": time.Now().Add(-time.Minute), "text": "民情日记"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/reports", body: map[string]any{"id": domain.NewID(time.Now()), "kind": "work_log",
					"villageId": f.villB1, "occurredAt": time.Now().Add(-time.Minute), "text": "越界"}}
			},
		},
		"GET /api/v1/reports": {in: get("/api/v1/reports?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role.VillageLevel() && it["villageId"] != f.villA1 || role == domain.RoleTownAdmin && it["townId"] != f.townA {
					t.Errorf("%s lists a report of %v", role, it["villageId"])
				}
			}
		}},
		"GET /api/v1/reports/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/reports/" + f.c.repA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/reports/" + f.c.repB1} },
		},
		"PATCH /api/v1/reports/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/reports/" + f.c.repA1, body: map[string]any{"notes": "补充情况"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/reports/" + f.c.repB1, body: map[string]any{"notes": "越界"}}
			},
		},
		"POST /api/v1/sync": {
			in: func(f *fixture, r domain.Role) req {
				note := "越界"
				if r == domain.RoleAdmin {
					note = "管理员修改" // in the admin's scope
				}
				return req{method: "POST", path: "/api/v1/sync", body: map[string]any{"items": []map[string]any{
					{"type": "report", "op": "update", "data": map[string]any{"id": f.c.repA1, "notes": "补充情况"}},
					{"type": "report", "op": "update", "data": map[string]any{"id": f.c.repB1, "notes": note}},
				}}}
			},
			listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
				res := r.json["results"].([]any)
				if len(res) != 2 || res[0].(map[string]any)["status"] == "not_found" {
					t.Errorf("%s: in-scope sync item: %v", role, res)
				}
				if got := res[1].(map[string]any)["status"]; role != domain.RoleAdmin && got != "not_found" {
					t.Errorf("%s: out-of-scope sync item answered %v", role, got)
				}
			},
		},
		"POST /api/v1/photos/uploads": withOK(scoped(villages, func(v string) req { // 409 direct_upload_unavailable on the local store, 201 on S3
			return req{method: "POST", path: "/api/v1/photos/uploads", body: map[string]any{"villageId": v, "contentType": "image/jpeg", "size": 1000}}
		}), 409),
		"POST /api/v1/photos": scoped(villages, func(v string) req {
			body, ct := multipartPhoto(nil, v, "", testPhoto(nil, 16, 16, nil))
			return req{method: "POST", path: "/api/v1/photos", body: body, contentType: ct}
		}),
		"GET /api/v1/photos":               {in: get("/api/v1/photos?limit=500"), listCheck: villageItemsOnly},
		"GET /api/v1/photos/:id":           photoCase("GET", ""),
		"POST /api/v1/photos/:id/complete": photoCase("POST", "/complete"),
		"GET /api/v1/photos/:id/content":   withOK(photoCase("GET", "/content"), 307),
		"GET /api/v1/photos/:id/thumbnail": withOK(photoCase("GET", "/thumbnail"), 307),
		"GET /api/v1/blobs/:key": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "GET", path: f.blobURL(f.c.photoA1Key)}
		}},
		"GET /api/v1/stats/summary": scoped(villages, func(v string) req {
			return req{method: "GET", path: "/api/v1/stats/summary?scope=village&period=2026&id=" + v}
		}),
		"GET /api/v1/stats/series": scoped(villages, func(v string) req {
			return req{method: "GET", path: "/api/v1/stats/series?metric=meetings&interval=month&from=2026-01-01&to=2026-03-31&scope=village&id=" + v}
		}),
		"GET /api/v1/stats/villages": withList(scoped(towns, func(t string) req {
			return req{method: "GET", path: "/api/v1/stats/villages?period=2026Q1&townId=" + t}
		}), villageItemsOnly),
		"PUT /api/v1/assessments/:villageId/:period": scoped(villages, func(v string) req {
			return req{method: "PUT", path: "/api/v1/assessments/" + v + "/2026S1", body: assessmentBody(90)}
		}),
		"GET /api/v1/assessments/:villageId/:period": scoped(villages, func(v string) req {
			return req{method: "GET", path: "/api/v1/assessments/" + v + "/2026S1"}
		}),
		// 409 half_year_not_approved: the town's half-year is not approved in the fixture.
		"POST /api/v1/assessments/:villageId/:period/finalize": withOK(scoped(villages, func(v string) req {
			return req{method: "POST", path: "/api/v1/assessments/" + v + "/2026S1/finalize"}
		}), 409),
		"POST /api/v1/reviews": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/reviews", body: map[string]any{"items": []map[string]any{
					{"id": f.c.revA1, "decision": "approve"}, {"id": f.c.repB1, "decision": "approve"}}}}
			},
			listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
				res := r.json["results"].([]any)
				if st := res[0].(map[string]any)["status"]; st != "reviewed" && st != "unchanged" {
					t.Errorf("%s: in-scope review answered %v", role, res[0])
				}
				want := "not_found"
				if role == domain.RoleAdmin {
					want = "forbidden" // the admin filed it: nobody reviews their own record
				}
				if st := res[1].(map[string]any)["status"]; st != want {
					t.Errorf("%s: review of B1's record answered %v, want %s", role, st, want)
				}
			},
		},
		"GET /api/v1/approvals": {in: get("/api/v1/approvals?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if !role.VillageLevel() && role != domain.RoleTownAdmin {
					continue
				}
				if it["townId"] != f.townA || role.VillageLevel() && it["level"] == "village" && it["scopeId"] != f.villA1 {
					t.Errorf("%s lists the approval %v", role, it)
				}
			}
		}},
		"GET /api/v1/approvals/:level/:scopeId/:period": scoped(villages, func(v string) req {
			return req{method: "GET", path: "/api/v1/approvals/village/" + v + "/202601"}
		}),
		"POST /api/v1/approvals/:level/:scopeId/:period/:action": scoped(villages, func(v string) req {
			return req{method: "POST", path: "/api/v1/approvals/village/" + v + "/202601/submit"}
		}),
		"POST /api/v1/leaves": {in: func(f *fixture, _ domain.Role) req {
			return req{method: "POST", path: "/api/v1/leaves", body: map[string]any{"id": domain.NewID(time.Now()), "kind": "outing",
				"from": f.c.today, "to": f.c.today, "reason": "到镇里开会"}}
		}},
		"GET /api/v1/leaves": {in: get("/api/v1/leaves?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if it["id"] == f.c.leaveB1 && role != domain.RoleAdmin && role != domain.RoleLeader {
					t.Errorf("%s lists the leave of B1's cadre", role)
				}
				if role == domain.RoleCadre && it["cadreId"] != f.ids[domain.RoleCadre] {
					t.Errorf("a cadre lists the leave of %v", it["cadreName"])
				}
			}
		}},
		"GET /api/v1/leaves/:id": scoped(leaves, func(id string) req { return req{method: "GET", path: "/api/v1/leaves/" + id} }),
		"POST /api/v1/leaves/:id/decision": scoped(leaves, func(id string) req {
			return req{method: "POST", path: "/api/v1/leaves/" + id + "/decision", body: map[string]any{"decision": "approve"}}
		}),
		"POST /api/v1/leaves/:id/cancel": {
			in: func(f *fixture, r domain.Role) req {
				id, ok := f.c.ownLeave[r]
				if !ok {
					id = f.c.leaveA1 // roles that may not call it
				}
				return req{method: "POST", path: "/api/v1/leaves/" + id + "/cancel"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/leaves/" + f.c.leaveB1 + "/cancel"}
			},
		},
		"POST /api/v1/field-checks": scoped(villages, func(v string) req {
			return req{method: "POST", path: "/api/v1/field-checks", body: fieldCheckBody(v)}
		}),
		"GET /api/v1/field-checks": {in: get("/api/v1/field-checks?limit=500"), listCheck: villageItemsOnly},
		"GET /api/v1/villages/:id/monthly": scoped(villages, func(v string) req {
			return req{method: "GET", path: "/api/v1/villages/" + v + "/monthly?month=202603"}
		}),
		"GET /api/v1/exports/ledger.xlsx": scoped(towns, func(t string) req {
			return req{method: "GET", path: "/api/v1/exports/ledger.xlsx?period=2026&townId=" + t}
		}),
		"GET /api/v1/exports/:sheet.csv": scoped(towns, func(t string) req {
			return req{method: "GET", path: "/api/v1/exports/villages.csv?period=2026&townId=" + t}
		}),
		"GET /api/v1/sync/changes": {in: get("/api/v1/sync/changes?limit=500"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				d, _ := it["data"].(map[string]any)
				if d == nil {
					continue
				}
				if role.VillageLevel() && d["villageId"] != f.villA1 || role == domain.RoleTownAdmin && d["townId"] != f.townA {
					t.Errorf("%s receives a change of %v", role, d["villageId"])
				}
			}
		}},
		"POST /api/v1/disputes": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
					"identifiedAt": time.Now().Add(-time.Hour), "category": "neighbour", "description": "邻里纠纷"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villB1,
					"identifiedAt": time.Now().Add(-time.Hour), "category": "neighbour", "description": "越界"}}
			},
		},
		"GET /api/v1/disputes": {in: get("/api/v1/disputes?limit=500"), listCheck: villageItemsOnly},
		"GET /api/v1/disputes/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/disputes/" + f.c.dispA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/disputes/" + f.c.dispB1} },
		},
		"PATCH /api/v1/disputes/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/disputes/" + f.c.dispA1, body: map[string]any{"source": "群众反映"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/disputes/" + f.c.dispB1, body: map[string]any{"source": "越界"}}
			},
		},
		"POST /api/v1/disputes/:id/resolve": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes/" + f.c.dispA1 + "/resolve", body: map[string]any{
					"resolvedAt": time.Now().Add(-time.Minute).Truncate(time.Second), "resolution": "调解成功", "lossesRecoveredFen": 120000}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes/" + f.c.dispB1 + "/resolve", body: map[string]any{
					"resolvedAt": time.Now().Add(-time.Minute), "resolution": "越界"}}
			},
		},
		"POST /api/v1/disputes/:id/escalate": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes/" + f.c.dispA1b + "/escalate", body: map[string]any{
					"escalatedTo": "区信访局", "escalatedAt": time.Now().Add(-time.Minute).Truncate(time.Second)}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/disputes/" + f.c.dispB1 + "/escalate", body: map[string]any{
					"escalatedTo": "越界", "escalatedAt": time.Now().Add(-time.Minute)}}
			},
		},
		"POST /api/v1/projects": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/projects", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
					"name": "葡萄种植", "projectType": "planting"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/projects", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villB1,
					"name": "越界", "projectType": "planting"}}
			},
		},
		"GET /api/v1/projects": {in: get("/api/v1/projects?limit=500"), listCheck: villageItemsOnly},
		"GET /api/v1/projects/:id": {
			in:  func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/projects/" + f.c.projA1} },
			out: func(f *fixture, _ domain.Role) req { return req{method: "GET", path: "/api/v1/projects/" + f.c.projB1} },
		},
		"PATCH /api/v1/projects/:id": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/projects/" + f.c.projA1, body: map[string]any{"description": "与中科院对接"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PATCH", path: "/api/v1/projects/" + f.c.projB1, body: map[string]any{"description": "越界"}}
			},
		},
		"POST /api/v1/projects/:id/updates": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/projects/" + f.c.projA1 + "/updates", body: map[string]any{"id": domain.NewID(time.Now()),
					"date": f.c.today, "note": "完成选址"}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/projects/" + f.c.projB1 + "/updates", body: map[string]any{"id": domain.NewID(time.Now()),
					"date": f.c.today, "note": "越界"}}
			},
		},
		"GET /api/v1/projects/:id/updates": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/projects/" + f.c.projA1 + "/updates"}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "GET", path: "/api/v1/projects/" + f.c.projB1 + "/updates"}
			},
		},
		"POST /api/v1/funds": {
			in: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/funds", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
					"amountFen": 100_000_00, "source": "区财政", "purpose": "修路", "receivedOn": f.c.today}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "POST", path: "/api/v1/funds", body: map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villB1,
					"amountFen": 1, "source": "越界", "purpose": "越界", "receivedOn": f.c.today}}
			},
		},
		"GET /api/v1/funds": {in: get("/api/v1/funds?limit=500"), listCheck: villageItemsOnly},
		"PUT /api/v1/onpost-plans/:cadreId/:week": {
			in: func(f *fixture, r domain.Role) req {
				who := f.ids[domain.RoleCadre]
				if r == domain.RoleTeamLeader {
					who = f.ids[domain.RoleTeamLeader] // its own plan
				}
				return req{method: "PUT", path: "/api/v1/onpost-plans/" + who + "/2026W05", body: map[string]any{"days": []string{"2026-01-26", "2026-01-27"}}}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "PUT", path: "/api/v1/onpost-plans/" + f.cadreBID + "/2026W05", body: map[string]any{"days": []string{"2026-01-26"}}}
			},
			outStatus: []int{403, 404},
		},
		"GET /api/v1/onpost": {in: get("/api/v1/onpost?week=2026W05"), listCheck: func(t *testing.T, f *fixture, role domain.Role, r *resp) {
			for _, it := range r.items() {
				if role.VillageLevel() && it["cadreId"] != f.ids[role] || role == domain.RoleTownAdmin && it["cadreId"] == f.cadreBID {
					t.Errorf("%s sees the on-post row of %v", role, it["name"])
				}
			}
		}},
		"DELETE /api/v1/reports/:id": {
			in: func(f *fixture, r domain.Role) req {
				return req{method: "DELETE", path: "/api/v1/reports/" + f.c.repDel[r]}
			},
			out: func(f *fixture, _ domain.Role) req {
				return req{method: "DELETE", path: "/api/v1/reports/" + f.c.repB1}
			},
		},
	}
}

// assessmentBody scores every common indicator so the total is about total.
func assessmentBody(total float64) map[string]any {
	common := []string{"team_building", "organisation_life", "member_management", "collective_economy",
		"dispute_resolution", "livelihood", "openness", "satisfaction"}
	var scores []map[string]any
	for _, code := range common {
		scores = append(scores, map[string]any{"indicator": code, "score": min(10, total/8)})
	}
	return map[string]any{"scores": scores, "assessors": []string{"区委组织部"}, "assessedOn": "2026-03-01"}
}

// fieldCheckBody is a field check of a village.
func fieldCheckBody(village string) map[string]any {
	return map[string]any{"id": domain.NewID(time.Now()), "villageId": village, "date": "2026-03-05",
		"checkers": []string{"区委组织部"}, "findings": "驻村干部在岗，台账齐全", "rating": "good"}
}

// scoped is a case whose in-scope and out-of-scope requests differ only in
// an id: pick gives A's (in the scoped roles' scope) and B's (outside it).
func scoped(pick func(f *fixture) (in, out string), mk func(id string) req) acCase {
	return acCase{
		in:  func(f *fixture, _ domain.Role) req { a, _ := pick(f); return mk(a) },
		out: func(f *fixture, _ domain.Role) req { _, b := pick(f); return mk(b) },
	}
}

func villages(f *fixture) (string, string) { return f.villA1, f.villB1 }
func towns(f *fixture) (string, string)    { return f.townA, f.townB }
func photos(f *fixture) (string, string)   { return f.c.photoA1, f.c.photoB1 }
func leaves(f *fixture) (string, string)   { return f.c.leaveA1, f.c.leaveB1 }

// withOK lets an in-scope call also answer these statuses.
func withOK(c acCase, statuses ...int) acCase {
	c.okIn = statuses
	return c
}

// withList adds a check of a list's items.
func withList(c acCase, check func(t *testing.T, f *fixture, role domain.Role, r *resp)) acCase {
	c.listCheck = check
	return c
}

// photoCase calls a route of one photo: A1's in scope, B1's outside.
func photoCase(method, suffix string) acCase {
	return scoped(photos, func(id string) req { return req{method: method, path: "/api/v1/photos/" + id + suffix} })
}

// villageItemsOnly fails when a list holds records outside the role's villages.
func villageItemsOnly(t *testing.T, f *fixture, role domain.Role, r *resp) {
	for _, it := range r.items() {
		if role.VillageLevel() && it["villageId"] != f.villA1 || role == domain.RoleTownAdmin && it["townId"] != f.townA {
			t.Errorf("%s lists a record of %v", role, it["villageId"])
		}
	}
}

// districtWide reports whether the role's scope is the whole district.
func districtWide(r domain.Role) bool {
	return r == domain.RoleAdmin || r == domain.RoleLeader || r == domain.RoleSysAdmin || r == domain.RoleSecAdmin || r == domain.RoleAuditAdmin
}

var instanceRE = regexp.MustCompile(`"instance":"[^"]*"`)

// townRowsOnly fails when a town admin of A sees ranking rows of another town.
func townRowsOnly(t *testing.T, f *fixture, role domain.Role, r *resp) {
	for _, it := range r.items() {
		if role == domain.RoleTownAdmin && it["townId"] != f.townA {
			t.Errorf("town admin of A sees the row of %v", it["villageName"])
		}
	}
}

// TestAccessControl walks every route the app serves × every role (and no
// token): a role the route does not allow gets 403, no token gets 401, an
// allowed role succeeds in scope and gets 404 (or a 422 naming the
// reference) out of scope, and lists hold only what the role may see.
func TestAccessControl(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	f.c = e.campaignFixture(t, f)
	f.feedback = map[domain.Role]string{}
	for _, r := range domain.Roles {
		id := domain.NewID(e.clock.Now())
		want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback", token: f.tokens[r], body: map[string]any{"id": id, "kind": "complaint", "text": "投诉" + string(r)}}), 201)
		f.feedback[r] = id
	}
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
				if c.out == nil || districtWide(role) {
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
				shown := instanceRE.ReplaceAllString(string(o.body), "") // the problem echoes the request path
				if strings.Contains(shown, "肖家村") || strings.Contains(shown, "三河湖镇\"") || strings.Contains(shown, "乙村干部") || strings.Contains(shown, f.c.probB1) || strings.Contains(shown, f.c.targB1) {
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
	if r := e.do(t, req{method: "GET", path: "/api/v1/reports/" + f.c.repB1, token: f.tokens[domain.RoleAdmin]}); r.status != 200 || r.str("notes") == "越界" {
		t.Errorf("report of B1 changed or deleted by out-of-scope calls: %d %s", r.status, r.body)
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
