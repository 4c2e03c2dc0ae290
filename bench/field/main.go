// Command field benchmarks zhucun's field reporting the way phones use it,
// against the real server binary on the embedded store:
//
//	go build -o /tmp/zhucun ./cmd/zhucun
//	go run ./bench/field -zhucun /tmp/zhucun -records 100000,1000000
//
// It loads a data set of reports over 602 villages in 10 towns straight into
// the store, starts `zhucun serve` on it, and measures, with 16 cadres as
// clients: a village's 50 newest reports (p50/p95), submit throughput and
// latency (p50/p99), and one 500-item sync; beside the raw driver's
// insertOne rate on the same kind of store in the same run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	gomongo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zhucun/domain"
	"zhucun/passwd"
	"zhucun/storage/embedded"
	"zhucun/storage/mongo"
)

const (
	towns     = 10
	villages  = 602
	password  = "bench-pass-1"
	adminTel  = "13900000000"
	cadreBase = 13800000000
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options_ struct {
	bin      string
	dir      string
	sizes    []int
	clients  int
	duration time.Duration
}

func run() error {
	var o options_
	var sizes string
	flag.StringVar(&o.bin, "zhucun", "", "the zhucun binary (go build -o /tmp/zhucun ./cmd/zhucun)")
	flag.StringVar(&o.dir, "dir", "", "data directory (default: a new temporary one)")
	flag.StringVar(&sizes, "records", "100000,1000000", "data set sizes to measure at, ascending")
	flag.IntVar(&o.clients, "clients", 16, "concurrent submitting clients")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long to submit")
	flag.Parse()
	if o.bin == "" {
		return errors.New("-zhucun is required")
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-records: %w", err)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "zhucun-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	ctx := context.Background()

	raw, err := rawInsertRate(ctx, o.clients)
	if err != nil {
		return err
	}
	fmt.Printf("raw driver insertOne, %d goroutines, embedded FerretDB (SQLite): %.0f inserts/s\n\n", o.clients, raw)

	loaded := 0
	var org *orgSet
	fmt.Println("| records | village's 50 newest p50 / p95 | submits/s (16 clients) | submit p50 / p99 | 500-item sync |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, n := range o.sizes {
		start := time.Now()
		org, err = load(ctx, o.dir, org, loaded, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "loaded %d records in %v\n", n-loaded, time.Since(start).Round(time.Millisecond))
		loaded = n
		res, err := measure(o, org)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %s / %s | %.0f | %s / %s | %s |\n", n, ms(res.listP50), ms(res.listP95), res.submitRate,
			ms(res.submitP50), ms(res.submitP99), ms(res.sync500))
		loaded += res.submitted + 500
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// rawInsertRate measures insertOne from n goroutines on a fresh embedded store.
func rawInsertRate(ctx context.Context, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "zhucun-raw-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		return 0, err
	}
	defer srv.Stop(10 * time.Second)
	c, err := gomongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		return 0, err
	}
	defer c.Disconnect(ctx)
	col := c.Database("raw").Collection("reports")
	const total = 10000
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				_, _ = col.InsertOne(ctx, bson.D{{Key: "_id", Value: domain.NewID(time.Now())}, {Key: "n", Value: i}, {Key: "kind", Value: "visit"}, {Key: "notes", Value: "走访群众"}})
			}
		}()
	}
	wg.Wait()
	return total / time.Since(start).Seconds(), nil
}

// orgSet is the generated org: villages and the 16 cadres' villages.
type orgSet struct {
	villages []domain.Village
	cadres   []string // phones
	cadreVil []string // village of each cadre
}

// load opens the store in dir, creates the org on first use, and adds
// records up to total.
func load(ctx context.Context, dir string, org *orgSet, have, total int) (*orgSet, error) {
	srv, err := embedded.Start(ctx, embedded.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		return nil, err
	}
	defer srv.Stop(30 * time.Second)
	st, err := mongo.Open(ctx, srv.URI(), "zhucun", mongo.Options{Timeout: time.Minute})
	if err != nil {
		return nil, err
	}
	defer st.Close(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	if org == nil {
		org = &orgSet{}
		var townIDs []string
		for i := range towns {
			t := domain.Town{ID: domain.NewID(now), Name: fmt.Sprintf("镇%02d", i), CreatedAt: now, UpdatedAt: now}
			if err := st.InsertTown(ctx, t); err != nil {
				return nil, err
			}
			townIDs = append(townIDs, t.ID)
		}
		for i := range villages {
			v := domain.Village{ID: domain.NewID(now), Name: fmt.Sprintf("村%03d", i), TownID: townIDs[i%towns], Kind: domain.KindVillage, CreatedAt: now, UpdatedAt: now}
			if err := st.InsertVillage(ctx, v); err != nil {
				return nil, err
			}
			org.villages = append(org.villages, v)
		}
		clock := func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
		users := domain.UserService{Store: st, Org: st, Teams: st, Hasher: passwd.Default(), Audit: domain.Auditor{Store: st, Now: clock}, Now: clock}
		if _, err := users.EnsureAdmin(ctx, adminTel, password); err != nil {
			return nil, err
		}
		for i := range 16 {
			phone := strconv.Itoa(cadreBase + i)
			v := org.villages[i*37%villages]
			if _, err := users.Create(ctx, domain.System("bench"), domain.UserInput{Name: "干部" + phone[7:], Phone: phone, Password: password,
				Role: domain.RoleCadre, VillageIDs: []string{v.ID}}); err != nil {
				return nil, err
			}
			org.cadres, org.cadreVil = append(org.cadres, phone), append(org.cadreVil, v.ID)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(have), 42))
	kinds := []string{domain.KindVisit, domain.KindMeeting, domain.KindWorkLog, domain.KindCheckin}
	yearAgo := now.AddDate(-1, 0, 0)
	per := (total - have) / villages
	extra := (total - have) % villages
	for vi, v := range org.villages {
		k := per
		if vi < extra {
			k++
		}
		for k > 0 {
			chunk := min(k, 2000)
			rs := make([]domain.Record, chunk)
			for i := range rs {
				at := yearAgo.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond)
				kind := kinds[rng.IntN(len(kinds))]
				p := &domain.Report{Kind: kind, OccurredAt: at, Notes: "生成的测试记录"}
				switch kind {
				case domain.KindVisit:
					p.Visitee, p.Count = "household", 1+rng.IntN(5)
				case domain.KindMeeting:
					p.MeetingType, p.Attendees = "two_committees", 5+rng.IntN(5)
				case domain.KindWorkLog:
					p.Text = "民情日记"
				case domain.KindCheckin:
					p.Location = &domain.Location{Lat: 37.38, Lng: 117.97}
				}
				r := domain.Record{ID: domain.NewID(at), Type: domain.TypeReport, VillageID: v.ID, TownID: v.TownID, CreatedBy: "bench",
					CreatedAt: now, UpdatedAt: now, Version: 1, At: at, Report: p}
				r.Hash = r.Fingerprint()
				r.CreateHash = r.Hash
				rs[i] = r
			}
			if err := st.BulkLoadRecords(ctx, v.ID, rs); err != nil {
				return nil, err
			}
			k -= chunk
		}
	}
	return org, nil
}

type result struct {
	listP50, listP95     time.Duration
	submitRate           float64
	submitP50, submitP99 time.Duration
	sync500              time.Duration
	submitted            int
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func measure(o options_, org *orgSet) (result, error) {
	var res result
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(o.bin, "serve")
	cmd.Env = append(os.Environ(), "ZHUCUN_DATA_DIR="+o.dir, "ZHUCUN_ADDR="+addr, "ZHUCUN_LOG_LEVEL=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://" + addr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		r, err := hc.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return res, errors.New("server not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tokens := make([]string, len(org.cadres))
	for i, phone := range org.cadres {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := call(hc, "POST", base+"/api/v1/auth/login", "", map[string]any{"phone": phone, "password": password}, &tok); err != nil {
			return res, err
		}
		tokens[i] = tok.AccessToken
	}

	// A village's 50 newest reports, for 200 villages picked at random (the
	// cadres' own villages also hold what earlier submit rounds added).
	var admin struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(hc, "POST", base+"/api/v1/auth/login", "", map[string]any{"phone": adminTel, "password": password}, &admin); err != nil {
		return res, err
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var lat []time.Duration
	for range 200 {
		v := org.villages[rng.IntN(len(org.villages))].ID
		start := time.Now()
		if err := call(hc, "GET", base+"/api/v1/reports?limit=50&villageId="+v, admin.AccessToken, nil, nil); err != nil {
			return res, err
		}
		lat = append(lat, time.Since(start))
	}
	res.listP50, res.listP95 = pct(lat, 50), pct(lat, 95)

	// Submits from o.clients cadres at once.
	var mu sync.Mutex
	lat = nil
	var wg sync.WaitGroup
	var failed atomic.Int64
	stop := time.Now().Add(o.duration)
	start := time.Now()
	for c := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			tok, vil := tokens[c%len(tokens)], org.cadreVil[c%len(tokens)]
			for time.Now().Before(stop) {
				body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": vil,
					"occurredAt": time.Now().Add(-time.Minute).Format(time.RFC3339), "visitee": "household", "count": 2, "notes": "走访"}
				t0 := time.Now()
				if err := call(hc, "POST", base+"/api/v1/reports", tok, body, nil); err != nil {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		return res, fmt.Errorf("%d submits failed", failed.Load())
	}
	res.submitted = len(lat)
	res.submitRate = float64(len(lat)) / elapsed.Seconds()
	res.submitP50, res.submitP99 = pct(lat, 50), pct(lat, 99)

	// One 500-item sync.
	items := make([]map[string]any, 500)
	for i := range items {
		items[i] = map[string]any{"type": "report", "op": "create", "data": map[string]any{"id": domain.NewID(time.Now()), "kind": "work_log",
			"villageId": org.cadreVil[0], "occurredAt": time.Now().Add(-time.Hour).Format(time.RFC3339), "text": "离线日记"}}
	}
	t0 := time.Now()
	var out struct {
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := call(hc, "POST", base+"/api/v1/sync", tokens[0], map[string]any{"items": items}, &out); err != nil {
		return res, err
	}
	res.sync500 = time.Since(t0)
	for _, r := range out.Results {
		if r.Status != "created" {
			return res, fmt.Errorf("sync item: %s", r.Status)
		}
	}
	return res, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func call(hc *http.Client, method, url, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
