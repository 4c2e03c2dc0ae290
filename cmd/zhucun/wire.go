package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"zhucun"
	"zhucun/api"
	"zhucun/crypt"
	"zhucun/domain"
	"zhucun/media"
	"zhucun/storage/blob"
	"zhucun/storage/mongo"
	"zhucun/storage/sqlite"
	"zhucun/web"
	"zhucun/wechat"
)

// Store is every store the services need, and a readiness check; both
// engines provide it.
type Store interface {
	domain.Store
	Ping(ctx context.Context) error
}

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*mongo.Store)(nil)
)

// stores are the opened backends and how to close them.
type stores struct {
	lock    *os.File // the embedded data directory's lock
	db      Store
	backend string
	blobs   domain.BlobStore
	photos  string // where photos are kept
	sealer  *crypt.Sealer
}

// sqliteDir is where the embedded database lives in the data directory.
func sqliteDir(dataDir string) string { return filepath.Join(dataDir, "sqlite") }

// storeOpts say how a command opens the stores.
type storeOpts struct {
	// readOnly opens MongoDB without the writer lease, beside a running
	// server (stats verify); the embedded store is locked all the same.
	readOnly bool
}

// openStores opens the stores as their writer.
func openStores(ctx context.Context, cfg Config, log *slog.Logger) (*stores, error) {
	return openStoresWith(ctx, cfg, log, storeOpts{})
}

// openStoresWith connects to the configured MongoDB, or opens the embedded
// SQLite database under the data directory when no URI is set. On MongoDB
// a writer that finds the lease held answers a *mongo.LeaseHeldError.
func openStoresWith(ctx context.Context, cfg Config, log *slog.Logger, o storeOpts) (*stores, error) {
	st := &stores{}
	seal, err := auditSeal(cfg)
	if err != nil {
		return nil, err
	}
	if st.sealer, err = dataSealer(cfg); err != nil {
		return nil, err
	}
	if cfg.MongoURI == "" {
		// One process at a time on an embedded database.
		lock, err := lockDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		st.lock = lock
		if err := refuseFerretDBDir(cfg.DataDir); err != nil {
			st.close(ctx)
			return nil, err
		}
		db, err := sqlite.Open(ctx, sqliteDir(cfg.DataDir), sqlite.Options{Logger: log.With("component", "store"), Location: cfg.TZ,
			Synchronous: cfg.SQLiteSync, AuditSeal: seal, Sealer: st.sealer})
		if err != nil {
			st.close(ctx)
			return nil, err
		}
		st.db, st.backend = db, "embedded SQLite "+db.Path()
	} else {
		db, err := mongo.Open(ctx, cfg.MongoURI, cfg.MongoDB, mongo.Options{Logger: log.With("component", "store"), Location: cfg.TZ,
			ReadOnly: o.readOnly, LeaseTTL: cfg.LeaseTTL, AuditSeal: seal, Sealer: st.sealer})
		if err != nil {
			st.close(ctx)
			return nil, err
		}
		st.db, st.backend = db, "mongodb (writer)"
		if o.readOnly {
			st.backend = "mongodb (read-only)"
		}
	}
	if st.blobs, st.photos, err = openBlobs(ctx, cfg); err != nil {
		st.close(ctx)
		return nil, err
	}
	return st, nil
}

// refuseFerretDBDir stops a start on a data directory that the FerretDB
// default of earlier versions wrote (DATA_DIR/db/*.sqlite), unless the
// SQLite database exists already, naming the command that converts it:
// starting empty beside it would look like lost data.
func refuseFerretDBDir(dataDir string) error {
	if _, err := os.Stat(filepath.Join(sqliteDir(dataDir), sqlite.FileName)); err == nil {
		return nil
	}
	old, _ := filepath.Glob(filepath.Join(dataDir, "db", "*.sqlite"))
	if len(old) == 0 {
		return nil
	}
	return fmt.Errorf("%s holds a database of zhucun's earlier FerretDB default (%s); convert it first, with the server stopped: "+
		"go run ./cmd/zhucun-convert -data-dir %s (it writes %s and leaves db/ as it is)",
		dataDir, old[0], dataDir, filepath.Join(sqliteDir(dataDir), sqlite.FileName))
}

// openBlobs opens the S3 bucket when an endpoint is set, else the local
// photo directory under the data directory.
func openBlobs(ctx context.Context, cfg Config) (domain.BlobStore, string, error) {
	if cfg.S3Endpoint == "" {
		dir := filepath.Join(cfg.DataDir, "photos")
		l, err := blob.NewLocal(dir)
		return l, "local disk " + dir, err
	}
	s3, err := blob.NewS3(ctx, blob.S3Config{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
		Bucket: cfg.S3Bucket, Region: cfg.S3Region, Secure: cfg.S3Secure})
	return s3, "S3 " + cfg.S3Endpoint + "/" + cfg.S3Bucket, err
}

func (st *stores) close(ctx context.Context) {
	if st.db != nil {
		_ = st.db.Close(ctx)
	}
	if st.lock != nil {
		_ = st.lock.Close() // releases the lock
	}
}

// lockDir takes the data directory's lock, or says who holds it.
func lockDir(dir string) (*os.File, error) { return sqlite.LockDir(dir) }

// jwtSecret returns the configured secret, or the one generated on the
// first start and kept in the data directory with mode 0600.
func jwtSecret(cfg Config) ([]byte, error) {
	return dataSecret(cfg.DataDir, "jwt.secret", "JWT secret", cfg.JWTSecret)
}

// auditSeal is the seal of the audit chain: its key configured, or
// generated on the first start into the data directory (mode 0600). It is
// kept outside the database, so an edit of the trail there cannot reseal it.
func auditSeal(cfg Config) (*domain.AuditSeal, error) {
	key, err := dataSecret(cfg.DataDir, "audit.key", "audit key", cfg.AuditKey)
	if err != nil {
		return nil, err
	}
	return &domain.AuditSeal{Key: key, SM3: crypt.SM3, UseSM3: cfg.Crypto == crypt.National}, nil
}

// dataSealer encrypts personal fields and second-factor secrets at rest
// with the suite's cipher, under the data key: configured
// (ZHUCUN_DATA_KEY), or generated on the first start into DATA_DIR/data.key
// (mode 0600). Keep it with the backups' keys: what it sealed does not
// open without it.
func dataSealer(cfg Config) (*crypt.Sealer, error) {
	key, err := dataSecret(cfg.DataDir, "data.key", "data key", cfg.DataKey)
	if err != nil {
		return nil, err
	}
	return crypt.NewSealer(cfg.Crypto, key)
}

// tokenSigner is the national suite's SM2 token signature, with its key
// generated on the first start into DATA_DIR/jwt-sm2.pem (mode 0600); nil
// under the default suite (HS256 with the JWT secret).
func tokenSigner(cfg Config) (*api.TokenSigner, error) {
	if cfg.Crypto != crypt.National {
		return nil, nil
	}
	path := filepath.Join(cfg.DataDir, "jwt-sm2.pem")
	pemKey, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if pemKey, err = crypt.NewSM2Key(); err != nil {
			return nil, err
		}
		if err := writeNew(path, pemKey); err != nil {
			return nil, fmt.Errorf("write SM2 token key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read SM2 token key: %w", err)
	}
	k, err := crypt.ParseSM2Key(pemKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &api.TokenSigner{Method: crypt.SM2, SignKey: k, VerifyKey: &k.PublicKey}, nil
}

// writeNew writes a file that must not exist yet, mode 0600, synced.
func writeNew(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dataSecret returns a configured secret, or the one in the data
// directory's file name, made on first use.
func dataSecret(dir, name, what, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s is shorter than 32 characters; delete it to make a new one", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	secret := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	return []byte(secret), f.Close()
}

// deps are the pieces a server is built from, so tests can swap the clock,
// the hasher and WeChat.
type deps struct {
	store  Store
	now    domain.Clock
	hasher domain.PasswordHasher
	wechat domain.WeChat
	log    *slog.Logger
	secret []byte
	sealer domain.Sealer    // nil: second-factor secrets kept as they are (tests of other things)
	ids    domain.IDs       // nil: random ids (NewID); the demo's are seeded
	signer *api.TokenSigner // nil: HS256 with secret
	phone  domain.ThrottlePolicy
	addr   domain.ThrottlePolicy
	blobs  domain.BlobStore
}

// built is the wired server and the services its caller drives.
type built struct {
	api    *api.API
	svc    api.Services
	users  domain.UserService
	photos domain.PhotoService
	notify domain.NotifyService
}

// userService is the account service on a store, for the server and the shell.
func userService(store Store, hasher domain.PasswordHasher, now domain.Clock) domain.UserService {
	return domain.UserService{Store: store, Org: store, Teams: store, Hasher: hasher, Audit: domain.Auditor{Store: store, Now: now}, Now: now,
		Callers: &domain.CallerCache{}}
}

// securitySummary names the security settings a start runs with.
func (c Config) securitySummary() string {
	roles := make([]string, len(c.SecondFactorRoles))
	for i, r := range c.SecondFactorRoles {
		roles[i] = string(r)
	}
	return fmt.Sprintf("crypto=%s second-factor=%s password-max-age=%s password-history=%d refresh-idle=%s tls=%t",
		c.Crypto, strings.Join(roles, ","), c.PasswordMaxAge, c.PasswordHistory, c.RefreshIdle, c.TLSCertFile != "")
}

// passwordPolicy is the configured policy.
func (c Config) passwordPolicy() domain.PasswordPolicy {
	return domain.PasswordPolicy{MaxAge: c.PasswordMaxAge, History: c.PasswordHistory, FirstChange: c.PasswordFirstChange}
}

// build wires the domain services and the HTTP layer.
func build(cfg Config, d deps) (built, error) {
	users := userService(d.store, d.hasher, d.now)
	users.Policy, users.IDs = cfg.passwordPolicy(), d.ids
	audit := users.Audit
	dummy, err := d.hasher.Hash(hex.EncodeToString([]byte(time.Now().String())))
	if err != nil {
		return built{}, err
	}
	auth := domain.AuthService{
		Users: d.store, Sessions: d.store, Hasher: d.hasher, WeChat: d.wechat,
		PhoneLimit: domain.NewThrottle(d.phone, d.now), AddrLimit: domain.NewThrottle(d.addr, d.now),
		Audit: audit, Now: d.now, RefreshTTL: cfg.RefreshTTL, IdleTTL: cfg.RefreshIdle, DummyHash: dummy,
		Policy: users.Policy, Callers: users.Callers, SecondFactorRoles: cfg.SecondFactorRoles, Seal: d.sealer,
	}
	catalogues := domain.CatalogueService{Store: d.store, Audit: audit, Now: d.now}
	if err := catalogues.Seed(context.Background()); err != nil {
		return built{}, err
	}
	ledger := domain.LedgerService{IDs: d.ids, Problems: d.store, Targets: d.store, Teams: d.store, Campaigns: d.store, Org: d.store,
		Catalogues: d.store, Audit: audit, Now: d.now, Loc: cfg.TZ, Photos: d.store, Records: d.store}
	photos := domain.PhotoService{Records: d.store, Pending: d.store, Index: d.store, Org: d.store, Blobs: d.blobs,
		Inspect: media.Inspector(cfg.TZ), Audit: audit, Now: d.now, MaxBytes: cfg.PhotoMaxBytes,
		Signer:    domain.BlobURLSigner{Key: hmacKey(d.secret, "photo links"), Base: "/api/v1/blobs/"},
		UploadTTL: cfg.PhotoUploadTTL, URLTTL: cfg.PhotoURLTTL, PendingTTL: 24 * time.Hour,
		TimeTolerance: cfg.PhotoTimeFar, Distance: cfg.PhotoFarMetres, Inspecting: make(chan struct{}, 2), Loc: cfg.TZ,
		OnPostDistance: cfg.OnPostMetres, Users: d.store}
	notify := domain.NotifyService{Store: d.store, Users: d.store, Org: d.store, Ledger: d.store, Records: d.store, Teams: d.store,
		Templates: cfg.WeChatTemplates, Page: cfg.WeChatPage, Now: d.now, Loc: cfg.TZ, Daily: &domain.DailyMark{},
		OnError: func(err error) { d.log.Error("reminder", "err", err) }}
	if len(cfg.WeChatTemplates) > 0 {
		notify.Messenger = &wechat.Messenger{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret, Base: cfg.WeChatBase,
			HTTP: &http.Client{Timeout: 10 * time.Second}, Now: d.now}
	}
	approvals := domain.ApprovalService{Store: d.store, Org: d.store, Audit: audit, Cache: &domain.LockCache{}, Notes: notify, Now: d.now, Loc: cfg.TZ}
	stats := domain.StatsService{Stats: d.store, Ledger: d.store, Org: d.store, Assessments: d.store,
		Campaigns: d.store, Teams: d.store, Now: d.now, Loc: cfg.TZ}
	field := domain.FieldService{Records: d.store, Org: d.store, Users: d.store, Teams: d.store, Audit: audit, Now: d.now, Photos: d.store,
		MaxSkew: cfg.MaxSkew, Backfill: cfg.Backfill, Loc: cfg.TZ, Locks: approvals, OnPostDistance: cfg.OnPostMetres, Notes: notify}
	ready := func(ctx context.Context) error {
		if err := d.store.Ping(ctx); err != nil {
			return err
		}
		return d.blobs.Ping(ctx)
	}
	svc := api.Services{
		Org:   domain.OrgService{IDs: d.ids, Store: d.store, Audit: audit, Now: d.now},
		Users: users, Auth: auth, Audit: audit, Ready: ready, Now: d.now, Photos: photos,
		Catalogues: catalogues,
		Campaigns:  domain.CampaignService{IDs: d.ids, Store: d.store, Org: d.store, Catalogues: d.store, Audit: audit, Now: d.now},
		Ledger:     ledger,
		Teams: domain.TeamService{IDs: d.ids, Store: d.store, Campaigns: d.store, Org: d.store, Users: d.store, Problems: d.store, Callers: users.Callers,
			Catalogue: d.store, Audit: audit, Now: d.now},
		Trainings: domain.TrainingService{IDs: d.ids, Store: d.store, Users: d.store, Audit: audit, Now: d.now},
		Field:     field,
		OnPost:    domain.OnPostService{Plans: d.store, Users: users, Stats: d.store, Leaves: d.store, Now: d.now, Loc: cfg.TZ},
		Reviews:   domain.ReviewService{Records: d.store, Audit: audit, Locks: approvals, Notes: notify, Now: d.now, Loc: cfg.TZ},
		Approvals: approvals,
		Leaves:    domain.LeaveService{Store: d.store, Audit: audit, Notes: notify, Now: d.now, Loc: cfg.TZ},
		Feedback:  domain.FeedbackService{Store: d.store, Audit: audit, Now: d.now},
		Notify:    notify,
		Stats:     stats,
		Exports:   domain.ExportService{Stats: stats, Field: field, Catalogues: d.store},
		Assessments: domain.AssessmentService{Store: d.store, Org: d.store, Catalogues: d.store, Audit: audit, Now: d.now, Loc: cfg.TZ, Approvals: approvals,
			Thresholds: domain.LightThresholds{Green: cfg.LightGreen, Yellow: cfg.LightYellow}},
		FieldChecks: domain.FieldCheckService{Store: d.store, Org: d.store, Photos: d.store, Records: d.store, Audit: audit,
			Now: d.now, Loc: cfg.TZ},
	}
	console, err := web.New(web.Config{Secure: cfg.TLSCertFile != "", Idle: cfg.ConsoleIdle, Now: d.now, Loc: cfg.TZ, Logger: d.log,
		AddrHeader: api.ConsoleAddrHeader, RequestIDHeader: api.ConsoleRequestIDHeader},
		web.Services{Auth: svc.Auth, Users: svc.Users, Org: svc.Org, Stats: svc.Stats, Campaigns: svc.Campaigns, Teams: svc.Teams,
			Ledger: svc.Ledger, Field: svc.Field, Reviews: svc.Reviews, Photos: svc.Photos, Assessments: svc.Assessments,
			Exports: svc.Exports, Feedback: svc.Feedback, Audit: svc.Audit, Approvals: svc.Approvals, FieldChecks: svc.FieldChecks})
	if err != nil {
		return built{}, err
	}
	a := api.New(api.Config{
		Console:  console,
		Location: cfg.TZ,
		Version:  buildVersion(), JWTSecret: d.secret, Signer: d.signer, AccessTTL: cfg.AccessTTL,
		CORSOrigins: cfg.CORSOrigins, ProxyHeader: cfg.ProxyHeader, TrustedProxies: cfg.TrustedProxy,
		TLS: cfg.TLSCertFile != "", Spec: zhucun.OpenAPI, Logger: d.log,
	}, svc)
	// A MongoDB writer that takes its lease back after losing it drops what
	// the services keep in memory: another writer may have changed it.
	if st, ok := d.store.(interface{ OnRetaken(func()) }); ok {
		st.OnRetaken(users.Callers.Changed)
		st.OnRetaken(approvals.Cache.Changed)
	}
	return built{api: a, svc: svc, users: users, photos: photos, notify: notify}, nil
}

// hmacKey derives a key for one purpose from the server secret.
func hmacKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func newWeChat(cfg Config) domain.WeChat {
	if cfg.WeChatAppID == "" {
		return nil
	}
	return &wechat.Client{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret, Base: cfg.WeChatBase,
		HTTP: &http.Client{Timeout: 10 * time.Second}}
}

func newLogger(cfg Config, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}
