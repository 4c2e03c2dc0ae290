package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/media"
)

// lastMonth is the month before the test clock's (in the campaign's zone),
// its id (202611) and a time on day d of it.
func lastMonth(now time.Time) (string, func(d int) time.Time) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	first := time.Date(now.In(loc).Year(), now.In(loc).Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0)
	return first.Format("200601"), func(d int) time.Time { return first.AddDate(0, 0, d-1).Add(10 * time.Hour) }
}

// counts reads a village's month on a basis.
func (e *env) counts(t *testing.T, token, village, period, basis string) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=village&id=" + village + "&period=" + period + "&basis=" + basis, token: token})
	want(t, r, 200)
	if r.str("basis") != basis {
		t.Fatalf("summary on basis %q says %q", basis, r.str("basis"))
	}
	return r.json["metrics"].(map[string]any)
}

// verified fails unless the counts on both bases equal a recount.
func (e *env) verified(t *testing.T, when string) {
	t.Helper()
	if diffs, err := e.store.VerifyStats(t.Context()); err != nil || len(diffs) > 0 {
		t.Fatalf("%s: counts differ from a recount: %v %v", when, err, diffs)
	}
}

// TestSupervisionScenario is the supervision loop end to end: a cadre files
// a month offline; the team leader returns two with comments, which reach
// the phone through the changes feed; the cadre fixes them; the leader
// approves; the town admin approves the month; a late edit is refused with
// period_locked (also inside a /sync batch); the admin unlocks with a
// reason and the edit goes through; re-approval locks again. Both bases
// equal a recount throughout.
func TestSupervisionScenario(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, leader, townAdmin, admin := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader], f.tokens[domain.RoleTownAdmin], f.tokens[domain.RoleAdmin]
	month, day := lastMonth(e.clock.Now())

	// The phone's cursor before it files anything.
	ch := e.do(t, req{method: "GET", path: "/api/v1/sync/changes?limit=500", token: cadre})
	want(t, ch, 200)
	cursor := ch.str("nextCursor")

	// A month of visits, filed offline and sent in one batch (twice: a resend).
	var ids []string
	var ops []syncOp
	households := 0
	for i := range 10 {
		id := domain.NewID(e.clock.Now())
		ids = append(ids, id)
		households += i + 1
		ops = append(ops, syncOp{"report", "create", map[string]any{"id": id, "kind": "visit", "villageId": f.villA1,
			"occurredAt": day(2 + 2*i), "visitee": "household", "count": i + 1}})
	}
	for range 2 {
		r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": ops}})
		want(t, r, 200)
	}
	if n := e.counts(t, admin, f.villA1, month, "reported")["households_visited"]; n != float64(households) {
		t.Fatalf("reported households %v, want %d", n, households)
	}
	if n := e.counts(t, admin, f.villA1, month, "approved")["households_visited"]; n != 0.0 {
		t.Fatalf("approved households before any review: %v", n)
	}
	e.verified(t, "filed")

	// Nobody reviews their own record; a cadre does not review at all.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reviews", token: cadre, body: map[string]any{"items": []map[string]any{{"id": ids[0], "decision": "approve"}}}}), 403)
	// A return needs a comment; bad decisions are per item.
	r := e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": []map[string]any{
		{"id": ids[0], "decision": "return"}, {"id": ids[0], "decision": "reject", "comment": "x"}, {"id": f.villB1, "decision": "approve"}}}})
	want(t, r, 200)
	for i, st := range []string{"invalid", "invalid", "not_found"} {
		if got := r.json["results"].([]any)[i].(map[string]any)["status"]; got != st {
			t.Fatalf("item %d: %v, want %s: %s", i, got, st, r.body)
		}
	}

	// The team leader returns two with comments.
	comments := map[string]string{ids[2]: "户数与台账不符，请核对", ids[5]: "缺少走访对象姓名"}
	items := []map[string]any{}
	for id, cm := range comments {
		items = append(items, map[string]any{"id": id, "decision": "return", "comment": cm})
	}
	for range 2 { // a resend answers unchanged
		r = e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": items}})
		want(t, r, 200)
	}
	for _, res := range r.json["results"].([]any) {
		if res.(map[string]any)["status"] != "unchanged" {
			t.Fatalf("a resent return: %v", res)
		}
	}
	// The returns reach the phone through the changes feed, with the comment.
	ch = e.do(t, req{method: "GET", path: "/api/v1/sync/changes?limit=500&cursor=" + cursor, token: cadre})
	want(t, ch, 200)
	returned := map[string]string{}
	for _, it := range ch.items() {
		d := it["data"].(map[string]any)
		rv := d["review"].(map[string]any)
		if rv["state"] == "returned" {
			returned[it["id"].(string)] = rv["comment"].(string)
		}
	}
	if len(returned) != 2 || returned[ids[2]] != comments[ids[2]] || returned[ids[5]] != comments[ids[5]] {
		t.Fatalf("the phone got returns %v, want %v", returned, comments)
	}
	// And the cadre's list of returned records shows them.
	l := e.do(t, req{method: "GET", path: "/api/v1/reports?review=returned&villageId=" + f.villA1, token: cadre})
	want(t, l, 200)
	if len(l.items()) != 2 {
		t.Fatalf("review=returned lists %d", len(l.items()))
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/reports?review=lost", token: cadre}), 422)

	// The cadre fixes them offline: an edit of a returned record submits it again.
	var fixes []syncOp
	for id := range comments {
		g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + id, token: cadre})
		want(t, g, 200)
		fixes = append(fixes, syncOp{"report", "update", map[string]any{"id": id, "version": g.json["version"], "notes": "已核对，补充姓名", "names": []string{"王某"}}})
	}
	r = e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": fixes}})
	want(t, r, 200)
	for _, res := range r.json["results"].([]any) {
		if res.(map[string]any)["status"] != "updated" {
			t.Fatalf("a fix: %v", res)
		}
	}
	g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + ids[2], token: cadre})
	rv := g.json["review"].(map[string]any)
	if rv["state"] != "submitted" || len(rv["history"].([]any)) != 2 {
		t.Fatalf("a fixed record's review: %v", rv)
	}

	// A work log of that month stays unreviewed.
	wl := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"kind": "work_log", "villageId": f.villA1, "occurredAt": day(25), "text": "民情日记"}})
	want(t, wl, 201)

	// The leader approves all ten at once.
	items = nil
	for _, id := range ids {
		items = append(items, map[string]any{"id": id, "decision": "approve"})
	}
	r = e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": items}})
	want(t, r, 200)
	for _, res := range r.json["results"].([]any) {
		if res.(map[string]any)["status"] != "reviewed" {
			t.Fatalf("approve: %v", res)
		}
	}
	if n := e.counts(t, admin, f.villA1, month, "approved")["households_visited"]; n != float64(households) {
		t.Fatalf("approved households %v, want %d", n, households)
	}
	e.verified(t, "approved")
	// Every decision is in the audit trail.
	au := e.do(t, req{method: "GET", path: "/api/v1/audit?entityId=" + ids[2], token: f.tokens[domain.RoleAuditAdmin]})
	want(t, au, 200)
	var actions []string
	for _, it := range au.items() {
		actions = append(actions, it["action"].(string))
	}
	if !slices.Contains(actions, "review:return") || !slices.Contains(actions, "review:approve") {
		t.Fatalf("audit of a reviewed record: %v", actions)
	}

	// The team leader submits the month; the town admin approves it.
	ap := "/api/v1/approvals/village/" + f.villA1 + "/" + month
	want(t, e.do(t, req{method: "POST", path: ap + "/approve", token: townAdmin}), 409, "invalid_transition")
	want(t, e.do(t, req{method: "POST", path: ap + "/approve", token: leader}), 403)
	want(t, e.do(t, req{method: "POST", path: ap + "/submit", token: leader}), 200)
	a := e.do(t, req{method: "POST", path: ap + "/approve", token: townAdmin})
	want(t, a, 200)
	if a.str("state") != "approved" || a.json["locked"] != true || a.str("lockedByName") == "" {
		t.Fatalf("approved month: %s", a.body)
	}

	// A late edit of that month is refused, with who locked it and how to ask.
	g = e.do(t, req{method: "GET", path: "/api/v1/reports/" + ids[0], token: cadre})
	v0 := int(g.json["version"].(float64))
	p := e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + ids[0], token: cadre, body: map[string]any{"notes": "补记"}})
	want(t, p, 409, "period_locked")
	lock := p.json["lock"].(map[string]any)
	if lock["period"] != month || lock["lockedBy"] != f.ids[domain.RoleTownAdmin] || lock["exception"] == "" || lock["unlock"] != "POST "+ap+"/unlock" {
		t.Fatalf("the lock: %v", lock)
	}
	// Inside a /sync batch: per item, beside an item of this month that goes through.
	r = e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": []syncOp{
		{"report", "update", map[string]any{"id": ids[1], "notes": "补记"}},
		{"report", "create", map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": f.villA1,
			"occurredAt": day(28), "visitee": "household", "count": 1}},
		{"report", "delete", map[string]any{"id": ids[3]}},
		{"report", "create", map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit", "villageId": f.villA1,
			"occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 1}},
	}}})
	want(t, r, 200)
	res := r.json["results"].([]any)
	for i := range 3 {
		it := res[i].(map[string]any)
		if it["status"] != "conflict" || it["problem"].(map[string]any)["code"] != "period_locked" {
			t.Fatalf("item %d into the locked month: %v", i, it)
		}
	}
	if res[3].(map[string]any)["status"] != "created" {
		t.Fatalf("an item of this month: %v", res[3])
	}
	// Reviews of the locked month are refused too.
	r = e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": []map[string]any{{"id": ids[0], "decision": "return", "comment": "再核"}}}})
	if it := r.json["results"].([]any)[0].(map[string]any); it["status"] != "conflict" {
		t.Fatalf("review in a locked month: %v", it)
	}
	// Even of a record the lock found unreviewed (its counts would not move).
	r = e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": []map[string]any{{"id": wl.str("id"), "decision": "return", "comment": "请补充"}}}})
	if it := r.json["results"].([]any)[0].(map[string]any); it["status"] != "conflict" || it["problem"].(map[string]any)["code"] != "period_locked" {
		t.Fatalf("a return in a locked month: %v", it)
	}
	if g := e.do(t, req{method: "GET", path: "/api/v1/reports/" + ids[0], token: cadre}); int(g.json["version"].(float64)) != v0 {
		t.Fatalf("a refused write changed the record")
	}
	e.verified(t, "locked")

	// Only an admin unlocks, and only with a reason (audited).
	want(t, e.do(t, req{method: "POST", path: ap + "/unlock", token: townAdmin, body: map[string]any{"comment": "x"}}), 403)
	want(t, e.do(t, req{method: "POST", path: ap + "/unlock", token: admin}), 422)
	u := e.do(t, req{method: "POST", path: ap + "/unlock", token: admin, body: map[string]any{"comment": "核实走访户数，允许补正"}})
	want(t, u, 200)
	if u.str("state") != "unlocked" || u.json["locked"] != false {
		t.Fatalf("unlocked: %s", u.body)
	}
	p = e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + ids[0], token: cadre, body: map[string]any{"notes": "补记", "count": 5}})
	want(t, p, 200)
	if p.json["review"].(map[string]any)["state"] != "submitted" {
		t.Fatalf("an edit of an approved record stays %v", p.json["review"])
	}
	// It left the approved basis until approved again.
	if n := e.counts(t, admin, f.villA1, month, "approved")["households_visited"]; n != float64(households-1) {
		t.Fatalf("approved households after the edit %v, want %d", n, households-1)
	}
	if n := e.counts(t, admin, f.villA1, month, "reported")["households_visited"]; n != float64(households-1+5) {
		t.Fatalf("reported households after the edit %v, want %d", n, households+4)
	}
	e.verified(t, "unlocked and edited")
	au = e.do(t, req{method: "GET", path: "/api/v1/audit?entity=approval", token: f.tokens[domain.RoleAuditAdmin]})
	found := false
	for _, it := range au.items() {
		found = found || it["action"] == "approval:unlock"
	}
	if !found {
		t.Fatalf("the unlock is not audited: %s", au.body)
	}

	// Re-approval locks it again.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reviews", token: leader, body: map[string]any{"items": []map[string]any{{"id": ids[0], "decision": "approve"}}}}), 200)
	want(t, e.do(t, req{method: "POST", path: ap + "/approve", token: townAdmin}), 200)
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/reports/" + ids[0], token: cadre, body: map[string]any{"notes": "再补"}}), 409, "period_locked")
	if n := e.counts(t, admin, f.villA1, month, "approved")["households_visited"]; n != float64(households+4) {
		t.Fatalf("approved households after re-approval %v, want %d", n, households+4)
	}
	e.verified(t, "re-approved")

	// Another village's month is not locked, and not visible to A's cadre.
	want(t, e.do(t, req{method: "GET", path: "/api/v1/approvals/village/" + f.villB1 + "/" + month, token: cadre}), 404)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/approvals/village/" + f.villB1 + "/" + month + "/submit", token: townAdmin}), 404)
}

// TestHalfYearApprovalAndFinalAssessment: the department approves a town's
// half-year, which locks every village of it; only then is an assessment
// final, and the light says it rests on one.
func TestHalfYearApprovalAndFinalAssessment(t *testing.T) {
	e := newEnv(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	// Early in a half-year: the last one is over, and its last weeks still in the backfill window.
	e.clock.Set(time.Date(2027, 1, 10, 10, 0, 0, 0, loc))
	f := e.fixture(t)
	admin, townAdmin, cadre := f.tokens[domain.RoleAdmin], f.tokens[domain.RoleTownAdmin], f.tokens[domain.RoleCadre]
	half := "2026S2"
	inHalf := time.Date(2026, 12, 20, 10, 0, 0, 0, loc)
	// The running half-year is not approved before it is over.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/approvals/town/" + f.townA + "/2027S1/submit", token: townAdmin}), 422)
	ass := "/api/v1/assessments/" + f.villA1 + "/" + half
	want(t, e.do(t, req{method: "PUT", path: ass, token: admin, body: assessmentBody(90)}), 201)
	want(t, e.do(t, req{method: "POST", path: ass + "/finalize", token: admin}), 409, "half_year_not_approved")

	hp := "/api/v1/approvals/town/" + f.townA + "/" + half
	want(t, e.do(t, req{method: "POST", path: hp + "/approve", token: townAdmin}), 403) // the department approves a half-year
	want(t, e.do(t, req{method: "POST", path: hp + "/submit", token: townAdmin}), 200)
	want(t, e.do(t, req{method: "POST", path: hp + "/approve", token: admin}), 200)
	// Every village of the town is locked for the half-year.
	r := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit",
		"villageId": f.villA1, "occurredAt": inHalf, "visitee": "household", "count": 2}})
	want(t, r, 409, "period_locked")
	// The new half-year is open.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit",
		"villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 2}}), 201)
	if l := r.json["lock"].(map[string]any); l["level"] != "town" || l["period"] != half {
		t.Fatalf("the lock: %v", l)
	}
	// B's town is not.
	cadreB := e.login(t, "13900000009", testPassword)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadreB, body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "visit",
		"villageId": f.villB1, "occurredAt": inHalf, "visitee": "household", "count": 2}}), 201)

	fa := e.do(t, req{method: "POST", path: ass + "/finalize", token: townAdmin})
	want(t, fa, 200)
	if fa.json["final"] != true {
		t.Fatalf("finalised: %s", fa.body)
	}
	want(t, e.do(t, req{method: "POST", path: ass + "/finalize", token: townAdmin}), 200) // a resend
	want(t, e.do(t, req{method: "PUT", path: ass, token: admin, body: assessmentBody(70)}), 409, "assessment_final")
	tb := e.do(t, req{method: "GET", path: "/api/v1/stats/villages?townId=" + f.townA + "&period=" + half, token: admin})
	want(t, tb, 200)
	for _, it := range tb.items() {
		src := it["light"].(map[string]any)["source"]
		if it["villageId"] == f.villA1 && src != "final" || it["villageId"] == f.villA2 && src != "provisional" {
			t.Fatalf("%v rests on %v", it["name"], src)
		}
	}
}

// TestOnPostFromTheWork: days on post come from located records, without
// any checkin; a record just outside the distance, or without a position,
// is work but not a located day; approved leave leaves the denominator.
func TestOnPostFromTheWork(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin, cadre, leader := f.tokens[domain.RoleAdmin], f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	center := map[string]any{"lat": 37.38, "lng": 118.02}
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/villages/" + f.villA1, token: admin, body: map[string]any{"location": center}}), 200)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	lastWeek := e.clock.Now().In(loc).AddDate(0, 0, -7)
	y, w := lastWeek.ISOWeek()
	week := fmt.Sprintf("%dW%02d", y, w)
	days, _ := domain.ParseWeek(week)
	at := func(d int) time.Time {
		t0, _ := time.ParseInLocation(domain.DateLayout, days[d], loc)
		return t0.Add(10 * time.Hour)
	}
	// 3,000 m is the default distance; a degree of latitude is about 111.2 km.
	near := map[string]any{"lat": 37.38 + 2900/111195.0, "lng": 118.02}
	far := map[string]any{"lat": 37.38 + 3100/111195.0, "lng": 118.02}
	file := func(d int, pos map[string]any, kind string) {
		t.Helper()
		body := map[string]any{"id": domain.NewID(e.clock.Now()), "kind": kind, "villageId": f.villA1, "occurredAt": at(d)}
		if kind == "visit" {
			body["visitee"], body["count"] = "household", 1
		} else {
			body["text"] = "民情日记"
		}
		if pos != nil {
			body["location"] = pos
		}
		r := e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: body})
		want(t, r, 201)
		if got := r.json["onPost"]; got != (pos != nil && pos["lat"] == near["lat"]) {
			t.Fatalf("day %d at %v: onPost %v", d, pos, got)
		}
	}
	file(0, near, "visit")    // Monday: located in the village
	file(1, far, "visit")     // Tuesday: just outside the distance
	file(2, nil, "work_log")  // Wednesday: no position — work, not a located day
	file(3, near, "work_log") // Thursday: located
	file(3, near, "visit")    // the same day again counts once
	// The admin's located record does not put anyone on post.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: admin, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"kind": "visit", "villageId": f.villA1, "occurredAt": at(4), "visitee": "household", "count": 1, "location": near}}), 201)

	// The plan: Monday to Friday; Friday on approved leave.
	want(t, e.do(t, req{method: "PUT", path: "/api/v1/onpost-plans/" + f.ids[domain.RoleCadre] + "/" + week, token: cadre,
		body: map[string]any{"days": days[:5]}}), 200)
	lv := e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"from": days[4], "to": days[4], "reason": "参加培训"}})
	want(t, lv, 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves/" + lv.str("id") + "/decision", token: cadre, body: map[string]any{"decision": "approve"}}), 403)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves/" + lv.str("id") + "/decision", token: leader, body: map[string]any{"decision": "refuse"}}), 422)
	d := e.do(t, req{method: "POST", path: "/api/v1/leaves/" + lv.str("id") + "/decision", token: leader, body: map[string]any{"decision": "approve", "comment": "同意"}})
	want(t, d, 200)
	if d.str("state") != "approved" {
		t.Fatalf("leave: %s", d.body)
	}

	r := e.do(t, req{method: "GET", path: "/api/v1/onpost?week=" + week, token: admin})
	want(t, r, 200)
	var row map[string]any
	for _, it := range r.items() {
		if it["cadreId"] == f.ids[domain.RoleCadre] {
			row = it
		}
	}
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	if got := strs(row["onPostDays"]); !slices.Equal(got, []string{days[0], days[3]}) {
		t.Fatalf("on-post days %v, want %v", got, []string{days[0], days[3]})
	}
	if len(row["checkinDays"].([]any)) != 0 || !slices.Equal(strs(row["leaveDays"]), []string{days[4]}) {
		t.Fatalf("checkins %v, leave %v", row["checkinDays"], row["leaveDays"])
	}
	// 2 of the 4 planned days not on leave.
	if row["plannedDaysMet"] != 2.0 || row["onPostRate"] != 0.5 {
		t.Fatalf("met %v, rate %v", row["plannedDaysMet"], row["onPostRate"])
	}
	m := e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=village&id=" + f.villA1 + "&period=" + week, token: admin})
	want(t, m, 200)
	mt := m.json["metrics"].(map[string]any)
	if mt["onpost_days"] != 2.0 || mt["leave_days"] != 1.0 || mt["onpost_rate"] != 0.5 || mt["checkins"] != 0.0 {
		t.Fatalf("summary: %v", mt)
	}
	// A checkin the cadre chooses to send counts Tuesday.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"kind": "checkin", "villageId": f.villA1, "occurredAt": at(1), "location": far}}), 201)
	m = e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=village&id=" + f.villA1 + "&period=" + week, token: admin})
	if mt := m.json["metrics"].(map[string]any); mt["onpost_days"] != 3.0 || mt["checkins"] != 1.0 || mt["onpost_rate"] != 0.75 {
		t.Fatalf("with a checkin: %v", mt)
	}
	e.verified(t, "on post")
	// Leave is the cadre's: a resend creates nothing; another id's content is its own.
	again := e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": lv.str("id"),
		"from": days[4], "to": days[4], "reason": "参加培训"}})
	want(t, again, 200)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": lv.str("id"),
		"from": days[3], "to": days[4], "reason": "参加培训"}}), 409, "id_conflict")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/leaves", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"from": days[4], "to": days[3], "reason": "x"}}), 422)
}

// TestOnPostFromPhotos: a photo whose EXIF position is near the village
// puts its author on post on the day it was taken (uploaded days later);
// one taken far away does not; nor does the admin's.
func TestOnPostFromPhotos(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin, cadre := f.tokens[domain.RoleAdmin], f.tokens[domain.RoleCadre]
	want(t, e.do(t, req{method: "PATCH", path: "/api/v1/villages/" + f.villA1, token: admin, body: map[string]any{"location": map[string]any{"lat": 37.38, "lng": 118.02}}}), 200)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	taken := e.clock.Now().Add(-50 * time.Hour).In(loc)
	day := taken.Format(domain.DateLayout)
	onPost := func(d string) float64 {
		r := e.do(t, req{method: "GET", path: "/api/v1/stats/summary?scope=village&id=" + f.villA1 + "&from=" + d + "&to=" + d, token: admin})
		want(t, r, 200)
		return r.json["metrics"].(map[string]any)["onpost_days"].(float64)
	}
	far := e.uploadPhoto(t, cadre, f.villA1, "", testPhoto(t, 64, 48, &media.EXIF{TakenAt: &taken, Lat: 37.50, Lng: 118.02, HasGPS: true}))
	want(t, far, 201)
	if far.json["onPost"] != false || onPost(day) != 0 {
		t.Fatalf("a photo taken 13 km away: %v, %v days", far.json["onPost"], onPost(day))
	}
	mine := e.uploadPhoto(t, admin, f.villA1, "", testPhoto(t, 64, 40, &media.EXIF{TakenAt: &taken, Lat: 37.381, Lng: 118.02, HasGPS: true}))
	want(t, mine, 201)
	if mine.json["onPost"] != false {
		t.Fatalf("the admin's photo puts someone on post")
	}
	near := e.uploadPhoto(t, cadre, f.villA1, "", testPhoto(t, 64, 44, &media.EXIF{TakenAt: &taken, Lat: 37.381, Lng: 118.02, HasGPS: true}))
	want(t, near, 201)
	today := e.clock.Now().In(loc).Format(domain.DateLayout)
	if near.json["onPost"] != true || onPost(day) != 1 || onPost(today) != 0 {
		t.Fatalf("a photo taken in the village: %v; %v days on %s, %v today", near.json["onPost"], onPost(day), day, onPost(today))
	}
	e.verified(t, "photos")
}

// TestFeedback: any account sends a complaint or suggestion (投诉建议) once
// per id, sees its own and the answer; the department sees all and
// answers; nobody else reads or answers it.
func TestFeedback(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, admin, townAdmin := f.tokens[domain.RoleCadre], f.tokens[domain.RoleAdmin], f.tokens[domain.RoleTownAdmin]
	id := domain.NewID(e.clock.Now())
	body := map[string]any{"id": id, "kind": "complaint", "topic": "system", "text": "离线时照片上传失败后没有提示"}
	sent := e.do(t, req{method: "POST", path: "/api/v1/feedback", token: cadre, body: body})
	want(t, sent, 201)
	if sent.str("state") != "open" || sent.str("userId") != f.ids[domain.RoleCadre] || sent.str("role") != "cadre" {
		t.Fatalf("sent: %s", sent.body)
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback", token: cadre, body: body}), 200) // a resend
	body["text"] = "另一条"
	want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback", token: cadre, body: body}), 409, "id_conflict")
	for _, bad := range []map[string]any{
		{"id": domain.NewID(e.clock.Now()), "kind": "praise", "text": "x"},
		{"id": domain.NewID(e.clock.Now()), "kind": "suggestion", "text": "   "},
		{"id": "not-a-uuid", "kind": "suggestion", "text": "x"},
		{"id": domain.NewID(e.clock.Now()), "kind": "suggestion", "text": strings.Repeat("长", 2001)},
	} {
		want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback", token: cadre, body: bad}), 422, "validation_failed")
	}
	// The system administrator sends one too; the audit administrator as well.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback", token: f.tokens[domain.RoleSysAdmin],
		body: map[string]any{"id": domain.NewID(e.clock.Now()), "kind": "suggestion", "text": "账号导入希望支持模板"}}), 201)
	// Each sees its own; the department sees all.
	if l := e.do(t, req{method: "GET", path: "/api/v1/feedback", token: cadre}).items(); len(l) != 1 || l[0]["id"] != id {
		t.Fatalf("the cadre's list: %v", l)
	}
	if l := e.do(t, req{method: "GET", path: "/api/v1/feedback", token: townAdmin}).items(); len(l) != 0 {
		t.Fatalf("the town admin lists others' feedback: %v", l)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/feedback/" + id, token: townAdmin}), 404, "not_found")
	if l := e.do(t, req{method: "GET", path: "/api/v1/feedback?state=open", token: admin}).items(); len(l) != 2 {
		t.Fatalf("the department's open list: %v", l)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/feedback?state=maybe", token: admin}), 422, "invalid_query")
	// Only the department answers.
	want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback/" + id + "/answer", token: townAdmin, body: map[string]any{"answer": "x"}}), 403, "forbidden")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/feedback/" + id + "/answer", token: admin, body: map[string]any{"answer": " "}}), 422)
	ans := e.do(t, req{method: "POST", path: "/api/v1/feedback/" + id + "/answer", token: admin, body: map[string]any{"answer": "已转交技术组，下一版修复"}})
	want(t, ans, 200)
	got := e.do(t, req{method: "GET", path: "/api/v1/feedback/" + id, token: cadre})
	if got.str("state") != "answered" || got.str("answer") != "已转交技术组，下一版修复" || got.str("answeredBy") != f.ids[domain.RoleAdmin] {
		t.Fatalf("the cadre reads the answer: %s", got.body)
	}
	again := e.do(t, req{method: "POST", path: "/api/v1/feedback/" + id + "/answer", token: admin, body: map[string]any{"answer": "已转交技术组，下一版修复"}})
	if again.json["version"] != ans.json["version"] {
		t.Fatalf("the same answer again changed it: %v → %v", ans.json["version"], again.json["version"])
	}
	if l := e.do(t, req{method: "GET", path: "/api/v1/audit?entity=feedback", token: f.tokens[domain.RoleAuditAdmin]}).items(); len(l) != 3 {
		t.Fatalf("feedback audit entries: %v", l)
	}
}
