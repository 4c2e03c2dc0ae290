package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
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
	vars := map[string]string{"ZHUCUN_DATA_DIR": b.TempDir(), "ZHUCUN_ADMIN_PHONE": "13900000000", "ZHUCUN_ADMIN_PASSWORD": testPassword,
		"ZHUCUN_SECOND_FACTOR_ROLES": "none", "ZHUCUN_LOG_LEVEL": "error"}
	getenv := func(k string) string { return vars[k] }
	if err := demoCmd(ctx, nil, getenv, io.Discard, io.Discard, passwd.Fast()); err != nil {
		b.Fatal(err)
	}
	cfg, err := parseConfig(newFlagSet(), nil, getenv)
	if err != nil {
		b.Fatal(err)
	}
	st, err := openStores(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.close(ctx) })
	clk := &clock{now: time.Now().UTC()}
	bt, err := build(cfg, deps{store: st.db, now: clk.Now, hasher: passwd.Fast(), log: slog.New(slog.DiscardHandler),
		secret: []byte("test-secret-test-secret-test-secret!"), sealer: st.sealer,
		phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy, blobs: st.blobs})
	if err != nil {
		b.Fatal(err)
	}
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
