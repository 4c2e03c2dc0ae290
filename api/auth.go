package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"zhucun/domain"
)

const (
	issuer         = "zhucun"
	audienceAPI    = "zhucun-api"
	audienceTicket = "zhucun-wechat-bind"
	clockLeeway    = 30 * time.Second
)

type accessClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

func (s *server) sign(sub, audience, role string, ttl time.Duration) (string, error) {
	now := s.svc.Now()
	var jti [9]byte
	_, _ = rand.Read(jti[:])
	claims := accessClaims{Role: role, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: sub, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: hex.EncodeToString(jti[:]),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTSecret)
}

// verify parses a token for one audience: HS256 only, expiry required.
func (s *server) verify(token, audience string) (*accessClaims, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
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
// effect at once.
func (s *server) authenticate(c *fiber.Ctx) error {
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
	return c.Next()
}

// tokenJSON is the RFC 6749 §5.1 token response, with the account.
type tokenJSON struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	User         userJSON `json:"user"`
}

func (s *server) tokens(c *fiber.Ctx, u domain.User, refresh string) error {
	access, err := s.sign(u.ID, audienceAPI, string(u.Role), s.cfg.AccessTTL)
	if err != nil {
		return err
	}
	if refresh == "" {
		if refresh, err = s.svc.Auth.IssueRefresh(ctx(c), u.ID, ""); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderPragma, "no-cache")
	return c.JSON(tokenJSON{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds()),
		RefreshToken: refresh, User: toUserJSON(u)})
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
	return s.tokens(c, u, "")
}

type refreshReq struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *server) refresh(c *fiber.Ctx) error {
	var req refreshReq
	if err := decode(c, &req); err != nil {
		return err
	}
	u, next, err := s.svc.Auth.Refresh(ctx(c), req.RefreshToken, c.IP(), requestID(c))
	if err != nil {
		return err
	}
	return s.tokens(c, u, next)
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
	return s.tokens(c, u, "")
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
	return s.tokens(c, u, "")
}
