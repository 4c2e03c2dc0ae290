package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"zhucun/domain"
)

const (
	issuer         = "zhucun"
	audienceAPI    = "zhucun-api"
	audienceTicket = "zhucun-wechat-bind"
	audienceFactor = "zhucun-second-factor"
	factorTTL      = 5 * time.Minute
	clockLeeway    = 30 * time.Second
)

type accessClaims struct {
	Role string `json:"role"`
	// AMR are the factors the session was opened with (RFC 8176: pwd, otp).
	AMR []string `json:"amr,omitempty"`
	jwt.RegisteredClaims
}

func (s *server) sign(sub, audience, role string, ttl time.Duration) (string, error) {
	return s.signWith(sub, audience, role, nil, ttl)
}

func (s *server) signWith(sub, audience, role string, amr []string, ttl time.Duration) (string, error) {
	now := s.svc.Now()
	var jti [9]byte
	_, _ = rand.Read(jti[:])
	claims := accessClaims{Role: role, AMR: amr, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: sub, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: hex.EncodeToString(jti[:]),
	}}
	if g := s.cfg.Signer; g != nil {
		return jwt.NewWithClaims(g.Method, claims).SignedString(g.SignKey)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTSecret)
}

// verify parses a token for one audience: the configured signature only
// (HS256, or SM2 under the national suite), expiry required.
func (s *server) verify(token, audience string) (*accessClaims, error) {
	var claims accessClaims
	method, key := jwt.SigningMethod(jwt.SigningMethodHS256), any(s.cfg.JWTSecret)
	if g := s.cfg.Signer; g != nil {
		method, key = g.Method, g.VerifyKey
	}
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{method.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithLeeway(clockLeeway),
		jwt.WithTimeFunc(s.svc.Now),
	)
	if err != nil {
		return nil, err
	}
	return &claims, nil
}

func (s *server) bindTicket(openID string) (string, error) {
	if openID == "" {
		return "", errors.New("no openid")
	}
	return s.sign(openID, audienceTicket, "", s.cfg.TicketTTL)
}

// authenticate requires a valid access token and loads the caller's
// account and scope, so a disabled account or a changed scope takes
// effect at once. Unless the route is one of setup (the caller's own
// account, password and factor enrolment), a password change that is due
// or a second factor the role needs and the session lacks refuses it.
func (s *server) authenticate(setup bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.authenticated(c, setup); err != nil {
			return err
		}
		return c.Next()
	}
}

func (s *server) authenticated(c *fiber.Ctx, setup bool) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return newError(domain.KindUnauthorized, "unauthenticated", "sign in and send the access token as 'Authorization: Bearer <token>'")
	}
	claims, err := s.verify(strings.TrimSpace(token), audienceAPI)
	if err != nil {
		return &domain.Error{Kind: domain.KindUnauthorized, Code: "invalid_token", Message: "the access token is invalid or expired", Err: err}
	}
	cl, err := s.svc.Users.Caller(ctx(c), claims.Subject, requestID(c))
	if err != nil {
		return err
	}
	cl.Addr = c.IP()
	c.Locals(localCaller, cl)
	if setup {
		return nil
	}
	if reason := s.svc.Auth.Policy.PasswordDue(cl, s.svc.Now()); reason != "" {
		return domain.PasswordChangeRequired(reason)
	}
	if (cl.SecondFactor || s.svc.Auth.RoleNeedsSecondFactor(cl.Role)) && !slices.Contains(claims.AMR, domain.FactorTOTP) {
		return &domain.Error{Kind: domain.KindForbidden, Code: "second_factor_required",
			Message: "your role signs in with a second factor: enrol one with POST /api/v1/me/second-factor, or sign in again with your code (须使用动态口令登录)"}
	}
	return nil
}

// tokenJSON is the RFC 6749 §5.1 token response, with the account.
type tokenJSON struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	User         userJSON `json:"user"`
}

// tokens answers a sign-in or refresh with an access token for the
// factors given and, unless refresh is one already, a new refresh token.
func (s *server) tokens(c *fiber.Ctx, u domain.User, refresh, factors string) error {
	t, err := s.tokenSet(c, u, refresh, factors)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *server) tokenSet(c *fiber.Ctx, u domain.User, refresh, factors string) (tokenJSON, error) {
	access, err := s.signWith(u.ID, audienceAPI, string(u.Role), strings.Fields(factors), s.cfg.AccessTTL)
	if err != nil {
		return tokenJSON{}, err
	}
	if refresh == "" {
		if refresh, err = s.svc.Auth.IssueRefresh(ctx(c), u.ID, "", factors); err != nil {
			return tokenJSON{}, err
		}
	}
	c.Set(fiber.HeaderPragma, "no-cache")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return tokenJSON{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds()),
		RefreshToken: refresh, User: toUserJSON(u)}, nil
}

// passwordSignedIn ends a sign-in whose password was right: with tokens,
// or, for an account with a second factor, with a 401 that carries the
// ticket to send with the code.
func (s *server) passwordSignedIn(c *fiber.Ctx, u domain.User) error {
	if !s.svc.Auth.NeedsSecondFactor(u) {
		return s.tokens(c, u, "", domain.FactorPassword)
	}
	t, err := s.sign(u.ID, audienceFactor, "", factorTTL)
	if err != nil {
		return err
	}
	return &domain.Error{Kind: domain.KindUnauthorized, Code: "second_factor_required",
		Message: "the password is right; send the code of your authenticator app, or a recovery code, to POST /api/v1/auth/second-factor with this ticket (请输入动态口令)",
		Data:    map[string]string{"ticket": t}}
}

type loginReq struct {
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

func (s *server) login(c *fiber.Ctx) error {
	var req loginReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.svc.Auth.Login(ctx(c), strings.TrimSpace(req.Phone), req.Password, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	return s.passwordSignedIn(c, u)
}

type secondFactorReq struct {
	Ticket       string `json:"ticket"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recoveryCode"`
}

// secondFactor ends a sign-in with the code of its ticket's account.
func (s *server) secondFactor(c *fiber.Ctx) error {
	var req secondFactorReq
	if err := decode(c, &req); err != nil {
		return err
	}
	var v domain.Validator
	if v.Required("ticket", req.Ticket) {
		v.MaxLen("ticket", req.Ticket, 2048)
	}
	if err := v.Err(); err != nil {
		return err
	}
	claims, err := s.verify(req.Ticket, audienceFactor)
	if err != nil || claims.Subject == "" {
		return &domain.Error{Kind: domain.KindUnauthorized, Code: "invalid_ticket", Message: "the sign-in ticket is invalid or expired; sign in with your password again", Err: err}
	}
	u, err := s.svc.Auth.SecondFactor(ctx(c), claims.Subject, req.Code, req.RecoveryCode, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	return s.tokens(c, u, "", domain.FactorsBoth)
}

type refreshReq struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *server) refresh(c *fiber.Ctx) error {
	var req refreshReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, next, factors, err := s.svc.Auth.Refresh(ctx(c), req.RefreshToken, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	return s.tokens(c, u, next, factors)
}

func (s *server) logout(c *fiber.Ctx) error {
	var req refreshReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.svc.Auth.Logout(ctx(c), req.RefreshToken, c.IP(), requestID(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type wechatReq struct {
	Code string `json:"code"`
}

func (s *server) wechatLogin(c *fiber.Ctx) error {
	var req wechatReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.svc.Auth.WeChatLogin(ctx(c), req.Code, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	if s.svc.Auth.NeedsSecondFactor(u) || s.svc.Auth.RoleNeedsSecondFactor(u.Role) {
		return &domain.Error{Kind: domain.KindForbidden, Code: "second_factor_required",
			Message: "your account signs in with a password and a code, not through WeChat (须使用密码和动态口令登录)"}
	}
	return s.tokens(c, u, "", domain.FactorPassword)
}

type bindReq struct {
	Ticket   string `json:"ticket"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

func (s *server) wechatBind(c *fiber.Ctx) error {
	var req bindReq
	if err := decode(c, &req); err != nil {
		return err
	}
	var v domain.Validator
	v.Required("ticket", req.Ticket)
	v.Required("phone", req.Phone)
	v.Required("password", req.Password)
	if err := v.Err(); err != nil {
		return err
	}
	claims, err := s.verify(req.Ticket, audienceTicket)
	if err != nil || claims.Subject == "" {
		return &domain.Error{Kind: domain.KindUnauthorized, Code: "invalid_ticket", Message: "the bind ticket is invalid or expired; sign in with WeChat again", Err: err}
	}
	u, err := s.svc.Auth.BindWeChat(ctx(c), claims.Subject, strings.TrimSpace(req.Phone), req.Password, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	return s.passwordSignedIn(c, u)
}

type passwordReq struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// changePassword sets the caller's own password.
func (s *server) changePassword(c *fiber.Ctx) error {
	var req passwordReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.svc.Auth.ChangePassword(ctx(c), caller(c), req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type enrolReq struct {
	Password string `json:"password"`
}

type enrolmentJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"otpauthUri"`
	// QRCode is the URI as a PNG data URL, for the app to scan.
	QRCode string `json:"qrCode"`
}

// startSecondFactor begins the enrolment of the caller's TOTP factor.
func (s *server) startSecondFactor(c *fiber.Ctx) error {
	var req enrolReq
	if err := decode(c, &req); err != nil {
		return err
	}
	e, err := s.svc.Auth.StartTOTP(ctx(c), caller(c), req.Password)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(e.URI, qrcode.Medium, 256)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(enrolmentJSON{Secret: e.Secret, URI: e.URI, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
}

type confirmReq struct {
	Code string `json:"code"`
}

type enrolledJSON struct {
	tokenJSON
	// RecoveryCodes are shown this once.
	RecoveryCodes []string `json:"recoveryCodes"`
}

// confirmSecondFactor enables the pending factor and answers with the
// recovery codes and the tokens of a session opened with both factors.
func (s *server) confirmSecondFactor(c *fiber.Ctx) error {
	var req confirmReq
	if err := decode(c, &req); err != nil {
		return err
	}
	var v domain.Validator
	if v.Required("code", req.Code) {
		v.MaxLen("code", req.Code, 16)
	}
	if err := v.Err(); err != nil {
		return err
	}
	cl := caller(c)
	codes, err := s.svc.Auth.ConfirmTOTP(ctx(c), cl, req.Code)
	if err != nil {
		return err
	}
	u, err := s.svc.Users.Get(ctx(c), cl, cl.UserID)
	if err != nil {
		return err
	}
	t, err := s.tokenSet(c, u, "", domain.FactorsBoth)
	if err != nil {
		return err
	}
	return c.JSON(enrolledJSON{tokenJSON: t, RecoveryCodes: codes})
}

// resetSecondFactor removes an account's factor (the security administrator's).
func (s *server) resetSecondFactor(c *fiber.Ctx) error {
	cl := caller(c)
	u, err := s.svc.Auth.ResetSecondFactor(ctx(c), cl, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(userFor(u, domain.PhoneWhole(cl, u)))
}
