package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"zhucun/storage/sqlite"
)

// backupCmd runs 'zhucun backup FILE': a consistent copy of the embedded
// database, taken while the server runs or not. On MongoDB use mongodump.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, file, err := parseFileCommand(fs, "backup", args, getenv)
	if err != nil {
		return err
	}
	if cfg.MongoURI != "" {
		return errors.New("backup copies the embedded SQLite database; for MongoDB use mongodump (docs/deployment.md)")
	}
	if err := sqlite.Backup(ctx, sqliteDir(cfg.DataDir), file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", sqliteDir(cfg.DataDir), file)
	return nil
}

// restoreCmd runs 'zhucun restore FILE': puts a backup in place of the
// embedded database, with the server stopped (it takes the data
// directory's lock, so it refuses while a server runs).
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, file, err := parseFileCommand(fs, "restore", args, getenv)
	if err != nil {
		return err
	}
	if cfg.MongoURI != "" {
		return errors.New("restore puts back an embedded SQLite database; for MongoDB use mongorestore (docs/deployment.md)")
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	kept, err := sqlite.Restore(ctx, sqliteDir(cfg.DataDir), file, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", file, sqliteDir(cfg.DataDir))
	if kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}

// parseFileCommand reads 'COMMAND [flags] FILE'.
func parseFileCommand(fs *flag.FlagSet, name string, args []string, getenv func(string) string) (Config, string, error) {
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return Config{}, "", err
	}
	if fs.NArg() != 1 {
		return Config{}, "", fmt.Errorf("usage: zhucun %s [flags] FILE", name)
	}
	return cfg, fs.Arg(0), nil
}
