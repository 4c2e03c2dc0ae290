package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// RefreshToken is a stored refresh token. Only its SHA-256 is kept. Tokens
// rotated from one sign-in share a Family; reusing a rotated token revokes
// the family.
type RefreshToken struct {
	Hash      string
	Family    string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Factors are how the session was opened: FactorPassword, or that and
	// FactorTOTP. A refresh keeps them.
	Factors string
}

// Session factors, as a token's amr claim names them (RFC 8176).
const (
	FactorPassword = "pwd"
	FactorTOTP     = "otp"
	// FactorsBoth is a session opened with a password and a code.
	FactorsBoth = FactorPassword + " " + FactorTOTP
)

// SessionStore keeps refresh tokens and WeChat bindings. ClaimToken and
// RevokeFamily insert marker records rather than update one document, so
// two racing refreshes of one token cannot both win (see FERRETDB.md).
type SessionStore interface {
	InsertRefreshToken(ctx context.Context, t RefreshToken) error
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// ClaimRefreshToken marks a token used; ErrDuplicate if it already was.
	ClaimRefreshToken(ctx context.Context, hash string, at time.Time) error
	RevokeFamily(ctx context.Context, family string, at time.Time) error
	FamilyRevoked(ctx context.Context, family string) (bool, error)

	// WeChatUser returns the account bound to an openid, or ErrNotFound.
	WeChatUser(ctx context.Context, openID string) (string, error)
	// BindWeChat binds an openid to an account; ErrDuplicate if it is bound.
	BindWeChat(ctx context.Context, openID, userID string, at time.Time) error
}

// WeChat exchanges a mini-program login code for the user's openid.
type WeChat interface {
	Code2Session(ctx context.Context, code string) (openID string, err error)
}

// WeChat errors that the client of a WeChat implementation returns.
var (
	// ErrWeChatCode means WeChat refused the code (invalid, used or expired).
	ErrWeChatCode = errors.New("wechat refused the login code")
	// ErrWeChatDisabled means no WeChat app is configured.
	ErrWeChatDisabled = errors.New("wechat sign-in is not configured")
)

// AuthService signs accounts in and keeps their refresh tokens.
type AuthService struct {
	Users      UserStore
	Sessions   SessionStore
	Hasher     PasswordHasher
	WeChat     WeChat
	PhoneLimit *Throttle
	AddrLimit  *Throttle
	Audit      Auditor
	Now        Clock
	Policy     PasswordPolicy
	// Callers is told when an account's password or factor changes.
	Callers *CallerCache
	// SecondFactorRoles must sign in with a second factor; Seal keeps
	// the factors' secrets (nil: kept as they are).
	SecondFactorRoles []Role
	Seal              Sealer
	RefreshTTL        time.Duration
	// IdleTTL, when shorter than RefreshTTL, is how long a refresh token
	// lives unused: a session nobody refreshes for that long is dead.
	IdleTTL time.Duration
	// dummyHash is verified when no account has the phone, so that a
	// missing account takes as long as a wrong password.
	DummyHash string
}

func invalidCredentials() error {
	return &Error{Kind: KindUnauthorized, Code: "invalid_credentials", Message: "wrong phone or password"}
}

func tooMany(wait time.Duration) error {
	return &Error{Kind: KindRateLimited, Code: "too_many_attempts",
		Message: "too many failed sign-ins; try again in " + strconv.Itoa(int(math.Ceil(wait.Seconds()))) + " s", RetryAfter: wait}
}

// Login checks a phone and password from an address.
func (s AuthService) Login(ctx context.Context, phone, password, addr, requestID string) (User, error) {
	var v Validator
	v.Required("phone", phone)
	v.Required("password", password)
	if err := v.Err(); err != nil {
		return User{}, err
	}
	if len(password) > 4*MaxPasswordLen {
		return User{}, invalidCredentials()
	}
	pk, ak := "phone:"+phone, "addr:"+addr
	if w := max(s.PhoneLimit.Wait(pk), s.AddrLimit.Wait(ak)); w > 0 {
		_ = s.Audit.Refusal(ctx, Caller{RequestID: requestID, Addr: addr}, "session", MaskPhone(phone), "login_throttled", OutcomeFailure, "")
		return User{}, tooMany(w)
	}
	u, err := s.Users.UserByPhone(ctx, phone)
	hash := s.DummyHash
	if err == nil {
		hash = u.PasswordHash
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("login: %w", err)
	}
	ok, verr := s.Hasher.Verify(hash, password)
	if verr != nil && err == nil {
		return User{}, fmt.Errorf("login: %w", verr)
	}
	if err != nil || !ok || u.Disabled {
		w := max(s.PhoneLimit.Fail(pk), s.AddrLimit.Fail(ak))
		// An unknown phone is named masked: no phone number is logged whole.
		who := u.ID
		if who == "" {
			who = MaskPhone(phone)
		}
		_ = s.Audit.Refusal(ctx, Caller{UserID: u.ID, Role: u.Role, RequestID: requestID, Addr: addr}, "session", who, "login_failed", OutcomeFailure, first(u.TownIDs))
		if w > 0 {
			return User{}, tooMany(w)
		}
		return User{}, invalidCredentials()
	}
	s.PhoneLimit.Succeed(pk)
	action := "login"
	if s.NeedsSecondFactor(u) {
		action = "login_password_ok" // the sign-in ends with the code
	}
	return u, s.Audit.Record(ctx, Caller{UserID: u.ID, Role: u.Role, RequestID: requestID, Addr: addr}, "session", u.ID, action, first(u.TownIDs))
}

// IssueRefresh makes a refresh token for an account, of a session opened
// with the factors given; an empty family starts a new one.
func (s AuthService) IssueRefresh(ctx context.Context, userID, family, factors string) (string, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	raw := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.Now()
	if family == "" {
		family = NewID(now)
	}
	ttl := s.RefreshTTL
	if s.IdleTTL > 0 && s.IdleTTL < ttl {
		ttl = s.IdleTTL
	}
	err := s.Sessions.InsertRefreshToken(ctx, RefreshToken{
		Hash: hashToken(raw), Family: family, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl), Factors: factors,
	})
	if err != nil {
		return "", fmt.Errorf("issue refresh token: %w", err)
	}
	return raw, nil
}

func hashToken(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

func invalidGrant(msg string) error {
	return &Error{Kind: KindUnauthorized, Code: "invalid_grant", Message: msg}
}

// Refresh rotates a refresh token: it returns the account, a new token of
// the same family and the factors the session was opened with. A token
// used twice revokes its whole family.
func (s AuthService) Refresh(ctx context.Context, raw, addr, requestID string) (User, string, string, error) {
	u, next, t, err := s.refresh(ctx, raw, addr, requestID)
	return u, next, t.Factors, err
}

func (s AuthService) refresh(ctx context.Context, raw, addr, requestID string) (User, string, RefreshToken, error) {
	if raw == "" || len(raw) > 100 {
		return User{}, "", RefreshToken{}, invalidGrant("the refresh token is missing or malformed")
	}
	h := hashToken(raw)
	t, err := s.Sessions.GetRefreshToken(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return User{}, "", RefreshToken{}, invalidGrant("unknown refresh token")
	} else if err != nil {
		return User{}, "", RefreshToken{}, fmt.Errorf("refresh: %w", err)
	}
	now := s.Now()
	if !now.Before(t.ExpiresAt) {
		return User{}, "", RefreshToken{}, invalidGrant("the refresh token has expired, or went unused too long; sign in again")
	}
	if revoked, err := s.Sessions.FamilyRevoked(ctx, t.Family); err != nil {
		return User{}, "", RefreshToken{}, fmt.Errorf("refresh: %w", err)
	} else if revoked {
		return User{}, "", RefreshToken{}, invalidGrant("the session was signed out or its token reused")
	}
	if err := s.Sessions.ClaimRefreshToken(ctx, h, now); errors.Is(err, ErrDuplicate) {
		if err := s.Sessions.RevokeFamily(ctx, t.Family, now); err != nil {
			return User{}, "", RefreshToken{}, fmt.Errorf("refresh: revoke reused family: %w", err)
		}
		_ = s.Audit.Refusal(ctx, Caller{UserID: t.UserID, RequestID: requestID, Addr: addr}, "session", t.UserID, "refresh_reused", OutcomeFailure, "")
		return User{}, "", RefreshToken{}, &Error{Kind: KindUnauthorized, Code: "refresh_token_reused",
			Message: "this refresh token was already used; the session is revoked, sign in again"}
	} else if err != nil {
		return User{}, "", RefreshToken{}, fmt.Errorf("refresh: %w", err)
	}
	u, err := s.Users.GetUser(ctx, t.UserID, Scope{All: true})
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return User{}, "", RefreshToken{}, invalidGrant("the account no longer exists or is disabled")
	} else if err != nil {
		return User{}, "", RefreshToken{}, fmt.Errorf("refresh: %w", err)
	}
	if t.Factors == "" {
		t.Factors = FactorPassword // a token from before factors were kept
	}
	if s.NeedsSecondFactor(u) && t.Factors != FactorsBoth {
		// The factor was enrolled after this session opened: the session
		// cannot go on as a one-factor one.
		return User{}, "", RefreshToken{}, invalidGrant("a second factor is enrolled now; sign in with it")
	}
	next, err := s.IssueRefresh(ctx, u.ID, t.Family, t.Factors)
	if err != nil {
		return User{}, "", RefreshToken{}, err
	}
	return u, next, t, nil
}

// Logout revokes the family of a refresh token. An unknown token is not an error.
func (s AuthService) Logout(ctx context.Context, raw, addr, requestID string) error {
	if raw == "" {
		return (&Validator{fields: []FieldError{{Field: "refresh_token", Code: FieldRequired, Message: "refresh_token is required"}}}).Err()
	}
	t, err := s.Sessions.GetRefreshToken(ctx, hashToken(raw))
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.Sessions.RevokeFamily(ctx, t.Family, s.Now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return s.Audit.Record(ctx, Caller{UserID: t.UserID, RequestID: requestID, Addr: addr}, "session", t.UserID, "logout", "")
}

// WeChatLogin exchanges a mini-program code. An openid bound to an account
// signs it in; an unbound one fails with code wechat_unbound and the openid
// in Data, for the caller to make a bind ticket.
func (s AuthService) WeChatLogin(ctx context.Context, code, addr, requestID string) (User, error) {
	var v Validator
	if v.Required("code", code) {
		v.MaxLen("code", code, 128)
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	if s.WeChat == nil {
		return User{}, &Error{Kind: KindUnavailable, Code: "wechat_disabled", Message: "WeChat sign-in is not configured", Err: ErrWeChatDisabled}
	}
	openID, err := s.WeChat.Code2Session(ctx, code)
	switch {
	case errors.Is(err, ErrWeChatCode):
		return User{}, &Error{Kind: KindUnauthorized, Code: "wechat_code_invalid", Message: "WeChat refused the login code; call wx.login again", Err: err}
	case errors.Is(err, ErrWeChatDisabled):
		return User{}, &Error{Kind: KindUnavailable, Code: "wechat_disabled", Message: "WeChat sign-in is not configured", Err: err}
	case err != nil:
		return User{}, &Error{Kind: KindUnavailable, Code: "wechat_unavailable", Message: "WeChat did not answer; try again", Err: err}
	}
	uid, err := s.Sessions.WeChatUser(ctx, openID)
	if errors.Is(err, ErrNotFound) {
		return User{}, &Error{Kind: KindUnauthorized, Code: "wechat_unbound",
			Message: "this WeChat account is not bound; bind it with your phone and password", Data: map[string]string{"openid": openID}}
	} else if err != nil {
		return User{}, fmt.Errorf("wechat login: %w", err)
	}
	u, err := s.Users.GetUser(ctx, uid, Scope{All: true})
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return User{}, invalidCredentials()
	} else if err != nil {
		return User{}, fmt.Errorf("wechat login: %w", err)
	}
	return u, s.Audit.Record(ctx, Caller{UserID: u.ID, Role: u.Role, RequestID: requestID, Addr: addr}, "session", u.ID, "login_wechat", first(u.TownIDs))
}

// BindWeChat binds an openid (from a verified bind ticket) to the account
// that the phone and password sign in to.
func (s AuthService) BindWeChat(ctx context.Context, openID, phone, password, addr, requestID string) (User, error) {
	u, err := s.Login(ctx, phone, password, addr, requestID)
	if err != nil {
		return User{}, err
	}
	if err := s.Sessions.BindWeChat(ctx, openID, u.ID, s.Now()); errors.Is(err, ErrDuplicate) {
		bound, gerr := s.Sessions.WeChatUser(ctx, openID)
		if gerr == nil && bound == u.ID {
			return u, nil // a retried bind
		}
		return User{}, &Error{Kind: KindConflict, Code: "wechat_already_bound", Message: "this WeChat account is bound to another account"}
	} else if err != nil {
		return User{}, fmt.Errorf("bind wechat: %w", err)
	}
	return u, s.Audit.Record(ctx, Caller{UserID: u.ID, Role: u.Role, RequestID: requestID, Addr: addr}, "user", u.ID, "bind_wechat", first(u.TownIDs))
}
