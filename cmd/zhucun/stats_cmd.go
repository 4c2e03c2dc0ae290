package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// statsCmd runs 'zhucun stats verify' (recount every count from the
// records and list the differences; exit 2 when there are any) or
// 'zhucun stats rebuild' (replace the counts with the recount). On the
// embedded store both take the data directory's lock, so they run with the
// server stopped. On MongoDB verify only reads (beside a running server, if
// need be), and rebuild takes the writer lease, which a running server holds.
func statsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" && args[0] != "rebuild" {
		return errors.New("usage: zhucun stats verify|rebuild (with the server stopped)")
	}
	fs := flag.NewFlagSet("stats "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	st, err := openStoresWith(ctx, cfg, newLogger(cfg, os.Stderr), storeOpts{readOnly: args[0] == "verify"})
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	if args[0] == "rebuild" {
		if err := st.db.RebuildStats(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "counts rebuilt from the records")
	}
	diffs, err := st.db.VerifyStats(ctx)
	if err != nil {
		return err
	}
	for i, d := range diffs {
		if i == 200 {
			fmt.Fprintf(stdout, "… and %d more\n", len(diffs)-i)
			break
		}
		fmt.Fprintf(stdout, "%s %s %s: counted %d, recount %d\n", d.Scope, d.Day, d.Metric, d.Have, d.Want)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d counts differ from a recount of the records; 'zhucun stats rebuild' repairs them", len(diffs))
	}
	fmt.Fprintln(stdout, "every count equals a recount of the records")
	return nil
}
