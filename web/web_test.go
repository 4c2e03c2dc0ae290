package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestReadPeriod(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		query, from, to, label string
		bad                    bool
	}{
		{"", "2026-01-01", "2026-12-31", "2026年", false},
		{"kind=week&week=2026-W10", "2026-03-02", "2026-03-08", "2026-03-02 至 2026-03-08", false},
		{"kind=month&month=2026-04", "2026-04-01", "2026-04-30", "2026年4月", false},
		{"kind=quarter&quarter=2026Q2", "2026-04-01", "2026-06-30", "2026年第2季度", false},
		{"kind=half&half=2026S1", "2026-01-01", "2026-06-30", "2026年上半年", false},
		{"kind=year&year=2025", "2025-01-01", "2025-12-31", "2025年", false},
		{"kind=custom&from=2026-03-01&to=2026-06-30", "2026-03-01", "2026-06-30", "2026-03-01 至 2026-06-30", false},
		// Bad input falls back to this year, and says so.
		{"kind=month&month=2026-13", "2026-01-01", "2026-12-31", "2026年", true},
		{"kind=custom&from=2026-06-30&to=2026-03-01", "2026-01-01", "2026-12-31", "2026年", true},
	} {
		q, _ := url.ParseQuery(c.query)
		p := readPeriod(q, now, time.UTC)
		if p.Period.From != c.from || p.Period.To != c.to || p.Label != c.label {
			t.Errorf("%q: %s–%s %q, want %s–%s %q", c.query, p.Period.From, p.Period.To, p.Label, c.from, c.to, c.label)
		}
		if c.bad != (p.Error != "") {
			t.Errorf("%q: error %q", c.query, p.Error)
		}
		// The links that keep the period give it back.
		again, _ := url.ParseQuery(string(p.Query()))
		if p2 := readPeriod(again, now, time.UTC); p2.Period != p.Period || p2.Basis != p.Basis {
			t.Errorf("%q: the kept query %q reads as %v", c.query, p.Query(), p2.Period)
		}
	}
}

func TestShow(t *testing.T) {
	for _, c := range []struct {
		m    metric
		v    int64
		want string
	}{
		{metric{}, 1263, "1,263"}, {metric{}, 999, "999"}, {metric{}, 1234567, "1,234,567"}, {metric{}, -1263, "-1,263"},
		{metric{Money: true}, 523_600_000, "523.6"}, {metric{Money: true}, 850_000_000, "850"}, {metric{Money: true}, 1_234_567, "1.23"},
	} {
		if got := show(c.m, c.v); got != c.want {
			t.Errorf("show(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestSessionsIdle(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	s := newSessions(30*time.Minute, func() time.Time { return now })
	w := httptest.NewRecorder()
	sess := s.start(w, nil, true)
	s.update(sess, func(x *session) { x.userID = "u1" })
	ck := w.Result().Cookies()[0]
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", ck)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(ck)
	now = now.Add(29 * time.Minute)
	if got, _ := s.get(req); got != sess {
		t.Fatal("a session used 29 minutes ago is gone")
	}
	now = now.Add(30 * time.Minute) // 30 minutes after the last use
	if got, expired := s.get(req); got != nil || !expired {
		t.Fatalf("an idle session: %v, expired %v", got, expired)
	}
	if got, expired := s.get(req); got != nil || expired {
		t.Fatal("an ended session came back")
	}
}

func TestLocalNextAndOrigin(t *testing.T) {
	for in, want := range map[string]string{"/towns/x?kind=year": "/towns/x?kind=year", "": "/", "https://evil.example/": "/",
		"//evil.example/": "/", "/\\evil.example": "/", "towns": "/"} {
		if got := localNext(in); got != want {
			t.Errorf("localNext(%q) = %q", in, got)
		}
	}
	for origin, ok := range map[string]bool{"": true, "null": true, "http://console.example": true, "http://evil.example": false, "::": false} {
		r := httptest.NewRequest("POST", "http://console.example/feedback", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if sameOrigin(r) != ok {
			t.Errorf("Origin %q: %v", origin, !ok)
		}
	}
}
