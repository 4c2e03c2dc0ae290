// Package api is zhucun's HTTP interface: a Fiber v2 JSON API under
// /api/v1, with problem+json errors, JWT sign-in, per-route role policies,
// request ids, structured logs, Prometheus metrics and the OpenAPI spec.
//
// Handlers decode and validate the request's shape, call a domain service
// with the authenticated domain.Caller, and encode the result. Every error
// goes through one error handler (problem.go).
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/golang-jwt/jwt/v5"

	"zhucun/domain"
)

// TokenSigner is a token signature other than HS256.
type TokenSigner struct {
	Method    jwt.SigningMethod
	SignKey   any
	VerifyKey any
}

// Config tunes the HTTP layer.
type Config struct {
	Version   string
	JWTSecret []byte
	// Signer, when set, signs tokens in place of HS256 with JWTSecret (the
	// national suite's SM2): its method, signing key and verifying key.
	Signer      *TokenSigner
	AccessTTL   time.Duration // access token lifetime
	TicketTTL   time.Duration // WeChat bind ticket lifetime
	CORSOrigins []string      // empty: no CORS headers at all
	// ProxyHeader, when set with TrustedProxies, is read for the client address.
	ProxyHeader    string
	TrustedProxies []string
	TLS            bool   // served over HTTPS: send HSTS
	Spec           []byte // openapi.yaml
	Logger         *slog.Logger
	// ReadyTimeout bounds the readiness check.
	ReadyTimeout time.Duration
	// Location is the campaign's time zone, for "today" in dates.
	Location *time.Location
	// Console, when set, serves every path outside the API's own (the web
	// console at /); it is told the client's address and the request id
	// in the web package's headers, and sets its own security policy.
	Console http.Handler
}

// Services are the domain services the handlers call.
type Services struct {
	Org         domain.OrgService
	Users       domain.UserService
	Auth        domain.AuthService
	Audit       domain.Auditor
	Catalogues  domain.CatalogueService
	Campaigns   domain.CampaignService
	Ledger      domain.LedgerService
	Teams       domain.TeamService
	Trainings   domain.TrainingService
	Field       domain.FieldService
	OnPost      domain.OnPostService
	Photos      domain.PhotoService
	Stats       domain.StatsService
	Assessments domain.AssessmentService
	FieldChecks domain.FieldCheckService
	Exports     domain.ExportService
	Reviews     domain.ReviewService
	Approvals   domain.ApprovalService
	Leaves      domain.LeaveService
	Notify      domain.NotifyService
	Feedback    domain.FeedbackService
	// Ready reports whether the backing stores answer.
	Ready func(ctx context.Context) error
	Now   domain.Clock
}

// Limits on request bodies.
const (
	maxBody     = 16 << 20 // whole request, imports included
	maxJSONBody = 1 << 20  // a JSON body
)

type server struct {
	cfg     Config
	svc     Services
	log     *slog.Logger
	metrics *metrics
	routes  []Route
	codecs  []recordCodec
}

// New builds the Fiber app with every route and middleware.
func New(cfg Config, svc Services) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.TicketTTL == 0 {
		cfg.TicketTTL = 5 * time.Minute
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	s := &server{cfg: cfg, svc: svc, log: cfg.Logger, metrics: newMetrics(), codecs: []recordCodec{reportCodec(), disputeCodec(), projectCodec(), fundCodec(), projectUpdateCodec()}}
	fc := fiber.Config{
		AppName:   "zhucun",
		Immutable: true, // request strings outlive the handler in logs and errors
		BodyLimit: maxBody,
		// Bodies are streamed: bufferBody reads them whole (up to maxBody)
		// for every route but the photo upload, which streams them to the
		// photo store; multipart bodies are parsed only where they are read.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ErrorHandler:                 s.errorHandler,
		DisableStartupMessage:        true,
		ReadTimeout:                  60 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		StrictRouting:                false,
	}
	if cfg.ProxyHeader != "" && len(cfg.TrustedProxies) > 0 {
		fc.ProxyHeader = cfg.ProxyHeader
		fc.EnableTrustedProxyCheck = true
		fc.TrustedProxies = cfg.TrustedProxies
	}
	app := fiber.New(fc)
	app.Use(s.requestID, s.observe, recover.New(), s.securityHeaders, s.bufferBody)
	if len(cfg.CORSOrigins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins:  strings.Join(cfg.CORSOrigins, ","),
			AllowHeaders:  "Authorization, Content-Type, X-Request-ID, If-Match, Accept-Language",
			ExposeHeaders: "X-Request-ID, Retry-After, ETag",
			MaxAge:        600,
		}))
	}
	s.register(app)
	s.mountConsole(app)
	return &API{App: app, routes: s.routes}
}

// Headers the console's mount sets on each request it hands the console:
// the client's address (as the proxy settings give it) and the request id.
const (
	ConsoleAddrHeader      = "X-Zhucun-Client-Addr"
	ConsoleRequestIDHeader = "X-Zhucun-Request-Id"
)

// consolePath reports whether a path is the console's: every path but the
// API's, its reference and the probes.
func (s *server) consolePath(p string) bool {
	if s.cfg.Console == nil {
		return false
	}
	switch {
	case p == "/api" || strings.HasPrefix(p, "/api/"), p == "/docs" || strings.HasPrefix(p, "/docs/"),
		p == "/healthz", p == "/readyz", p == "/metrics", p == "/openapi.yaml":
		return false
	}
	return true
}

// mountConsole hands the console's paths to it, after every API route.
func (s *server) mountConsole(app *fiber.App) {
	if s.cfg.Console == nil {
		return
	}
	h := adaptor.HTTPHandler(s.cfg.Console)
	app.Use(func(c *fiber.Ctx) error {
		if !s.consolePath(c.Path()) {
			return c.Next()
		}
		// Set, not added: a client's own header of that name is replaced.
		c.Request().Header.Set(ConsoleAddrHeader, c.IP())
		c.Request().Header.Set(ConsoleRequestIDHeader, requestID(c))
		return h(c)
	})
}

// bufferBody reads a request's body whole, refusing one over maxBody with
// 413, except for the photo upload, which streams it.
func (s *server) bufferBody(c *fiber.Ctx) error {
	req := c.Request()
	if !req.IsBodyStream() || c.Method() == fiber.MethodPost && strings.TrimSuffix(c.Path(), "/") == photoPath {
		return c.Next()
	}
	b, err := io.ReadAll(io.LimitReader(req.BodyStream(), maxBody+1))
	if err != nil {
		c.Response().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "the request body could not be read")
	}
	if len(b) > maxBody {
		c.Response().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBody(b)
	return c.Next()
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

const (
	localRequestID = "requestId"
	localCaller    = "caller"
)

// requestID accepts a sane X-Request-ID or makes one, and echoes it.
func (s *server) requestID(c *fiber.Ctx) error {
	assignRequestID(c)
	return c.Next()
}

func assignRequestID(c *fiber.Ctx) string {
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDRE.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return id
}

// requestID returns the request's id. Requests that the server refuses
// before any middleware runs (a body over the limit) get one here.
func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	return assignRequestID(c)
}

// observe answers errors through the error handler, then logs one line
// and records metrics for every request.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	dur := time.Since(start)
	route := routeLabel(c)
	s.metrics.observe(c.Method(), route, status, dur)
	attrs := []any{
		"method", c.Method(), "route", route, "status", status,
		"durationMs", float64(dur.Microseconds()) / 1000, "requestId", requestID(c), "ip", c.IP(),
	}
	if caller, ok := c.Locals(localCaller).(domain.Caller); ok {
		attrs = append(attrs, "account", caller.UserID, "role", string(caller.Role))
	}
	s.log.Info("request", attrs...)
	return nil
}

// routeLabel is the matched route template, or "unmatched", so metrics and
// logs never grow a label per distinct URL.
func routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Path == "/" && c.Path() != "/" || r.Method == "USE" {
		return "unmatched"
	}
	return r.Path
}

func (s *server) securityHeaders(c *fiber.Ctx) error {
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !s.consolePath(c.Path()) { // the console sets these itself
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	}
	switch {
	case s.consolePath(c.Path()):
		// The console sets its own policy (its own scripts and styles).
	case strings.HasPrefix(c.Path(), "/docs"):
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	default:
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'")
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	if s.cfg.TLS {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	return c.Next()
}

// Route is one registered route and the roles that may call it; nil Roles
// means public.
type Route struct {
	Method, Path string
	Roles        []domain.Role
}

// API is the HTTP application and the policy of each of its routes.
type API struct {
	App    *fiber.App
	routes []Route
}

// Routes lists every registered route with the roles that may call it.
func (a *API) Routes() []Route { return slices.Clone(a.routes) }

// handle registers a route for the given roles. Every route goes through
// here, so every route has a policy; authenticate and the role check run
// before the handler.
func (s *server) handle(r fiber.Router, method, path string, roles []domain.Role, h fiber.Handler) {
	full := strings.TrimSuffix(routerPrefix(r), "/") + path
	s.routes = append(s.routes, Route{Method: method, Path: full, Roles: roles})
	if roles == nil {
		r.Add(method, path, h)
		return
	}
	r.Add(method, path, s.authenticate(false), allow(roles), h)
}

// handleSetup adds a route of the caller's own account that stays open
// while a password change is due or a second factor is not yet in the
// session: reading the account, changing the password, enrolling.
func (s *server) handleSetup(r fiber.Router, method, path string, h fiber.Handler) {
	full := strings.TrimSuffix(routerPrefix(r), "/") + path
	s.routes = append(s.routes, Route{Method: method, Path: full, Roles: everyone})
	r.Add(method, path, s.authenticate(true), allow(everyone), h)
}

func routerPrefix(r fiber.Router) string {
	if g, ok := r.(*fiber.Group); ok {
		return g.Prefix
	}
	return ""
}

// allow refuses callers whose role is not in roles with 403.
func allow(roles []domain.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !slices.Contains(roles, caller(c).Role) {
			return domain.Forbidden()
		}
		return c.Next()
	}
}

func caller(c *fiber.Ctx) domain.Caller {
	cl, _ := c.Locals(localCaller).(domain.Caller)
	return cl
}

// ctx is the request's context for service calls.
func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
