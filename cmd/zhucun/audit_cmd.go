package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"zhucun/domain"
)

// auditCmd runs 'zhucun audit verify' and 'zhucun audit prune'.
//
// verify reads the whole audit trail in chain order from its head (where
// prunes left it), checks every entry's seal under the audit key, checks
// that the chain still reaches the anchor the server keeps outside the
// database (DATA_DIR/audit.anchor, so entries cut from the end are found),
// and lists every entry changed, removed or inserted (exit 2 when there is
// one).
//
// prune -before YYYY-MM-DD removes the entries older than that date, at
// least 180 days ago, as one verified segment (nothing when the chain does
// not verify), and audits that it did.
//
// On the embedded store both take the data directory's lock (server
// stopped); on MongoDB verify only reads.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" && args[0] != "prune" {
		return errors.New("usage: zhucun audit verify | zhucun audit prune -before YYYY-MM-DD")
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	before := fs.String("before", "", "prune: remove the entries older than this date (YYYY-MM-DD, at least 180 days ago)")
	cfg, err := parseConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	seal, err := auditSeal(cfg)
	if err != nil {
		return err
	}
	st, err := openStoresWith(ctx, cfg, newLogger(cfg, os.Stderr), storeOpts{readOnly: args[0] == "verify"})
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	if args[0] == "prune" {
		day, err := time.ParseInLocation(time.DateOnly, *before, cfg.TZ)
		if err != nil {
			return fmt.Errorf("-before: %q is not a date YYYY-MM-DD", *before)
		}
		now := func() time.Time { return time.Now().UTC() }
		p := domain.AuditPruner{Store: st.db, Seal: *seal, Audit: domain.Auditor{Store: st.db, Now: now}, Now: now}
		n, err := p.Prune(ctx, domain.System("cli"), day)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "pruned %d audit entries older than %s\n", n, *before)
		return nil
	}
	head, err := st.db.AuditHead(ctx)
	if err != nil {
		return err
	}
	anchor, err := readAnchor(cfg.DataDir)
	if err != nil {
		return err
	}
	v := domain.AuditVerifier{Seal: *seal, Anchor: anchor}
	v.Start(head)
	if err := st.db.AuditChain(ctx, func(e domain.AuditEntry) error {
		if e.Seq == 0 || e.Seq > head.Seq {
			v.Add(e)
		}
		return nil
	}); err != nil {
		return err
	}
	v.End()
	for i, p := range v.Problems {
		if i == 200 {
			fmt.Fprintf(stdout, "… and %d more\n", len(v.Problems)-i)
			break
		}
		if p.ID == "" {
			fmt.Fprintf(stdout, "%s: at place %d: %s\n", p.Kind, p.Seq, p.Detail)
		} else {
			fmt.Fprintf(stdout, "%s: entry %s at place %d: %s\n", p.Kind, p.ID, p.Seq, p.Detail)
		}
	}
	if len(v.Problems) > 0 {
		return fmt.Errorf("the audit trail was tampered with: %d problems in %d entries", len(v.Problems), v.Entries)
	}
	fmt.Fprintf(stdout, "the audit trail is intact: %d entries, every seal checks\n", v.Entries)
	return nil
}

// anchorFile keeps the audit chain's end outside the database.
const anchorFile = "audit.anchor"

// readAnchor reads the anchor; none yet is the zero anchor.
func readAnchor(dir string) (domain.AuditAnchor, error) {
	var a domain.AuditAnchor
	b, err := os.ReadFile(filepath.Join(dir, anchorFile))
	if errors.Is(err, os.ErrNotExist) {
		return a, nil
	} else if err != nil {
		return a, fmt.Errorf("read the audit anchor: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("the audit anchor %s is not readable: %w", filepath.Join(dir, anchorFile), err)
	}
	return a, nil
}

// writeAnchor seals the chain's last entry into the anchor file (written
// whole, then renamed over the old one).
func writeAnchor(ctx context.Context, dir string, store domain.AuditStore, seal domain.AuditSeal, now time.Time) error {
	last, err := store.AuditLast(ctx)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	a := domain.AuditAnchor{Seq: last.Seq, Hash: last.Hash, At: now}
	seal.SealAnchor(&a)
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, anchorFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write the audit anchor: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, anchorFile))
}

// keepAnchor moves the anchor to the chain's end every minute, and once
// more when the server stops.
func keepAnchor(ctx context.Context, dir string, store domain.AuditStore, seal domain.AuditSeal, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := writeAnchor(c, dir, store, seal, time.Now().UTC()); err != nil {
				log.Error("audit anchor", "err", err)
			}
			cancel()
			return
		case <-t.C:
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := writeAnchor(c, dir, store, seal, time.Now().UTC()); err != nil && ctx.Err() == nil {
				log.Error("audit anchor", "err", err)
			}
			cancel()
		}
	}
}
