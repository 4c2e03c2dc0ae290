// Command zhucun runs the zhucun API server and its administration commands.
//
//	zhucun serve                 run the API (configuration from ZHUCUN_* variables)
//	zhucun user add -phone ...   create an account from the shell
//	zhucun backup FILE           copy the embedded database (while it runs)
//	zhucun restore FILE          put a copy back (server stopped)
//	zhucun demo                  build the source report's district into an empty data directory
//	zhucun version               print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"zhucun/passwd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "zhucun:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: zhucun <command> [flags]

commands:
  serve          run the API server and the console (serve -demo: build the demo district first, into a new data directory)
  user add       create an account (password from ZHUCUN_USER_PASSWORD or standard input)
  stats verify   recount every count from the records and list differences (server stopped)
  stats rebuild  replace the counts with that recount (server stopped)
  audit verify   check the audit trail's chain of seals: any entry changed, removed or inserted (server stopped)
  audit prune -before YYYY-MM-DD
                 remove audit entries older than that date (180 days at least) as one verified segment
  demo           build the source report's district into an empty data directory: towns, villages, the round, ledgers,
                 units, teams, four months of field records with photos, reviews, approvals and assessments, accounts
  backup FILE    write a consistent copy of the embedded database, also while the server runs
  restore FILE   put such a copy back in place of the embedded database (server stopped)
  version        print the version
  healthcheck    exit 0 when the server on ZHUCUN_ADDR answers /healthz (for container health checks)

Configuration comes from ZHUCUN_* environment variables; flags override them.
Run 'zhucun serve -h' for the list.
`

// run is main without the process: it parses args and runs one command.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		rest, withDemo := withoutFlag(args[1:], "demo")
		if withDemo {
			// serve --demo: the demo district first, when the directory is new.
			if err := demoCmd(ctx, rest, getenv, stdout, stderr, passwd.Default()); err != nil && !errors.Is(err, errDemoBuilt) {
				return err
			}
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfg, err := parseConfig(fs, rest, getenv)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			return errors.New("usage: zhucun user add -name NAME -phone PHONE -role ROLE [-town-id ID] [-village-ids ID,ID]")
		}
		return userAdd(ctx, args[2:], getenv, stdin, stdout, stderr)
	case "stats":
		return statsCmd(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backupCmd(ctx, args[1:], getenv, stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args[1:], getenv, stdout, stderr, passwd.Default())
	case "restore":
		return restoreCmd(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfg, err := parseConfig(fs, args[1:], getenv)
		if err != nil {
			return err
		}
		return healthcheck(ctx, cfg)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "zhucun", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return rev + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// withoutFlag returns args without the boolean flag name (-name or
// --name), and whether it was there.
func withoutFlag(args []string, name string) ([]string, bool) {
	var out []string
	found := false
	for _, a := range args {
		if a == "-"+name || a == "--"+name {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}
