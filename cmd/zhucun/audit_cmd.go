package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"zhucun/domain"
)

// auditCmd runs 'zhucun audit verify': it reads the whole audit trail in
// chain order, checks every entry's seal under the audit key, and lists
// every entry changed, removed or inserted (exit 2 when there is one). On
// the embedded store it takes the data directory's lock (server stopped);
// on MongoDB it only reads.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: zhucun audit verify")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	seal, err := auditSeal(cfg)
	if err != nil {
		return err
	}
	st, err := openStoresWith(ctx, cfg, newLogger(cfg, os.Stderr), storeOpts{readOnly: true})
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	v := domain.AuditVerifier{Seal: *seal}
	if err := st.db.AuditChain(ctx, func(e domain.AuditEntry) error { v.Add(e); return nil }); err != nil {
		return err
	}
	for i, p := range v.Problems {
		if i == 200 {
			fmt.Fprintf(stdout, "… and %d more\n", len(v.Problems)-i)
			break
		}
		fmt.Fprintf(stdout, "%s: entry %s at place %d: %s\n", p.Kind, p.ID, p.Seq, p.Detail)
	}
	if len(v.Problems) > 0 {
		return fmt.Errorf("the audit trail was tampered with: %d problems in %d entries", len(v.Problems), v.Entries)
	}
	fmt.Fprintf(stdout, "the audit trail is intact: %d entries, every seal checks\n", v.Entries)
	return nil
}
