package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
)

// userAdd creates an account from the shell, acting as the system.
func userAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the person's name")
	phone := fs.String("phone", "", "mobile number, the login")
	role := fs.String("role", "", "admin (campaign), leader, town_admin, team_leader, cadre, sys_admin, sec_admin or audit_admin")
	town := fs.String("town-id", "", "town id (town_admin)")
	villages := fs.String("village-ids", "", "comma-separated village ids (team_leader, cadre)")
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	pw, err := secretFromEnv(getenv, "ZHUCUN_USER_PASSWORD")
	if err != nil {
		return err
	}
	if pw == "" {
		fmt.Fprint(stderr, "password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	st, err := openStores(ctx, cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	now := func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	users := userService(st.db, passwd.Default(), now)
	users.Policy = cfg.passwordPolicy()
	u, err := users.Create(ctx, domain.System("cli"), domain.UserInput{
		Name: *name, Phone: *phone, Password: pw, Role: domain.Role(*role), TownID: *town, VillageIDs: splitList(*villages)})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created %s %s (%s) id=%s\n", u.Role, u.Name, domain.MaskPhone(u.Phone), u.ID)
	if u.Security.MustChangePassword {
		fmt.Fprintln(stdout, "the account chooses its own password at first sign-in (首次登录须修改密码)")
	}
	return nil
}

// describe spells out a validation error's fields for the shell.
func describe(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(de.Message)
	for _, f := range de.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return fmt.Errorf("%s", b.String())
}
