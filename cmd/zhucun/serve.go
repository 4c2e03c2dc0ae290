package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
)

// serve runs the API until ctx is cancelled (SIGTERM, SIGINT), then drains
// requests for up to 10 s and closes the stores.
func serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	start := time.Now()
	log := newLogger(cfg, os.Stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	now := func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	a, users, err := build(cfg, deps{store: st.db, now: now, hasher: passwd.Default(), wechat: newWeChat(cfg), log: log,
		secret: secret, phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy})
	if err != nil {
		return err
	}
	if cfg.AdminPhone != "" {
		created, err := users.EnsureAdmin(ctx, cfg.AdminPhone, cfg.AdminPassword)
		if err != nil {
			return err
		}
		if created {
			log.Info("created the first admin account", "phone", cfg.AdminPhone)
		}
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCertFile != "" {
			errc <- a.App.ListenTLS(cfg.Addr, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			errc <- a.App.Listen(cfg.Addr)
		}
	}()
	log.Info("zhucun listening", "addr", cfg.Addr, "store", st.backend, "dataDir", cfg.DataDir,
		"version", buildVersion(), "startupMs", time.Since(start).Milliseconds())
	fmt.Fprintf(stdout, "zhucun %s listening on %s (%s)\n", buildVersion(), cfg.Addr, st.backend)
	select {
	case err := <-errc:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := a.App.ShutdownWithTimeout(10 * time.Second); err != nil {
		log.Error("shutdown", "err", err)
	}
	return nil
}
