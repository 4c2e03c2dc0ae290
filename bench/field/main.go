// Command field benchmarks zhucun's field reporting and its counts the way
// phones and leaders use them, against the real server binary:
//
//	go build -o /tmp/zhucun ./cmd/zhucun
//	go run ./bench/field -zhucun /tmp/zhucun -records 100000,1000000
//	go run ./bench/field -zhucun /tmp/zhucun -records 1000000 -pg postgres://postgres@127.0.0.1:5432/ferretdb
//
// It loads a data set of reports over 602 villages in 10 towns and a year
// straight into the store (the embedded SQLite one, or FerretDB on the
// PostgreSQL given by -pg), has `zhucun stats rebuild` count them, starts
// `zhucun serve` on it, and measures: a village's 50 newest reports
// (p50/p95); summaries of the district, a town and a village for a month, a
// quarter and a custom 200-day range, and the village table of a town
// (p50/p95); the console's 总览 and a town's page, rendered whole
// (p50/p95); how soon a summary shows a submit; submit throughput and
// latency with 16 cadres (p50/p99); and one 500-item sync; beside the raw
// driver's insertOne rate on the embedded store in the same run.
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
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"zhucun/storage/sqlite"
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
	stats    bool // count and measure the counts (off for a binary from before them)
	bin      string
	dir      string
	pg       string // FerretDB on this PostgreSQL instead of SQLite
	uri      string // the FerretDB the server uses when pg is set
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
	flag.BoolVar(&o.stats, "stats", true, "count the records and measure the counts (false for a zhucun from before them)")
	flag.StringVar(&o.pg, "pg", "", "PostgreSQL URL: measure FerretDB on PostgreSQL instead of the embedded SQLite store")
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
	if o.pg != "" {
		srv, err := embedded.Start(ctx, embedded.Config{PostgreSQLURL: o.pg})
		if err != nil {
			return err
		}
		defer srv.Stop(30 * time.Second)
		o.uri = srv.URI()
	}

	if o.pg != "" {
		raw, err := rawInsertRate(ctx, o.clients)
		if err != nil {
			return err
		}
		fmt.Printf("raw driver insertOne, %d goroutines, embedded FerretDB (SQLite): %.0f inserts/s\n\n", o.clients, raw)
	}

	loaded := 0
	var err error
	var org *orgSet
	var results []result
	for _, n := range o.sizes {
		start := time.Now()
		org, err = load(ctx, o, org, loaded, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "loaded %d records in %v\n", n-loaded, time.Since(start).Round(time.Millisecond))
		loaded = n
		start = time.Now()
		if o.stats {
			if err := o.zhucun("stats", "rebuild").Run(); err != nil {
				return fmt.Errorf("stats rebuild: %w", err)
			}
		}
		rebuild := time.Since(start)
		fmt.Fprintf(os.Stderr, "counted them in %v\n", rebuild.Round(time.Millisecond))
		res, err := measure(o, org)
		if err != nil {
			return err
		}
		res.records, res.rebuild = n, rebuild
		results = append(results, res)
		loaded += res.submitted + 500
	}
	fmt.Println("| records | village's 50 newest p50 / p95 | submits/s (16 clients) | submit p50 / p99 | 500-item sync |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, res := range results {
		fmt.Printf("| %d | %s / %s | %.0f | %s / %s | %s |\n", res.records, ms(res.listP50), ms(res.listP95), res.submitRate,
			ms(res.submitP50), ms(res.submitP99), ms(res.sync500))
	}
	if !o.stats {
		return nil
	}
	fmt.Println()
	fmt.Println("| records | summary | month p50 / p95 | quarter p50 / p95 | 200 days p50 / p95 |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, res := range results {
		for _, sc := range []string{"district", "town", "village"} {
			l := res.summaries[sc]
			fmt.Printf("| %d | %s | %s / %s | %s / %s | %s / %s |\n", res.records, sc, ms(pct(l["month"], 50)), ms(pct(l["month"], 95)),
				ms(pct(l["quarter"], 50)), ms(pct(l["quarter"], 95)), ms(pct(l["custom"], 50)), ms(pct(l["custom"], 95)))
		}
	}
	fmt.Println()
	fmt.Println("| records | recount (stats rebuild) | village table of a town: first / p50 / p95 | a submit shows in a summary after |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, res := range results {
		fmt.Printf("| %d | %v | %s / %s / %s | %s |\n", res.records, res.rebuild.Round(100*time.Millisecond), ms(res.tableFirst),
			ms(pct(res.table, 50)), ms(pct(res.table, 95)), ms(res.fresh))
	}
	fmt.Println()
	fmt.Println("| records | console page (rendered whole) | p50 / p95 |")
	fmt.Println("| --- | --- | --- |")
	for _, res := range results {
		for _, name := range []string{"总览 (this quarter)", "总览 (this year)", "a town (this year)"} {
			fmt.Printf("| %d | %s | %s / %s |\n", res.records, name, ms(pct(res.pages[name], 50)), ms(pct(res.pages[name], 95)))
		}
	}
	return nil
}

// zhucun is the binary with the store's settings.
func (o options_) zhucun(args ...string) *exec.Cmd {
	cmd := exec.Command(o.bin, args...)
	// The benchmark signs in with passwords alone.
	cmd.Env = append(os.Environ(), "ZHUCUN_DATA_DIR="+o.dir, "ZHUCUN_LOG_LEVEL=error", "ZHUCUN_SECOND_FACTOR_ROLES=none")
	if o.uri != "" {
		cmd.Env = append(cmd.Env, "ZHUCUN_MONGO_URI="+o.uri)
	}
	cmd.Stderr = os.Stderr
	return cmd
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
func load(ctx context.Context, o options_, org *orgSet, have, total int) (*orgSet, error) {
	var st benchStore
	var err error
	if o.uri == "" {
		st, err = sqlite.Open(ctx, filepath.Join(o.dir, "sqlite"), sqlite.Options{Timeout: time.Minute})
	} else {
		st, err = mongo.Open(ctx, o.uri, "zhucun", mongo.Options{Timeout: time.Minute})
	}
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
			if err := bulkLoad(ctx, st, rs); err != nil {
				return nil, err
			}
			k -= chunk
		}
	}
	return org, nil
}

// benchStore is what loading needs of a store.
type benchStore interface {
	domain.OrgStore
	domain.UserStore
	domain.TeamStore
	domain.AuditStore
	domain.RecordStore
	Close(ctx context.Context) error
}

// bulkLoad writes records as the API would (with their count deltas, no
// audit entries), 32 at a time: the SQLite store group-commits them, the
// MongoDB store applies their counts in batches.
func bulkLoad(ctx context.Context, st benchStore, rs []domain.Record) error {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	next := atomic.Int64{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(rs) {
					return
				}
				if _, err := st.CreateRecord(ctx, domain.RecordWrite{Record: rs[i], Delta: domain.StatDelta(nil, rs[i], loc)}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

type result struct {
	records              int
	rebuild              time.Duration
	summaries            map[string]map[string][]time.Duration // scope → period kind → latencies
	tableFirst, fresh    time.Duration
	pages                map[string][]time.Duration // the console's pages, whole
	table                []time.Duration
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
	cmd := o.zhucun("serve")
	cmd.Env = append(cmd.Env, "ZHUCUN_ADDR="+addr)
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		// The server's peak resident memory (Linux), then stop it.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					fmt.Fprintf(os.Stderr, "server peak memory: %s\n", strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")))
				}
			}
		}
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		r, err := hc.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				fmt.Fprintf(os.Stderr, "server ready in %v\n", time.Since(started).Round(10*time.Millisecond))
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
	if o.stats {
		if err := measureStats(hc, base, admin.AccessToken, org, &res); err != nil {
			return res, err
		}
		if err := measurePages(base, org, &res); err != nil {
			return res, err
		}
	}

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
	if !o.stats {
		return res, nil
	}
	// How soon a summary shows a submit.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	q := base + "/api/v1/stats/summary?scope=village&id=" + org.cadreVil[0] + "&from=" + today + "&to=" + today
	var before summary
	if err := call(hc, "GET", q, tokens[0], nil, &before); err != nil {
		return res, err
	}
	t0 = time.Now()
	body := map[string]any{"id": domain.NewID(time.Now()), "kind": "visit", "villageId": org.cadreVil[0],
		"occurredAt": time.Now().Add(-time.Minute).Format(time.RFC3339), "visitee": "household", "count": 3}
	if err := call(hc, "POST", base+"/api/v1/reports", tokens[0], body, nil); err != nil {
		return res, err
	}
	for {
		var after summary
		if err := call(hc, "GET", q, tokens[0], nil, &after); err != nil {
			return res, err
		}
		if after.Metrics["households_visited"] == before.Metrics["households_visited"]+3 {
			res.fresh = time.Since(t0)
			break
		}
		if time.Since(t0) > 10*time.Second {
			return res, errors.New("a submit did not show in the summary within 10 s")
		}
	}
	for _, r := range out.Results {
		if r.Status != "created" {
			return res, fmt.Errorf("sync item: %s", r.Status)
		}
	}
	return res, nil
}

type summary struct {
	Metrics map[string]float64 `json:"metrics"`
}

// measureStats times summaries (district, town, village × month, quarter,
// a custom 200-day range) and the village table of a town.
func measureStats(hc *http.Client, base, token string, org *orgSet, res *result) error {
	rng := rand.New(rand.NewPCG(2, 2))
	loc := time.FixedZone("CST", 8*3600)
	now := time.Now().In(loc)
	var towns []string
	seen := map[string]bool{}
	for _, v := range org.villages {
		if !seen[v.TownID] {
			seen[v.TownID] = true
			towns = append(towns, v.TownID)
		}
	}
	res.summaries = map[string]map[string][]time.Duration{}
	for _, sc := range []string{"district", "town", "village"} {
		res.summaries[sc] = map[string][]time.Duration{}
		for _, kind := range []string{"month", "quarter", "custom"} {
			for range 100 {
				back := now.AddDate(0, -rng.IntN(11), 0)
				var p string
				switch kind {
				case "month":
					p = "period=" + back.Format("200601")
				case "quarter":
					p = fmt.Sprintf("period=%dQ%d", back.Year(), (int(back.Month())+2)/3)
				default:
					from := now.AddDate(0, 0, -200-rng.IntN(150))
					p = "from=" + from.Format(time.DateOnly) + "&to=" + from.AddDate(0, 0, 199).Format(time.DateOnly)
				}
				q := "scope=" + sc
				switch sc {
				case "town":
					q += "&id=" + towns[rng.IntN(len(towns))]
				case "village":
					q += "&id=" + org.villages[rng.IntN(len(org.villages))].ID
				}
				t0 := time.Now()
				var s summary
				if err := call(hc, "GET", base+"/api/v1/stats/summary?"+q+"&"+p, token, nil, &s); err != nil {
					return err
				}
				res.summaries[sc][kind] = append(res.summaries[sc][kind], time.Since(t0))
			}
		}
	}
	for i := range 11 {
		t0 := time.Now()
		if err := call(hc, "GET", base+"/api/v1/stats/villages?period="+now.Format("2006")+"&townId="+towns[i%len(towns)], token, nil, nil); err != nil {
			return err
		}
		if i == 0 {
			res.tableFirst = time.Since(t0)
		} else {
			res.table = append(res.table, time.Since(t0))
		}
	}
	return nil
}

// measurePages signs in to the console with its form, as a browser does,
// and times 总览 and a town's page, each rendered whole, 50 times.
func measurePages(base string, org *orgSet, res *result) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Jar: jar}
	get := func(path string) (string, error) {
		r, err := hc.Get(base + path)
		if err != nil {
			return "", err
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 {
			return "", fmt.Errorf("GET %s: %d", path, r.StatusCode)
		}
		return string(b), nil
	}
	login, err := get("/login")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if m == nil {
		return errors.New("no CSRF token on the sign-in page")
	}
	r, err := hc.PostForm(base+"/login", url.Values{"_csrf": {m[1]}, "phone": {adminTel}, "password": {password}})
	if err != nil {
		return err
	}
	r.Body.Close()
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	quarter := fmt.Sprintf("%dQ%d", now.Year(), (int(now.Month())+2)/3)
	res.pages = map[string][]time.Duration{}
	for name, path := range map[string]string{
		"总览 (this quarter)":  "/?kind=quarter&quarter=" + quarter,
		"总览 (this year)":     "/?kind=year&year=" + now.Format("2006"),
		"a town (this year)": "/towns/" + org.villages[0].TownID + "?kind=year&year=" + now.Format("2006"),
	} {
		for range 50 {
			t0 := time.Now()
			if _, err := get(path); err != nil {
				return err
			}
			res.pages[name] = append(res.pages[name], time.Since(t0))
		}
	}
	return nil
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
