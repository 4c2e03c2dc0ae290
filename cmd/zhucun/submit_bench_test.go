package main

import (
	"testing"
	"time"

	"zhucun/domain"
)

// BenchmarkSubmitReport measures creating reports in-process (no network,
// no check of the answers against openapi.yaml: the server alone):
// go test ./cmd/zhucun -run '^$' -bench SubmitReport -cpu 16
func BenchmarkSubmitReport(b *testing.B) { benchSubmit(b, nil) }

// BenchmarkSubmitReportWithNames is BenchmarkSubmitReport with the names
// of the households visited, the personal fields sealed at rest.
func BenchmarkSubmitReportWithNames(b *testing.B) {
	benchSubmit(b, map[string]any{"names": []string{"张三丰", "李四光"}})
}

// benchSubmit creates visit reports in parallel, with extra fields in each.
func benchSubmit(b *testing.B, extra map[string]any) {
	e := newEnv(b)
	f := e.fixture(b)
	tok := f.tokens[domain.RoleCadre]
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": f.villA1, "occurredAt": at, "visitee": "household", "count": 2}
			for k, v := range extra {
				body[k] = v
			}
			if r := e.send(b, req{method: "POST", path: "/api/v1/reports", token: tok, body: body}, false); r.status != 201 {
				b.Fatalf("status %d", r.status)
			}
		}
	})
}
