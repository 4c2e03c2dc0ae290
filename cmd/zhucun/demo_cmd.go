package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"zhucun/demo"
	"zhucun/domain"
)

// demoEpoch is the demo's clock at its start: the round's first day. The
// clock moves a millisecond a call, so every run stamps the same times.
var demoEpoch = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// demoSeed seeds the demo's ids.
const demoSeed = "zhucun demo: 滨城区第三轮薄弱村集中整顿攻坚"

// errDemoBuilt refuses a demo into a data directory that holds accounts.
var errDemoBuilt = errors.New("the data directory already holds accounts: zhucun demo fills an empty one (use a new ZHUCUN_DATA_DIR)")

// demoCmd runs 'zhucun demo': it builds the source report's district into
// an empty data directory through the domain services, and prints the
// accounts it made with their passwords, once.
func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, hasher domain.PasswordHasher) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	if n, err := st.db.CountUsers(ctx); err != nil {
		return err
	} else if n > 0 {
		return errDemoBuilt
	}
	clock, ids := demo.NewClock(demoEpoch), domain.SeededIDs(demoSeed, demoEpoch)
	b, err := build(cfg, deps{store: st.db, now: clock.Now, hasher: hasher, log: newLogger(cfg, os.Stderr), secret: secret,
		sealer: st.sealer, phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy, blobs: st.blobs, ids: ids})
	if err != nil {
		return err
	}
	// The work is stamped in the campaign's months; the accounts now, so
	// that their passwords are not already past their age.
	users := b.users
	users.Now = func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	start := time.Now()
	d, err := demo.Build(ctx, demo.Services{Org: b.svc.Org, Users: users, Campaigns: b.svc.Campaigns, Ledger: b.svc.Ledger, Teams: b.svc.Teams,
		Field: b.svc.Field, Photos: b.svc.Photos, Reviews: b.svc.Reviews, Approvals: b.svc.Approvals, Assessments: b.svc.Assessments,
		FieldChecks: b.svc.FieldChecks},
		demo.Options{AdminPhone: cfg.AdminPhone, AdminPassword: cfg.AdminPassword, Password: demoPassword, Clock: clock, IDs: ids})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "the demo district is built in %s (%.1f s):\n", cfg.DataDir, time.Since(start).Seconds())
	fmt.Fprintf(stdout, "  %d towns, %d villages; the round %s: %d selections (%d district, %d town level); %d problems, %d targets, %d units\n",
		len(d.Towns), len(d.Villages), d.Campaign.Name, len(d.Selections), demo.NumDistrict, demo.NumTown, d.Problems, d.Targets, len(d.Units))
	fmt.Fprintf(stdout, "  %d teams of %d people; %d field records and %d photos of March–June 2026, reviewed, March approved, the half-year assessed\n",
		len(d.Teams), demo.NumPeople, d.Records, d.Photos)
	fmt.Fprintln(stdout, "accounts (shown this once; each chooses its own password at first sign-in, and the administrators and leaders enrol a second factor):")
	for _, a := range d.Accounts {
		fmt.Fprintf(stdout, "  %-12s %-14s %s  %s\n", a.Role, a.Name, a.Phone, a.Password)
	}
	return nil
}

// demoPassword makes a password of the policy's four classes.
func demoPassword() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "Zc-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:12]) + "-7"
}
