package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"zhucun/domain"
	"zhucun/passwd"
	"zhucun/storage/blob"
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
	st, err := openOrStandBy(ctx, cfg, log, storeOpts{})
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	now := func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	signer, err := tokenSigner(cfg)
	if err != nil {
		return err
	}
	b, err := build(cfg, deps{store: st.db, now: now, hasher: passwd.Default(), wechat: newWeChat(cfg), log: log,
		secret: secret, sealer: st.sealer, signer: signer, phone: domain.DefaultPhonePolicy, addr: domain.DefaultAddrPolicy, blobs: st.blobs})
	if err != nil {
		return err
	}
	a, users := b.api, b.users
	// The security configuration each start runs with goes in the trail,
	// so a change of it is on record.
	if err := users.Audit.Record(ctx, domain.System("startup"), "config", cfg.securitySummary(), "start", ""); err != nil {
		return err
	}
	go sweepPhotos(ctx, b.photos, st.blobs, log)
	go remind(ctx, b.notify, log)
	seal, err := auditSeal(cfg)
	if err != nil {
		return err
	}
	anchored := make(chan struct{})
	go func() { keepAnchor(ctx, cfg.DataDir, st.db, *seal, log); close(anchored) }()
	if cfg.AdminPhone != "" {
		created, err := users.EnsureAdmin(ctx, cfg.AdminPhone, cfg.AdminPassword)
		if err != nil {
			return err
		}
		if created {
			log.Info("created the first admin account", "phone", domain.MaskPhone(cfg.AdminPhone))
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
	log.Info("zhucun listening", "addr", cfg.Addr, "store", st.backend, "photos", st.photos, "dataDir", cfg.DataDir,
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
	<-anchored // the last anchor written, before the store closes
	return nil
}

// remind runs the reminder rules every half minute: the daily ones once a
// campaign day from 07:00, and the subscribe messages that are due.
func remind(ctx context.Context, n domain.NotifyService, log *slog.Logger) {
	for {
		if err := n.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Error("reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// sweepPhotos removes, every ten minutes, photos whose bytes never came
// within a day, and temporary files a crash left in the local photo store.
func sweepPhotos(ctx context.Context, photos domain.PhotoService, blobs domain.BlobStore, log *slog.Logger) {
	for {
		n, err := photos.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("sweeping pending photos", "err", err)
		} else if n > 0 {
			log.Info("removed photos never uploaded", "count", n)
		}
		if l, ok := blobs.(*blob.Local); ok {
			_ = l.CleanTemp(time.Hour)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Minute):
		}
	}
}
