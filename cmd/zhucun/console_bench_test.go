package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"zhucun/domain"
)

// BenchmarkConsolePages measures 总览 and a town's page server-side on the
// demo district (602 villages, 45 in the round, March–June's records),
// each rendered whole through the app, and reports the p95 beside the
// mean. bench/field measures the same pages at 1M records.
func BenchmarkConsolePages(b *testing.B) {
	if !onEmbedded() {
		b.Skip("the demo runs on the embedded store")
	}
	ctx := context.Background()
	_, clk, bt, st := demoDistrict(b, map[string]string{"ZHUCUN_SECOND_FACTOR_ROLES": "none"})
	e := &env{api: bt.api, store: st.db, clock: clk, logs: &bytes.Buffer{}}
	br := newBrowser(b, e)
	br.signIn("13900000000", testPassword, "")
	towns, err := bt.svc.Org.ListTowns(ctx, domain.System("bench"), domain.TownFilter{}, domain.Page{Limit: 20})
	if err != nil {
		b.Fatal(err)
	}
	const q = "?kind=custom&from=2026-03-01&to=2026-06-30"
	for _, pg := range []struct{ name, path string }{
		{"overview", "/" + q},
		{"overview-quarter", "/?kind=quarter&quarter=2026Q2"},
		{"town", "/towns/" + towns.Items[0].ID + q},
	} {
		b.Run(pg.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if p := br.get(pg.path); p.status != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, p.status)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
