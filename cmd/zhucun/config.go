package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"zhucun/crypt"
	"zhucun/domain"
)

// Config is the server's configuration, from ZHUCUN_* environment
// variables; flags override them. It is parsed and validated once.
type Config struct {
	Addr      string
	DataDir   string
	MongoURI  string
	MongoDB   string
	JWTSecret string
	// AuditKey seals the audit trail's chain; empty: generated once into DATA_DIR/audit.key.
	AuditKey string
	// DataKey encrypts personal fields at rest; empty: generated once into DATA_DIR/data.key.
	DataKey string
	// Crypto is the cryptographic suite: crypt.Default or crypt.National (gm).
	Crypto        string
	AdminPhone    string
	AdminPassword string
	TZ            *time.Location
	TLSCertFile   string
	TLSKeyFile    string
	CORSOrigins   []string
	ProxyHeader   string
	TrustedProxy  []string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	RefreshIdle   time.Duration // a session unused this long is dead
	ConsoleIdle   time.Duration // a console session unused this long is signed out
	// Password policy and the roles that sign in with a second factor.
	PasswordMaxAge      time.Duration // 0: passwords never expire
	PasswordHistory     int
	PasswordFirstChange bool // always, except in tests of other things
	SecondFactorRoles   []domain.Role
	WeChatAppID         string
	WeChatSecret        string
	// WeChatTemplates are the subscribe-message templates per reminder rule.
	WeChatTemplates map[string]string
	// WeChatPage is the mini-program page a subscribe message opens.
	WeChatPage string
	WeChatBase string
	LogLevel   string
	MaxSkew    time.Duration
	Backfill   time.Duration
	// Photos: S3 when S3Endpoint is set, else local disk under DataDir.
	S3Endpoint     string
	S3AccessKey    string
	S3SecretKey    string
	S3Bucket       string
	S3Region       string
	S3Secure       bool
	PhotoMaxBytes  int64
	PhotoURLTTL    time.Duration
	PhotoUploadTTL time.Duration
	PhotoTimeFar   time.Duration
	PhotoFarMetres float64
	// OnPostMetres: a record's position this near its village puts its author on post.
	OnPostMetres float64
	// SQLiteSync is the embedded database's synchronous setting: NORMAL
	// (survives a kill -9) or FULL (also a power cut, slower).
	SQLiteSync string
	// LeaseTTL is how long the MongoDB writer lease lasts unless renewed:
	// a standby takes over within about this long after the writer dies.
	LeaseTTL time.Duration
	// Lights: an assessment total of LightGreen or more is green, of
	// LightYellow or more yellow, else red.
	LightGreen  float64
	LightYellow float64
}

// configError names the variable whose value is bad.
type configError struct {
	name, value, why string
}

func (e *configError) Error() string {
	return fmt.Sprintf("configuration: %s=%q: %s", e.name, e.value, e.why)
}

// secretFromEnv reads NAME, or the file named by NAME_FILE.
func secretFromEnv(getenv func(string) string, name string) (string, error) {
	v := getenv(name)
	f := getenv(name + "_FILE")
	if v != "" && f != "" {
		return "", &configError{name + "_FILE", f, "set either " + name + " or " + name + "_FILE, not both"}
	}
	if f == "" {
		return v, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", &configError{name + "_FILE", f, err.Error()}
	}
	return strings.TrimSpace(string(b)), nil
}

// parseConfig reads the environment and then the flags of a subcommand.
func parseConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	var tz, cors, proxies, accessTTL, refreshTTL, refreshIdle, consoleIdle, skew, backfill, leaseTTL string
	var pwMaxAge, pwHistory, factorRoles string
	var s3secure, maxBytes, urlTTL, uploadTTL, timeFar, farMetres, onpostMetres, green, yellow, templates string
	fs.StringVar(&c.Addr, "addr", env("ZHUCUN_ADDR", ":8080"), "listen address (ZHUCUN_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("ZHUCUN_DATA_DIR", "./data"), "data directory (ZHUCUN_DATA_DIR)")
	fs.StringVar(&c.MongoURI, "mongo-uri", getenv("ZHUCUN_MONGO_URI"), "MongoDB URI; empty keeps everything in the embedded SQLite database (ZHUCUN_MONGO_URI)")
	fs.StringVar(&c.MongoDB, "mongo-db", env("ZHUCUN_MONGO_DB", "zhucun"), "database name (ZHUCUN_MONGO_DB)")
	fs.StringVar(&tz, "tz", env("ZHUCUN_TZ", "Asia/Shanghai"), "campaign time zone (ZHUCUN_TZ)")
	fs.StringVar(&c.TLSCertFile, "tls-cert", getenv("ZHUCUN_TLS_CERT_FILE"), "TLS certificate file (ZHUCUN_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key", getenv("ZHUCUN_TLS_KEY_FILE"), "TLS key file (ZHUCUN_TLS_KEY_FILE)")
	fs.StringVar(&cors, "cors-origins", getenv("ZHUCUN_CORS_ORIGINS"), "comma-separated allowed CORS origins (ZHUCUN_CORS_ORIGINS)")
	fs.StringVar(&c.ProxyHeader, "proxy-header", getenv("ZHUCUN_PROXY_HEADER"), "header with the client address, e.g. X-Forwarded-For (ZHUCUN_PROXY_HEADER)")
	fs.StringVar(&proxies, "trusted-proxies", getenv("ZHUCUN_TRUSTED_PROXIES"), "comma-separated proxy addresses or CIDRs (ZHUCUN_TRUSTED_PROXIES)")
	fs.StringVar(&accessTTL, "access-ttl", env("ZHUCUN_ACCESS_TTL", "15m"), "access token lifetime (ZHUCUN_ACCESS_TTL)")
	fs.StringVar(&consoleIdle, "console-idle", env("ZHUCUN_CONSOLE_IDLE", "30m"), "the console signs out a session idle this long (ZHUCUN_CONSOLE_IDLE)")
	fs.StringVar(&refreshTTL, "refresh-ttl", env("ZHUCUN_REFRESH_TTL", "720h"), "refresh token lifetime (ZHUCUN_REFRESH_TTL)")
	fs.StringVar(&pwMaxAge, "password-max-age", env("ZHUCUN_PASSWORD_MAX_AGE", "2160h"), "a password this old must be changed; 0: never (ZHUCUN_PASSWORD_MAX_AGE, 90 days)")
	fs.StringVar(&pwHistory, "password-history", env("ZHUCUN_PASSWORD_HISTORY", "5"), "a new password may not repeat the account's last this many (ZHUCUN_PASSWORD_HISTORY)")
	fs.StringVar(&factorRoles, "second-factor-roles", env("ZHUCUN_SECOND_FACTOR_ROLES", "admin,sys_admin,sec_admin,audit_admin,leader"),
		"roles that sign in with a password and a TOTP code, comma-separated, or none (ZHUCUN_SECOND_FACTOR_ROLES)")
	fs.StringVar(&refreshIdle, "refresh-idle", env("ZHUCUN_REFRESH_IDLE", "168h"), "a session unused this long is dead: its refresh token expires (ZHUCUN_REFRESH_IDLE)")
	fs.StringVar(&leaseTTL, "lease-ttl", env("ZHUCUN_LEASE_TTL", "10s"), "MongoDB writer lease: a standby takes over about this long after the writer dies (ZHUCUN_LEASE_TTL)")
	fs.StringVar(&c.WeChatAppID, "wechat-appid", getenv("ZHUCUN_WECHAT_APPID"), "WeChat mini-program appid (ZHUCUN_WECHAT_APPID)")
	fs.StringVar(&templates, "wechat-templates", getenv("ZHUCUN_WECHAT_TEMPLATES"), "subscribe-message template ids per reminder rule, e.g. record_returned=TMPL1,leave_decided=TMPL2 (ZHUCUN_WECHAT_TEMPLATES)")
	fs.StringVar(&c.WeChatPage, "wechat-page", env("ZHUCUN_WECHAT_PAGE", "pages/index/index"), "mini-program page a subscribe message opens (ZHUCUN_WECHAT_PAGE)")
	fs.StringVar(&c.WeChatBase, "wechat-api-base", env("ZHUCUN_WECHAT_API_BASE", "https://api.weixin.qq.com"), "WeChat API base URL (ZHUCUN_WECHAT_API_BASE)")
	fs.StringVar(&skew, "max-skew", env("ZHUCUN_MAX_SKEW", "10m"), "how far in the future a phone's event time may be (ZHUCUN_MAX_SKEW)")
	fs.StringVar(&backfill, "backfill", env("ZHUCUN_BACKFILL", "2160h"), "how far back an event may be filed (ZHUCUN_BACKFILL)")
	fs.StringVar(&c.LogLevel, "log-level", env("ZHUCUN_LOG_LEVEL", "info"), "debug, info, warn or error (ZHUCUN_LOG_LEVEL)")
	fs.StringVar(&c.SQLiteSync, "sqlite-sync", env("ZHUCUN_SQLITE_SYNC", "NORMAL"), "embedded database: NORMAL survives a kill -9, FULL also a power cut (ZHUCUN_SQLITE_SYNC)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", getenv("ZHUCUN_S3_ENDPOINT"), "S3/MinIO host:port for photos; empty keeps them on local disk (ZHUCUN_S3_ENDPOINT)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", env("ZHUCUN_S3_BUCKET", "zhucun-photos"), "photo bucket, created when missing (ZHUCUN_S3_BUCKET)")
	fs.StringVar(&c.S3Region, "s3-region", env("ZHUCUN_S3_REGION", "us-east-1"), "photo bucket region (ZHUCUN_S3_REGION)")
	fs.StringVar(&s3secure, "s3-secure", env("ZHUCUN_S3_SECURE", "false"), "talk HTTPS to the S3 endpoint (ZHUCUN_S3_SECURE)")
	fs.StringVar(&maxBytes, "photo-max-bytes", env("ZHUCUN_PHOTO_MAX_BYTES", "15728640"), "largest photo accepted, bytes (ZHUCUN_PHOTO_MAX_BYTES)")
	fs.StringVar(&urlTTL, "photo-url-ttl", env("ZHUCUN_PHOTO_URL_TTL", "1m"), "lifetime of a photo's download link (ZHUCUN_PHOTO_URL_TTL)")
	fs.StringVar(&uploadTTL, "photo-upload-ttl", env("ZHUCUN_PHOTO_UPLOAD_TTL", "15m"), "lifetime of a presigned upload (ZHUCUN_PHOTO_UPLOAD_TTL)")
	fs.StringVar(&timeFar, "photo-time-far", env("ZHUCUN_PHOTO_TIME_FAR", "24h"), "EXIF time this far from a report's event flags the photo (ZHUCUN_PHOTO_TIME_FAR)")
	fs.StringVar(&farMetres, "photo-far-metres", env("ZHUCUN_PHOTO_FAR_METRES", "5000"), "EXIF position this far from the village flags the photo (ZHUCUN_PHOTO_FAR_METRES)")
	fs.StringVar(&onpostMetres, "onpost-metres", env("ZHUCUN_ONPOST_METRES", "3000"), "a record's (or its photos') position this near the village puts its author on post that day (ZHUCUN_ONPOST_METRES)")
	fs.StringVar(&green, "light-green", env("ZHUCUN_LIGHT_GREEN", "85"), "assessment total for a green light (ZHUCUN_LIGHT_GREEN)")
	fs.StringVar(&yellow, "light-yellow", env("ZHUCUN_LIGHT_YELLOW", "70"), "assessment total for a yellow light (ZHUCUN_LIGHT_YELLOW)")
	c.AdminPhone = getenv("ZHUCUN_ADMIN_PHONE")
	c.S3AccessKey = getenv("ZHUCUN_S3_ACCESS_KEY")
	var err error
	if c.JWTSecret, err = secretFromEnv(getenv, "ZHUCUN_JWT_SECRET"); err != nil {
		return c, err
	}
	if c.AuditKey, err = secretFromEnv(getenv, "ZHUCUN_AUDIT_KEY"); err != nil {
		return c, err
	}
	if c.DataKey, err = secretFromEnv(getenv, "ZHUCUN_DATA_KEY"); err != nil {
		return c, err
	}
	if c.AdminPassword, err = secretFromEnv(getenv, "ZHUCUN_ADMIN_PASSWORD"); err != nil {
		return c, err
	}
	if c.WeChatSecret, err = secretFromEnv(getenv, "ZHUCUN_WECHAT_SECRET"); err != nil {
		return c, err
	}
	if c.S3SecretKey, err = secretFromEnv(getenv, "ZHUCUN_S3_SECRET_KEY"); err != nil {
		return c, err
	}
	if c.S3AccessKey == "" {
		if c.S3AccessKey, err = secretFromEnv(getenv, "ZHUCUN_S3_ACCESS_KEY"); err != nil {
			return c, err
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.parsePhotos(s3secure, maxBytes, urlTTL, uploadTTL, timeFar, farMetres); err != nil {
		return c, err
	}
	if c.OnPostMetres, err = strconv.ParseFloat(onpostMetres, 64); err != nil || c.OnPostMetres < 0 || c.OnPostMetres > 1e7 {
		return c, &configError{"ZHUCUN_ONPOST_METRES", onpostMetres, "must be a number of metres from 0 to 10000000"}
	}
	if c.LightGreen, err = strconv.ParseFloat(green, 64); err != nil || c.LightGreen < 0 || c.LightGreen > 1000 {
		return c, &configError{"ZHUCUN_LIGHT_GREEN", green, "must be a number of points from 0 to 1000"}
	}
	if c.LightYellow, err = strconv.ParseFloat(yellow, 64); err != nil || c.LightYellow < 0 || c.LightYellow > c.LightGreen {
		return c, &configError{"ZHUCUN_LIGHT_YELLOW", yellow, "must be a number of points from 0 to ZHUCUN_LIGHT_GREEN"}
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, &configError{"ZHUCUN_ADDR", c.Addr, "must be host:port, e.g. :8080 or 127.0.0.1:8080"}
	}
	if c.DataDir == "" {
		return c, &configError{"ZHUCUN_DATA_DIR", c.DataDir, "must not be empty"}
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return c, &configError{"ZHUCUN_MONGO_URI", "(hidden)", "must start with mongodb:// or mongodb+srv://"}
	}
	if c.MongoDB == "" || strings.ContainsAny(c.MongoDB, "/\\. \"$") {
		return c, &configError{"ZHUCUN_MONGO_DB", c.MongoDB, "must be a MongoDB database name"}
	}
	if c.TZ, err = time.LoadLocation(tz); err != nil {
		return c, &configError{"ZHUCUN_TZ", tz, "unknown time zone"}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return c, &configError{"ZHUCUN_TLS_CERT_FILE", c.TLSCertFile, "set both ZHUCUN_TLS_CERT_FILE and ZHUCUN_TLS_KEY_FILE, or neither"}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return c, &configError{"ZHUCUN_JWT_SECRET", "(hidden)", "must be at least 32 characters"}
	}
	if c.DataKey != "" && len(c.DataKey) < 32 {
		return c, &configError{"ZHUCUN_DATA_KEY", "(hidden)", "must be at least 32 characters"}
	}
	if c.Crypto = env("ZHUCUN_CRYPTO", crypt.Default); !crypt.Valid(c.Crypto) {
		return c, &configError{"ZHUCUN_CRYPTO", c.Crypto, "must be default (AES-256-GCM, HMAC-SHA-256, HS256) or gm (SM4, SM3, SM2)"}
	}
	if c.AuditKey != "" && len(c.AuditKey) < 32 {
		return c, &configError{"ZHUCUN_AUDIT_KEY", "(hidden)", "must be at least 32 characters"}
	}
	if (c.AdminPhone == "") != (c.AdminPassword == "") {
		return c, &configError{"ZHUCUN_ADMIN_PHONE", c.AdminPhone, "set both ZHUCUN_ADMIN_PHONE and ZHUCUN_ADMIN_PASSWORD, or neither"}
	}
	for _, o := range splitList(cors) {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return c, &configError{"ZHUCUN_CORS_ORIGINS", cors, "each origin must start with http:// or https://"}
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	c.TrustedProxy = splitList(proxies)
	if c.ProxyHeader != "" && len(c.TrustedProxy) == 0 {
		return c, &configError{"ZHUCUN_PROXY_HEADER", c.ProxyHeader, "needs ZHUCUN_TRUSTED_PROXIES, or any client could forge its address"}
	}
	if c.AccessTTL, err = parseDuration(accessTTL, time.Minute, 24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_ACCESS_TTL", accessTTL, err.Error()}
	}
	if c.ConsoleIdle, err = parseDuration(consoleIdle, time.Second, 30*time.Minute); err != nil {
		return c, &configError{"ZHUCUN_CONSOLE_IDLE", consoleIdle, err.Error()}
	}
	if c.RefreshTTL, err = parseDuration(refreshTTL, time.Hour, 365*24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_REFRESH_TTL", refreshTTL, err.Error()}
	}
	if c.RefreshIdle, err = parseDuration(refreshIdle, time.Hour, 365*24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_REFRESH_IDLE", refreshIdle, err.Error()}
	}
	if c.PasswordMaxAge, err = parseDuration(pwMaxAge, 0, 10*366*24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_PASSWORD_MAX_AGE", pwMaxAge, err.Error()}
	}
	if c.PasswordHistory, err = strconv.Atoi(pwHistory); err != nil || c.PasswordHistory < 1 || c.PasswordHistory > 24 {
		return c, &configError{"ZHUCUN_PASSWORD_HISTORY", pwHistory, "must be a whole number from 1 to 24"}
	}
	c.PasswordFirstChange = true
	if factorRoles != "none" {
		for _, r := range splitList(factorRoles) {
			if !domain.Role(r).Valid() {
				return c, &configError{"ZHUCUN_SECOND_FACTOR_ROLES", factorRoles, "unknown role " + r + "; roles are admin, leader, town_admin, team_leader, cadre, sys_admin, sec_admin, audit_admin, or none"}
			}
			c.SecondFactorRoles = append(c.SecondFactorRoles, domain.Role(r))
		}
	}
	if c.LeaseTTL, err = parseDuration(leaseTTL, time.Second, 5*time.Minute); err != nil {
		return c, &configError{"ZHUCUN_LEASE_TTL", leaseTTL, err.Error()}
	}
	if c.MaxSkew, err = parseDuration(skew, 0, 24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_MAX_SKEW", skew, err.Error()}
	}
	if c.Backfill, err = parseDuration(backfill, time.Hour, 5*366*24*time.Hour); err != nil {
		return c, &configError{"ZHUCUN_BACKFILL", backfill, err.Error()}
	}
	if (c.WeChatAppID == "") != (c.WeChatSecret == "") {
		return c, &configError{"ZHUCUN_WECHAT_APPID", c.WeChatAppID, "set both ZHUCUN_WECHAT_APPID and ZHUCUN_WECHAT_SECRET, or neither"}
	}
	if c.WeChatTemplates, err = parseTemplates(templates); err != nil {
		return c, &configError{"ZHUCUN_WECHAT_TEMPLATES", templates, err.Error()}
	}
	if len(c.WeChatTemplates) > 0 && c.WeChatAppID == "" {
		return c, &configError{"ZHUCUN_WECHAT_TEMPLATES", templates, "needs ZHUCUN_WECHAT_APPID and ZHUCUN_WECHAT_SECRET"}
	}
	if !strings.HasPrefix(c.WeChatBase, "https://") && !strings.HasPrefix(c.WeChatBase, "http://") {
		return c, &configError{"ZHUCUN_WECHAT_API_BASE", c.WeChatBase, "must be an http(s) URL"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, &configError{"ZHUCUN_LOG_LEVEL", c.LogLevel, "must be debug, info, warn or error"}
	}
	if c.SQLiteSync != "NORMAL" && c.SQLiteSync != "FULL" {
		return c, &configError{"ZHUCUN_SQLITE_SYNC", c.SQLiteSync, "must be NORMAL or FULL"}
	}
	return c, nil
}

// parsePhotos checks the photo settings.
func (c *Config) parsePhotos(secure, maxBytes, urlTTL, uploadTTL, timeFar, farMetres string) error {
	var err error
	if c.S3Endpoint != "" {
		if _, _, err := net.SplitHostPort(c.S3Endpoint); err != nil || strings.Contains(c.S3Endpoint, "/") {
			return &configError{"ZHUCUN_S3_ENDPOINT", c.S3Endpoint, "must be host:port, without a scheme (see ZHUCUN_S3_SECURE)"}
		}
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			return &configError{"ZHUCUN_S3_ACCESS_KEY", c.S3AccessKey, "an S3 endpoint needs ZHUCUN_S3_ACCESS_KEY and ZHUCUN_S3_SECRET_KEY"}
		}
		if l := len(c.S3Bucket); l < 3 || l > 63 || strings.Trim(c.S3Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			return &configError{"ZHUCUN_S3_BUCKET", c.S3Bucket, "must be an S3 bucket name (3–63 lower-case letters, digits, dots and hyphens)"}
		}
	}
	if c.S3Secure, err = strconv.ParseBool(secure); err != nil {
		return &configError{"ZHUCUN_S3_SECURE", secure, "must be true or false"}
	}
	if c.PhotoMaxBytes, err = strconv.ParseInt(maxBytes, 10, 64); err != nil || c.PhotoMaxBytes < 1024 || c.PhotoMaxBytes > 1<<30 {
		return &configError{"ZHUCUN_PHOTO_MAX_BYTES", maxBytes, "must be a number of bytes from 1024 to 1073741824"}
	}
	if c.PhotoURLTTL, err = parseDuration(urlTTL, time.Second, time.Hour); err != nil {
		return &configError{"ZHUCUN_PHOTO_URL_TTL", urlTTL, err.Error()}
	}
	if c.PhotoUploadTTL, err = parseDuration(uploadTTL, time.Minute, 7*24*time.Hour); err != nil {
		return &configError{"ZHUCUN_PHOTO_UPLOAD_TTL", uploadTTL, err.Error()}
	}
	if c.PhotoTimeFar, err = parseDuration(timeFar, 0, 365*24*time.Hour); err != nil {
		return &configError{"ZHUCUN_PHOTO_TIME_FAR", timeFar, err.Error()}
	}
	if c.PhotoFarMetres, err = strconv.ParseFloat(farMetres, 64); err != nil || c.PhotoFarMetres < 0 || c.PhotoFarMetres > 1e7 {
		return &configError{"ZHUCUN_PHOTO_FAR_METRES", farMetres, "must be a number of metres from 0 to 10000000"}
	}
	return nil
}

func parseDuration(s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if n, nerr := strconv.Atoi(s); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil {
		return 0, errors.New("must be a duration such as 15m or 720h")
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("must be between %s and %s", lo, hi)
	}
	return d, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("zhucun", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseTemplates reads rule=template pairs, comma-separated; each rule one
// of domain.NotificationRules.
func parseTemplates(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		rule, tmpl, ok := strings.Cut(part, "=")
		rule, tmpl = strings.TrimSpace(rule), strings.TrimSpace(tmpl)
		if !ok || tmpl == "" || !slices.Contains(domain.NotificationRules, rule) {
			return nil, fmt.Errorf("must be rule=template pairs, rules among %s", strings.Join(domain.NotificationRules, ", "))
		}
		out[rule] = tmpl
	}
	return out, nil
}
