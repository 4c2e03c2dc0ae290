// Command zhucun-convert converts a data directory of zhucun's earlier
// embedded default — FerretDB on SQLite, DATA_DIR/db/<name>.sqlite — into
// the SQLite database this version keeps (DATA_DIR/sqlite/zhucun.db), with
// the server stopped:
//
//	go run ./cmd/zhucun-convert -data-dir ./data
//
// It reads the old database through FerretDB (linked here, not into the
// server), writes every town, village, account, campaign entity, field
// record, audit entry, pending photo and WeChat binding through the SQLite
// store, recounts the counts from the records and checks them as 'zhucun
// stats verify' does. Refresh tokens are not carried over: everyone signs
// in again. DATA_DIR/db is left as it was.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"zhucun/domain"
	"zhucun/storage/embedded"
	"zhucun/storage/mongo"
	"zhucun/storage/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "zhucun-convert:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zhucun-convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", cmpOr(getenv("ZHUCUN_DATA_DIR"), "./data"), "the data directory (ZHUCUN_DATA_DIR)")
	name := fs.String("db", cmpOr(getenv("ZHUCUN_MONGO_DB"), "zhucun"), "the database name the server used (ZHUCUN_MONGO_DB)")
	tzName := fs.String("tz", cmpOr(getenv("ZHUCUN_TZ"), "Asia/Shanghai"), "the campaign's time zone, for the counts (ZHUCUN_TZ)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*tzName)
	if err != nil {
		return fmt.Errorf("-tz: %w", err)
	}
	old := filepath.Join(*dataDir, "db", *name+".sqlite")
	if _, err := os.Stat(old); err != nil {
		return fmt.Errorf("no database of the FerretDB default at %s: %w", old, err)
	}
	lock, err := sqlite.LockDir(*dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	target := filepath.Join(*dataDir, "sqlite")
	if _, err := os.Stat(filepath.Join(target, sqlite.FileName)); err == nil {
		return fmt.Errorf("%s exists already: the directory is converted", filepath.Join(target, sqlite.FileName))
	}
	work := target + ".converting"
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: filepath.Join(*dataDir, "db"), Logger: quiet})
	if err != nil {
		return err
	}
	defer srv.Stop(30 * time.Second)
	src, err := mongo.Open(ctx, srv.URI(), *name, mongo.Options{ReadOnly: true, Location: loc, Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer src.Close(context.WithoutCancel(ctx))
	dst, err := sqlite.Open(ctx, work, sqlite.Options{Location: loc, Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	n, err := convert(ctx, src, dst)
	if err == nil {
		err = dst.RebuildStats(ctx)
	}
	var diffs []domain.StatDiff
	if err == nil {
		diffs, err = dst.VerifyStats(ctx)
	}
	if cerr := dst.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("convert (nothing written to %s): %w", target, err)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the converted counts differ from a recount in %d places; %s kept for a look", len(diffs), work)
	}
	if err := os.Rename(work, target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "converted %s into %s: %s; every count equals a recount of the records\n",
		old, filepath.Join(target, sqlite.FileName), n)
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tally counts what was converted.
type tally map[string]int

func (t tally) String() string {
	out := ""
	for _, k := range []string{"towns", "villages", "accounts", "records", "audit entries"} {
		out += fmt.Sprintf("%d %s, ", t[k], k)
	}
	return out + fmt.Sprintf("%d other entities", t["other"])
}

// each pages through a list.
func each[T any](list func(domain.Page) (domain.List[T], error), fn func(T) error) error {
	p := domain.Page{Limit: domain.MaxPageLimit}
	for {
		l, err := list(p)
		if err != nil {
			return err
		}
		for _, it := range l.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if l.Next == "" {
			return nil
		}
		p.After = l.Next
	}
}

// convert copies everything from the old store into the new one.
func convert(ctx context.Context, src *mongo.Store, dst *sqlite.Store) (tally, error) {
	n := tally{}
	all := domain.Scope{All: true}
	count := func(k string, err error) error {
		if err == nil {
			n[k]++
		}
		return err
	}
	steps := []func() error{
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Town], error) {
				return src.ListTowns(ctx, domain.TownFilter{Scope: all}, p)
			},
				func(t domain.Town) error { return count("towns", dst.InsertTown(ctx, t)) })
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Village], error) {
				return src.ListVillages(ctx, domain.VillageFilter{Scope: all}, p)
			}, func(v domain.Village) error { return count("villages", dst.InsertVillage(ctx, v)) })
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.User], error) {
				return src.ListUsers(ctx, domain.UserFilter{Scope: all}, p)
			},
				func(u domain.User) error { return count("accounts", dst.InsertUser(ctx, u)) })
		},
		func() error {
			binds, err := src.WeChatBindings(ctx)
			for open, user := range binds {
				if err := count("other", dst.BindWeChat(ctx, open, user, time.Now())); err != nil {
					return err
				}
			}
			return err
		},
		func() error {
			for _, k := range domain.CatalogueKinds {
				items, err := src.Catalogue(ctx, k)
				if err != nil {
					return err
				}
				for _, it := range items {
					if err := count("other", dst.PutCatalogueItem(ctx, it)); err != nil {
						return err
					}
				}
			}
			return nil
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Campaign], error) { return src.ListCampaigns(ctx, p) },
				func(c domain.Campaign) error {
					if err := count("other", dst.InsertCampaign(ctx, c)); err != nil {
						return err
					}
					evs, err := src.Evaluations(ctx, c.ID, all)
					if err != nil {
						return err
					}
					for _, e := range evs {
						if err := count("other", dst.PutEvaluation(ctx, e)); err != nil {
							return err
						}
					}
					return each(func(p domain.Page) (domain.List[domain.Selection], error) {
						return src.ListSelections(ctx, domain.SelectionFilter{CampaignID: c.ID, Scope: all}, p)
					}, func(s domain.Selection) error {
						if err := count("other", dst.InsertSelection(ctx, s)); err != nil {
							return err
						}
						notes, err := src.SelectionNotes(ctx, c.ID, s.VillageID)
						for _, nt := range notes {
							if err := count("other", dst.InsertSelectionNote(ctx, nt)); err != nil {
								return err
							}
						}
						return err
					})
				})
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Problem], error) {
				return src.ListProblems(ctx, domain.ProblemFilter{Scope: all}, p)
			}, func(x domain.Problem) error { return count("other", dst.InsertProblem(ctx, x)) })
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Target], error) {
				return src.ListTargets(ctx, domain.TargetFilter{Scope: all}, p)
			}, func(x domain.Target) error {
				if err := count("other", dst.InsertTarget(ctx, x)); err != nil {
					return err
				}
				prs, err := src.ProgressOf(ctx, x.ID)
				for _, pr := range prs {
					if err := count("other", dst.InsertProgress(ctx, pr)); err != nil {
						return err
					}
				}
				return err
			})
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Unit], error) { return src.ListUnits(ctx, "", p) },
				func(x domain.Unit) error { return count("other", dst.InsertUnit(ctx, x)) })
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Team], error) {
				return src.ListTeams(ctx, domain.TeamFilter{Scope: all}, p)
			},
				func(x domain.Team) error { return count("other", dst.InsertTeam(ctx, x)) })
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.Training], error) { return src.ListTrainings(ctx, "", p) },
				func(x domain.Training) error { return count("other", dst.InsertTraining(ctx, x)) })
		},
		func() error {
			snap, err := src.LedgerSnapshot(ctx)
			for _, pl := range snap.Plans {
				if err := count("other", dst.PutPlan(ctx, pl)); err != nil {
					return err
				}
			}
			return err
		},
		func() error {
			as, err := src.Assessments(ctx)
			for _, a := range as {
				if err := count("other", dst.PutAssessment(ctx, a)); err != nil {
					return err
				}
			}
			return err
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.FieldCheck], error) {
				return src.ListFieldChecks(ctx, domain.FieldCheckFilter{Scope: all}, p)
			}, func(x domain.FieldCheck) error {
				_, err := dst.InsertFieldCheck(ctx, x)
				return count("other", err)
			})
		},
		func() error {
			ps, err := src.PendingPhotos(ctx, time.Now().AddDate(100, 0, 0), 1_000_000)
			for _, p := range ps {
				if err := count("other", dst.AddPendingPhoto(ctx, p)); err != nil {
					return err
				}
			}
			return err
		},
		func() error {
			// In the old change order; the counts are recounted afterwards.
			// Every checkin of then puts its cadre on post (schema 2).
			return src.LegacyRecords(ctx, func(r domain.Record) error {
				r.OnPost = r.Report != nil && r.Report.Kind == domain.KindCheckin
				_, err := dst.CreateRecord(ctx, domain.RecordWrite{Record: r})
				return count("records", err)
			})
		},
		func() error {
			return each(func(p domain.Page) (domain.List[domain.AuditEntry], error) {
				return src.ListAudit(ctx, domain.AuditFilter{}, p)
			},
				func(e domain.AuditEntry) error { return count("audit entries", dst.AppendAudit(ctx, e)) })
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return n, err
		}
	}
	return n, nil
}
