package main

import (
	"testing"
	"time"

	"zhucun/domain"
)

// campaignFixture is a round set up on top of the org fixture:
//
//	A1 district-level, team tA1 (the fixture cadre's village)
//	A2 town-level, team tA2
//	A3 town-level, no team yet       A4 candidate, not selected
//	B1 district-level, team tB1
//	B2 district-level, no team yet   B3 candidate, not selected
//
// with a problem and a target in A1 and in B1, and one unit.
type campaignFixture struct {
	campaign                       string
	villA3, villA4, villB2, villB3 string
	teamA1, teamA2, teamB1         string
	probA1, probB1                 string
	targA1, targB1                 string
	unit                           string
	today                          string
	repA1, repB1                   string
	dispA1, dispA1b, dispB1        string
	projA1, projB1                 string
	repDel                         map[domain.Role]string // one report in A1 per role, to delete
	photoA1, photoB1               string                 // ready photos
	photoA1Key                     string                 // photoA1's object key
	revA1                          string                 // a report the cadre of A1 filed (for review)
	leaveA1, leaveB1               string                 // leave asked by the cadre of A1 and the cadre of B1
	ownLeave                       map[domain.Role]string // a leave of its own per village-level role
}

func (e *env) campaignFixture(t testing.TB, f *fixture) *campaignFixture {
	t.Helper()
	admin := f.tokens[domain.RoleAdmin]
	mk := func(path string, body any) string {
		t.Helper()
		r := e.do(t, req{method: "POST", path: path, token: admin, body: body})
		want(t, r, 201)
		return r.str("id")
	}
	cf := &campaignFixture{today: domain.Today(e.clock.Now(), time.UTC)}
	cf.campaign = mk("/api/v1/campaigns", map[string]any{"name": "第三轮", "startDate": "2026-01-01", "endDate": "2027-12-31",
		"candidateShare": 1.0, "districtTarget": 25, "townTarget": 20})
	cf.villA3 = mk("/api/v1/villages", map[string]any{"name": "侯家园子村", "townId": f.townA, "kind": "village"})
	cf.villA4 = mk("/api/v1/villages", map[string]any{"name": "大营刘村", "townId": f.townA, "kind": "village"})
	cf.villB2 = mk("/api/v1/villages", map[string]any{"name": "杨沟朱村", "townId": f.townB, "kind": "village"})
	cf.villB3 = mk("/api/v1/villages", map[string]any{"name": "双眼井村", "townId": f.townB, "kind": "village"})
	for i, v := range []string{f.villA1, f.villA2, cf.villA3, cf.villA4, f.villB1, cf.villB2, cf.villB3} {
		want(t, e.do(t, req{method: "PUT", path: "/api/v1/campaigns/" + cf.campaign + "/evaluations/" + v, token: admin,
			body: map[string]any{"score": 50 + i, "manifestations": []string{"weak_service"}}}), 200)
	}
	sel := func(v, level string) {
		t.Helper()
		want(t, e.do(t, req{method: "POST", path: "/api/v1/campaigns/" + cf.campaign + "/selections", token: admin,
			body: map[string]any{"villageId": v, "level": level, "reason": "综合评估排名靠后"}}), 201)
	}
	sel(f.villA1, "district")
	sel(f.villA2, "town")
	sel(cf.villA3, "town")
	sel(f.villB1, "district")
	sel(cf.villB2, "district")
	cf.unit = mk("/api/v1/units", map[string]any{"name": "区委组织部", "type": "party"})
	team := func(v string, members ...string) string {
		return mk("/api/v1/teams", map[string]any{"campaignId": cf.campaign, "villageId": v,
			"leaderId": f.ids[domain.RoleLeader], "memberIds": members})
	}
	// The fixture's team leader serves on A1's team only (its account has no villages of its own
	// beyond A1); B1's team has the cadre of B1.
	cf.teamA1 = team(f.villA1, f.ids[domain.RoleTeamLeader])
	cf.teamA2 = team(f.villA2)
	cf.teamB1 = team(f.villB1, f.cadreBID)
	problem := map[string]any{"aspect": "disunity", "description": "两委班子不团结", "source": "evaluation"}
	cf.probA1 = mk("/api/v1/villages/"+f.villA1+"/problems", problem)
	cf.probB1 = mk("/api/v1/villages/"+f.villB1+"/problems", problem)
	target := map[string]any{"domain": "leadership", "task": "strengthen_team", "kind": "common", "title": "配强班子", "year": 2026, "due": "2026-12-31"}
	cf.targA1 = mk("/api/v1/villages/"+f.villA1+"/targets", target)
	cf.targB1 = mk("/api/v1/villages/"+f.villB1+"/targets", target)
	report := func(village string) string {
		return mk("/api/v1/reports", map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": village,
			"occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 3})
	}
	cf.repA1, cf.repB1 = report(f.villA1), report(f.villB1)
	dispute := func(village string) string {
		return mk("/api/v1/disputes", map[string]any{"id": domain.NewID(e.clock.Now()), "villageId": village,
			"identifiedAt": e.clock.Now().Add(-24 * time.Hour), "category": "land", "description": "宅基地纠纷", "parties": []string{"张某", "李某"}})
	}
	cf.dispA1, cf.dispA1b, cf.dispB1 = dispute(f.villA1), dispute(f.villA1), dispute(f.villB1)
	project := func(village string) string {
		return mk("/api/v1/projects", map[string]any{"id": domain.NewID(e.clock.Now()), "villageId": village,
			"name": "蔬菜大棚", "projectType": "greenhouse", "budgetFen": 50_000_000})
	}
	cf.projA1, cf.projB1 = project(f.villA1), project(f.villB1)
	pa := e.uploadPhoto(t, admin, f.villA1, "", testPhoto(t, 64, 48, nil))
	want(t, pa, 201)
	pb := e.uploadPhoto(t, admin, f.villB1, "", testPhoto(t, 64, 40, nil))
	want(t, pb, 201)
	cf.photoA1, cf.photoB1, cf.photoA1Key = pa.str("id"), pb.str("id"), "b-"+pa.str("sha256")
	for _, v := range []string{f.villA1, f.villB1} {
		want(t, e.do(t, req{method: "PUT", path: "/api/v1/assessments/" + v + "/2026S1", token: admin, body: assessmentBody(80)}), 201)
		want(t, e.do(t, req{method: "POST", path: "/api/v1/field-checks", token: admin, body: fieldCheckBody(v)}), 201)
	}
	cf.repDel = map[domain.Role]string{}
	for _, r := range domain.Roles {
		cf.repDel[r] = report(f.villA1)
	}
	rev := e.do(t, req{method: "POST", path: "/api/v1/reports", token: f.tokens[domain.RoleCadre], body: map[string]any{
		"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour),
		"visitee": "household", "count": 2}})
	want(t, rev, 201)
	cf.revA1 = rev.str("id")
	leave := func(token string) string {
		t.Helper()
		r := e.do(t, req{method: "POST", path: "/api/v1/leaves", token: token, body: map[string]any{"id": domain.NewID(e.clock.Now()),
			"from": cf.today, "to": cf.today, "reason": "就医"}})
		want(t, r, 201)
		return r.str("id")
	}
	cf.leaveA1, cf.leaveB1 = leave(f.tokens[domain.RoleCadre]), leave(e.login(t, "13900000009", testPassword))
	cf.ownLeave = map[domain.Role]string{domain.RoleCadre: leave(f.tokens[domain.RoleCadre]), domain.RoleTeamLeader: leave(f.tokens[domain.RoleTeamLeader])}
	return cf
}
