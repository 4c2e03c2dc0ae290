package api

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// latencyBuckets are the histogram's upper bounds in seconds.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type metricKey struct {
	method, route string
	status        int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// metrics counts requests and their latency by route and status, and
// writes them in the Prometheus text exposition format.
type metrics struct {
	mu    sync.Mutex
	start time.Time
	hist  map[metricKey]*histogram
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), hist: map[metricKey]*histogram{}}
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := metricKey{method, route, status}
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hist[k]
	if !ok {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.hist[k] = h
	}
	i, _ := slices.BinarySearch(latencyBuckets, sec)
	h.counts[i]++
	h.sum += sec
	h.count++
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]metricKey, 0, len(m.hist))
	for k := range m.hist {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b metricKey) int {
		if a.route != b.route {
			return strings.Compare(a.route, b.route)
		}
		if a.method != b.method {
			return strings.Compare(a.method, b.method)
		}
		return a.status - b.status
	})
	fmt.Fprintln(w, "# HELP zhucun_http_requests_total HTTP requests by method, route and status.")
	fmt.Fprintln(w, "# TYPE zhucun_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "zhucun_http_requests_total{%s} %d\n", labels(k), m.hist[k].count)
	}
	fmt.Fprintln(w, "# HELP zhucun_http_request_duration_seconds HTTP request latency by method, route and status.")
	fmt.Fprintln(w, "# TYPE zhucun_http_request_duration_seconds histogram")
	for _, k := range keys {
		h := m.hist[k]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "zhucun_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels(k), strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "zhucun_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels(k), h.count)
		fmt.Fprintf(w, "zhucun_http_request_duration_seconds_sum{%s} %s\n", labels(k), strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "zhucun_http_request_duration_seconds_count{%s} %d\n", labels(k), h.count)
	}
	fmt.Fprintln(w, "# HELP zhucun_process_start_time_seconds Start time of the process since the Unix epoch.")
	fmt.Fprintln(w, "# TYPE zhucun_process_start_time_seconds gauge")
	fmt.Fprintf(w, "zhucun_process_start_time_seconds %d\n", m.start.Unix())
}

func labels(k metricKey) string {
	return fmt.Sprintf("method=%q,route=%q,status=\"%d\"", k.method, k.route, k.status)
}

func (s *server) metricsHandler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(c.Response().BodyWriter())
	return nil
}
