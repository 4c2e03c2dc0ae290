package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"zhucun/domain"
)

type syncOp struct {
	Type string         `json:"type"`
	Op   string         `json:"op"`
	Data map[string]any `json:"data"`
}

// TestSyncResendsNeverDuplicate: a phone queues creates, edits and deletes
// and sends every operation three times, in overlapping batches whose
// answers are lost at random (so an edit's resend comes after later edits);
// the server ends with exactly one copy of each record, in its last state.
func TestSyncResendsNeverDuplicate(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	rng := rand.New(rand.NewPCG(7, 11))
	type state struct {
		count   int
		notes   string
		deleted bool
		version int
	}
	model := map[string]*state{}
	var ids []string
	var ops []syncOp
	at := time.Now().Add(-3 * time.Hour).Format(time.RFC3339)
	for i := range 60 {
		switch {
		case i < 5 || rng.IntN(3) == 0:
			id := domain.NewID(time.Now())
			ids = append(ids, id)
			model[id] = &state{count: i + 1, version: 1}
			ops = append(ops, syncOp{"report", "create", map[string]any{"id": id, "kind": "visit", "villageId": f.villA1,
				"occurredAt": at, "visitee": "household", "count": i + 1}})
		case rng.IntN(5) == 0:
			id := ids[len(ids)-1-rng.IntN(min(3, len(ids)))]
			if model[id].deleted {
				continue
			}
			model[id].deleted = true
			model[id].version++
			ops = append(ops, syncOp{"report", "delete", map[string]any{"id": id}})
		default:
			// Mostly the newest records, so resends overtake later edits.
			id := ids[len(ids)-1-rng.IntN(min(3, len(ids)))]
			if model[id].deleted {
				continue
			}
			note := fmt.Sprintf("第%d次补充", i)
			model[id].notes = note
			model[id].version++
			ops = append(ops, syncOp{"report", "update", map[string]any{"id": id, "notes": note}})
		}
	}
	// Batches [i-2, i]: each operation goes out three times.
	statuses := map[string]int{}
	for i := range ops {
		batch := ops[max(0, i-2) : i+1]
		r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": batch}})
		want(t, r, 200)
		if rng.IntN(2) == 0 {
			continue // the answer is lost
		}
		for j, res := range r.json["results"].([]any) {
			st := res.(map[string]any)["status"].(string)
			statuses[st]++
			if st != "created" && st != "duplicate" && st != "updated" {
				t.Fatalf("op %d %s answered %v", i-len(batch)+1+j, batch[j].Op, res)
			}
		}
	}
	if statuses["duplicate"] == 0 || statuses["created"] == 0 {
		t.Fatalf("statuses seen: %v", statuses)
	}
	// Exactly one copy of each record, in its last state: from the feed and the list.
	seen := map[string]int{}
	cursor := ""
	for range 100 {
		p := "/api/v1/sync/changes?limit=9"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		ch := e.do(t, req{method: "GET", path: p, token: cadre})
		for _, it := range ch.items() {
			id := it["id"].(string)
			seen[id]++
			m := model[id]
			if m == nil {
				t.Fatalf("unknown record %s in the feed", id)
			}
			if int(it["version"].(float64)) != m.version {
				t.Errorf("%s is at version %v, want %d: an edit was applied more than once", id, it["version"], m.version)
			}
			if it["deleted"].(bool) != m.deleted {
				t.Errorf("%s deleted=%v, want %v", id, it["deleted"], m.deleted)
			}
			if d, ok := it["data"].(map[string]any); ok && !m.deleted {
				notes, _ := d["notes"].(string)
				if int(d["count"].(float64)) != m.count || notes != m.notes {
					t.Errorf("%s holds count %v notes %q, want %d %q", id, d["count"], notes, m.count, m.notes)
				}
			}
		}
		cursor = ch.str("nextCursor")
		if !ch.json["hasMore"].(bool) {
			break
		}
	}
	if len(seen) != len(model) {
		t.Fatalf("the feed holds %d records, want %d", len(seen), len(model))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s came %d times", id, n)
		}
	}
	alive := 0
	for _, m := range model {
		if !m.deleted {
			alive++
		}
	}
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/reports?limit=500", token: cadre}).items()); n != alive {
		t.Fatalf("%d reports listed, want %d", n, alive)
	}
}

func TestSyncMixedBatch(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	good, other := domain.NewID(time.Now()), domain.NewID(time.Now())
	create := func(id string, count int) map[string]any {
		return map[string]any{"id": id, "kind": "visit", "villageId": f.villA1, "occurredAt": at, "visitee": "household", "count": count}
	}
	items := []map[string]any{
		{"type": "report", "op": "create", "data": create(good, 2)},                                                                                                                  // created
		{"type": "report", "op": "create", "data": create(good, 2)},                                                                                                                  // duplicate
		{"type": "report", "op": "create", "data": create(good, 3)},                                                                                                                  // conflict: id_conflict
		{"type": "report", "op": "create", "data": map[string]any{"id": other, "kind": "visit"}},                                                                                     // invalid
		{"type": "report", "op": "update", "data": map[string]any{"id": good, "count": 4, "version": 7}},                                                                             // conflict: stale
		{"type": "report", "op": "update", "data": map[string]any{"id": good, "count": 4, "version": 1}},                                                                             // updated
		{"type": "report", "op": "update", "data": map[string]any{"id": domain.NewID(time.Now()), "count": 1}},                                                                       // not_found
		{"type": "report", "op": "create", "data": map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": f.villB1, "occurredAt": at, "visitee": "household"}}, // not_found
		{"type": "parcel", "op": "create", "data": map[string]any{"id": other}},                                                                                                      // invalid
		{"type": "report", "op": "merge", "data": map[string]any{"id": good}},                                                                                                        // invalid
		{"type": "report", "op": "create", "data": map[string]any{"id": other, "kind": "visit", "villageId": f.villA1, "occurredAt": at, "visitee": "household", "bogus": 1}},        // invalid
		{"type": "report", "op": "delete", "data": map[string]any{"id": good}},                                                                                                       // updated
		{"type": "report", "op": "delete", "data": map[string]any{"id": good}},                                                                                                       // duplicate
		{"type": "report", "op": "update", "data": map[string]any{"id": good, "count": 9}},                                                                                           // conflict: deleted
	}
	wantStatus := []string{"created", "duplicate", "conflict", "invalid", "conflict", "updated", "not_found", "not_found",
		"invalid", "invalid", "invalid", "updated", "duplicate", "conflict"}
	res := syncBatch(t, e, cadre, items, wantStatus)
	for i, x := range res {
		m := x.(map[string]any)
		if wantStatus[i] != "created" && wantStatus[i] != "duplicate" && wantStatus[i] != "updated" && m["problem"] == nil {
			t.Errorf("item %d has no problem", i)
		}
	}
	if p := res[3].(map[string]any)["problem"].(map[string]any); p["code"] != "validation_failed" || len(p["errors"].([]any)) == 0 {
		t.Errorf("invalid item's problem: %v", p)
	}
	if p := res[2].(map[string]any)["problem"].(map[string]any); p["code"] != "id_conflict" {
		t.Errorf("conflicting create's problem: %v", p)
	}
	// Limits.
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = map[string]any{"type": "report", "op": "delete", "data": map[string]any{"id": good}}
	}
	want(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: cadre, body: map[string]any{"items": many}}), 422, "validation_failed")
	want(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: f.tokens[domain.RoleLeader], body: map[string]any{"items": []any{}}}), 403, "forbidden")
	want(t, e.do(t, req{method: "GET", path: "/api/v1/sync/changes?cursor=zzz", token: cadre}), 422, "invalid_query")
}

// TestChangesFeedWhileWriting pages through the feed while another client
// writes: every record arrives exactly once.
func TestChangesFeedWhileWriting(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre, tl := f.tokens[domain.RoleCadre], f.tokens[domain.RoleTeamLeader]
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	const n = 150
	created := make(chan string, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			id := domain.NewID(time.Now())
			r := e.do(t, req{method: "POST", path: "/api/v1/reports", token: tl, body: map[string]any{"id": id, "kind": "work_log",
				"villageId": f.villA1, "occurredAt": at, "text": fmt.Sprint("日记", i)}})
			if r.status != 201 {
				t.Errorf("create: %d", r.status)
				return
			}
			created <- id
		}
	}()
	seen := map[string]int{}
	cursor := ""
	read := func() bool {
		p := "/api/v1/sync/changes?limit=7"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		ch := e.do(t, req{method: "GET", path: p, token: cadre})
		want(t, ch, 200)
		for _, it := range ch.items() {
			seen[it["id"].(string)]++
		}
		cursor = ch.str("nextCursor")
		return ch.json["hasMore"].(bool)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	for read() {
	}
	close(created)
	count := 0
	for id := range created {
		count++
		if seen[id] != 1 {
			t.Errorf("%s came %d times", id, seen[id])
		}
	}
	if count != n || len(seen) != n {
		t.Fatalf("created %d, the feed delivered %d distinct", count, len(seen))
	}
}

// TestSyncBatchKeepsOrder: a batch's items apply as if one after another,
// though independent ones go concurrently — a fund finds the project
// created before it in the batch, an edit and a delete find the record
// created before them, and a fund before its project's create does not.
func TestSyncBatchKeepsOrder(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	today := domain.Today(time.Now(), time.UTC)
	report := func(id string) map[string]any {
		return map[string]any{"type": "report", "op": "create", "data": map[string]any{"id": id, "kind": "work_log",
			"villageId": f.villA1, "occurredAt": at, "text": "日记"}}
	}
	fund := func(project string) map[string]any {
		return map[string]any{"type": "fund", "op": "create", "data": map[string]any{"id": domain.NewID(time.Now()), "villageId": f.villA1,
			"amountFen": 100, "source": "区财政", "purpose": "修路", "receivedOn": today, "projectId": project}}
	}
	pid, late, rid := domain.NewID(time.Now()), domain.NewID(time.Now()), domain.NewID(time.Now())
	var items []map[string]any
	var wantStatus []string
	add := func(it map[string]any, status string) {
		items = append(items, it)
		wantStatus = append(wantStatus, status)
	}
	for range 40 {
		add(report(domain.NewID(time.Now())), "created")
	}
	add(fund(late), "invalid") // its project comes later in the batch
	add(map[string]any{"type": "project", "op": "create", "data": map[string]any{"id": pid, "villageId": f.villA1, "name": "进村道路", "projectType": "road"}}, "created")
	add(fund(pid), "created")
	add(report(rid), "created")
	for range 40 {
		add(report(domain.NewID(time.Now())), "created")
	}
	add(map[string]any{"type": "report", "op": "update", "data": map[string]any{"id": rid, "text": "改", "version": 1}}, "updated")
	add(map[string]any{"type": "project", "op": "create", "data": map[string]any{"id": late, "villageId": f.villA1, "name": "大棚", "projectType": "greenhouse"}}, "created")
	add(map[string]any{"type": "report", "op": "delete", "data": map[string]any{"id": rid, "version": 2}}, "updated")
	add(fund(late), "created")
	syncBatch(t, e, cadre, items, wantStatus)
	if n := len(e.do(t, req{method: "GET", path: "/api/v1/funds?limit=500", token: cadre}).items()); n != 2 {
		t.Errorf("%d funds, want 2", n)
	}
}

// syncBatch sends one sync request and checks each item's status.
func syncBatch(t *testing.T, e *env, token string, items []map[string]any, wantStatus []string) []any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: token, body: map[string]any{"items": items}})
	want(t, r, 200)
	res := r.json["results"].([]any)
	if len(res) != len(wantStatus) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	for i, x := range res {
		if m := x.(map[string]any); m["status"] != wantStatus[i] {
			t.Errorf("item %d: %v, want %s", i, m, wantStatus[i])
		}
	}
	return res
}
