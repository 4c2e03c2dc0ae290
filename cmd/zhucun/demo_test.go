package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
)

// TestDemoDistrict builds the demo district twice, each into an empty data
// directory: both runs make the same ids, and the API answers the
// report's numbers for it — 10 towns, 602 villages, 90 candidates, 25 and
// 20 selections with the named villages at district level, 79 problems,
// 364 targets, 34 units.
func TestDemoDistrict(t *testing.T) {
	if !onEmbedded() {
		t.Skip("the demo command runs on the embedded store")
	}
	ctx := context.Background()
	run1 := func() (map[string]string, *env) {
		dir := t.TempDir()
		envVars := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": testPassword,
			"ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
		var out bytes.Buffer
		if err := run(ctx, []string{"demo"}, func(k string) string { return envVars[k] }, nil, &out, io.Discard); err != nil {
			t.Fatalf("demo: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "602 villages") || !strings.Contains(out.String(), "sec_admin") {
			t.Fatalf("demo said: %s", out.String())
		}
		// A second demo into the same directory is refused.
		if err := run(ctx, []string{"demo"}, func(k string) string { return envVars[k] }, nil, io.Discard, io.Discard); err == nil {
			t.Fatal("a demo over a built district ran")
		}
		cfg, err := parseConfig(newFlagSet(), nil, func(k string) string { return envVars[k] })
		if err != nil {
			t.Fatal(err)
		}
		st, err := openStores(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.close(ctx) })
		clk := &clock{now: time.Now().UTC()}
		b, err := build(cfg, deps{store: st.db, now: clk.Now, hasher: passwd.Fast(), log: slog.New(slog.DiscardHandler),
			secret: []byte("test-secret-test-secret-test-secret!"), sealer: st.sealer,
			phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy, blobs: st.blobs})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{api: b.api, store: st.db, spec: loadSpec(t), clock: clk, logs: &bytes.Buffer{}}
		ids := map[string]string{}
		tok := e.login(t, "13900000000", testPassword)
		tr := e.do(t, req{method: "GET", path: "/api/v1/towns?limit=500", token: tok})
		want(t, tr, 200)
		for _, it := range tr.items() {
			ids[it["name"].(string)] = it["id"].(string)
		}
		for cursor := ""; ; {
			l := e.do(t, req{method: "GET", path: "/api/v1/villages?limit=500&cursor=" + cursor, token: tok})
			for _, it := range l.items() {
				ids[it["townId"].(string)+"/"+it["name"].(string)] = it["id"].(string)
			}
			if cursor = l.str("nextCursor"); cursor == "" {
				break
			}
		}
		return ids, e
	}
	first, e := run1()
	second, _ := run1()
	if len(first) != 10+602 {
		t.Fatalf("%d towns and villages", len(first))
	}
	for k, id := range first {
		if second[k] != id {
			t.Fatalf("%s is %s in one run and %s in the other", k, id, second[k])
		}
	}
	tok := e.login(t, "13900000000", testPassword)
	cps := e.do(t, req{method: "GET", path: "/api/v1/campaigns", token: tok}).items()
	if len(cps) != 1 {
		t.Fatalf("campaigns: %v", cps)
	}
	cp := cps[0]["id"].(string)
	rank := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + cp + "/ranking", token: tok})
	if rank.json["evaluated"] != float64(602) || rank.json["candidates"] != float64(90) {
		t.Fatalf("ranking: %v evaluated, %v candidates", rank.json["evaluated"], rank.json["candidates"])
	}
	nameOf := map[string]string{}
	for k, id := range first {
		if _, name, ok := strings.Cut(k, "/"); ok {
			nameOf[id] = name
		}
	}
	var districtNames []string
	var selected []string
	for _, lv := range []struct {
		level string
		n     int
	}{{"district", 25}, {"town", 20}} {
		l := e.do(t, req{method: "GET", path: "/api/v1/campaigns/" + cp + "/selections?limit=500&level=" + lv.level, token: tok}).items()
		if len(l) != lv.n {
			t.Fatalf("%d %s-level selections", len(l), lv.level)
		}
		for _, s := range l {
			selected = append(selected, s["villageId"].(string))
			if lv.level == "district" {
				districtNames = append(districtNames, nameOf[s["villageId"].(string)])
			}
		}
	}
	for _, n := range []string{"西王居委会", "王家居委会", "肖家村", "郭集居委会", "于家胡同村", "东玉村", "东小高村", "张八棍村", "张蒋村", "双眼井村", "大王村", "大营刘村", "侯家园子村", "杨沟朱村"} {
		if !slices.Contains(districtNames, n) {
			t.Errorf("%s is not a district-level village: %v", n, districtNames)
		}
	}
	problems, targets := 0, 0
	for _, v := range selected {
		l := e.do(t, req{method: "GET", path: "/api/v1/villages/" + v + "/ledger", token: tok})
		want(t, l, 200)
		problems += int(l.json["problems"].(map[string]any)["total"].(float64))
		targets += int(l.json["targets"].(map[string]any)["total"].(float64))
	}
	if problems != 79 || targets != 364 {
		t.Fatalf("the ledgers hold %d problems and %d targets, want 79 and 364", problems, targets)
	}
	if u := e.do(t, req{method: "GET", path: "/api/v1/units?limit=500", token: tok}).items(); len(u) != 34 {
		t.Fatalf("%d units", len(u))
	}
}
