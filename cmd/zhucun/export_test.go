package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"zhucun/domain"
)

// TestLedgerExport reads the workbook back: its sheets, a cell that would
// be a formula stored as text, and the summary sheet equal to the API's
// counts; the CSV of a sheet has the same rows, with formula text defused.
func TestLedgerExport(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	admin := f.tokens[domain.RoleAdmin]
	evil := "=HYPERLINK(\"http://evil.example\",\"点我\")"
	want(t, e.do(t, req{method: "POST", path: "/api/v1/villages/" + f.villA1 + "/problems", token: admin,
		body: map[string]any{"aspect": "disunity", "description": evil, "source": "evaluation"}}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: admin, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"villageId": f.villA1, "identifiedAt": e.clock.Now().Add(-time.Hour), "category": "land", "description": "@SUM(1+1)"}}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/funds", token: admin, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"villageId": f.villA2, "amountFen": 12345600, "source": "区财政", "purpose": "道路", "receivedOn": e.clock.Now().Format(time.DateOnly)}}), 201)
	want(t, e.do(t, req{method: "POST", path: "/api/v1/reports", token: admin, body: map[string]any{"id": domain.NewID(e.clock.Now()),
		"kind": "visit", "villageId": f.villA1, "occurredAt": e.clock.Now().Add(-time.Hour), "visitee": "household", "count": 7}}), 201)
	year := e.clock.Now().Format("2006")
	q := "period=" + year + "&townId=" + f.townA
	r := e.do(t, req{method: "GET", path: "/api/v1/exports/ledger.xlsx?" + q, token: admin})
	want(t, r, 200)
	if dir := os.Getenv("ZHUCUN_KEEP_LEDGER"); dir != "" { // to look at it in a spreadsheet program
		_ = os.WriteFile(filepath.Join(dir, "ledger.xlsx"), r.body, 0o644)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer wb.Close()
	if got := wb.GetSheetList(); strings.Join(got, ",") != "村居,问题清单,目标任务,矛盾纠纷,工程项目,帮扶资金,汇总" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := wb.GetRows("问题清单")
	if len(rows) != 2 || rows[1][2] != evil {
		t.Fatalf("problems sheet: %v", rows)
	}
	if f, _ := wb.GetCellFormula("问题清单", "C2"); f != "" {
		t.Fatalf("a problem's text became a formula: %q", f)
	}
	if typ, _ := wb.GetCellType("问题清单", "C2"); typ == excelize.CellTypeFormula {
		t.Fatal("C2 is a formula cell")
	}
	villages, _ := wb.GetRows("村居")
	if len(villages) != 3 {
		t.Fatalf("town A's villages: %d rows", len(villages))
	}
	funds, _ := wb.GetRows("帮扶资金")
	if len(funds) != 2 || funds[1][1] != "123456" {
		t.Fatalf("funds: %v", funds)
	}
	sum := e.summary(t, admin, "scope=town&id="+f.townA+"&period="+year)
	summary, _ := wb.GetRows("汇总")
	for i, name := range domain.MetricNames {
		row := summary[i+1]
		if row[0] != domain.MetricTitles[name] {
			t.Fatalf("summary row %d is %q, want %q", i, row[0], domain.MetricTitles[name])
		}
		if name == "onpost_rate" {
			continue
		}
		want := metric(sum, name)
		got, _ := strconv.ParseFloat(row[1], 64)
		if strings.HasSuffix(name, "_fen") {
			got *= 100
		}
		if int64(got) != want {
			t.Errorf("summary %s: workbook %s, API %d", name, row[1], want)
		}
	}

	c := e.do(t, req{method: "GET", path: "/api/v1/exports/disputes.csv?" + q, token: admin})
	want(t, c, 200)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(c.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][4] != "'@SUM(1+1)" {
		t.Fatalf("disputes.csv: %v %v", recs, err)
	}
	want(t, e.do(t, req{method: "GET", path: "/api/v1/exports/nope.csv?" + q, token: admin}), 404)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/exports/summary.csv?period=" + year, token: f.tokens[domain.RoleTownAdmin]}), 422)
	want(t, e.do(t, req{method: "GET", path: "/api/v1/exports/ledger.xlsx?" + q, token: f.tokens[domain.RoleCadre]}), 403)
}
