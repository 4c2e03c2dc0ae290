package domain

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sealer encrypts secrets and personal fields at rest, with a key kept
// outside the database (AES-256-GCM, or SM4 under the national option).
type Sealer interface {
	Seal(plain []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// TOTP parameters (RFC 6238 with its defaults, which every authenticator
// app reads): HMAC-SHA-1, 6 digits, 30-second steps; a code of the step
// before or after is taken too, for clocks a little apart.
const (
	totpDigits = 6
	totpStep   = 30
	totpSkew   = 1
	// RecoveryCodeCount is how many recovery codes an enrolment gives.
	RecoveryCodeCount = 10
	// TOTPIssuer names the account in authenticator apps.
	TOTPIssuer = "zhucun"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPCode is the code of a secret for the 30-second step that holds t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(t.Unix()/totpStep))
}

// hotp is RFC 4226's code for a counter.
func hotp(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1000000)
}

// totpStepOf finds the step of a code within the skew around now, or -1.
func totpStepOf(secret []byte, code string, now time.Time) int64 {
	if len(code) != totpDigits {
		return -1
	}
	step := now.Unix() / totpStep
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		if subtle.ConstantTimeCompare([]byte(hotp(secret, uint64(step+d))), []byte(code)) == 1 {
			return step + d
		}
	}
	return -1
}

// DecodeTOTPSecret reads a base32 secret as an authenticator app shows it.
func DecodeTOTPSecret(s string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(strings.ReplaceAll(s, " ", "")))
}

// TOTPEnrolment is what an account is shown to enrol its factor: the
// secret, and the otpauth URI an authenticator app reads from a QR code.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// NeedsSecondFactor reports whether an account's sign-in asks for a code
// after the password: every account with a factor enrolled.
func (s AuthService) NeedsSecondFactor(u User) bool { return u.Security.TOTPSecret != "" }

// RoleNeedsSecondFactor reports whether the role must sign in with two
// factors (the administrator roles and leaders, by default).
func (s AuthService) RoleNeedsSecondFactor(r Role) bool {
	return slices.Contains(s.SecondFactorRoles, r)
}

func (s AuthService) seal(plain []byte) (string, error) {
	if s.Seal == nil {
		return b32.EncodeToString(plain), nil
	}
	return s.Seal.Seal(plain)
}

func (s AuthService) open(sealed string) ([]byte, error) {
	if s.Seal == nil {
		return b32.DecodeString(sealed)
	}
	return s.Seal.Open(sealed)
}

func noFactor() error {
	return &Error{Kind: KindConflict, Code: "second_factor_not_enrolled", Message: "start the enrolment first: POST /api/v1/me/second-factor"}
}

// StartTOTP begins the enrolment of the caller's factor, given its
// password again: a new secret, kept pending until ConfirmTOTP.
func (s AuthService) StartTOTP(ctx context.Context, c Caller, password string) (TOTPEnrolment, error) {
	u, err := s.reauth(ctx, c, password)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if u.Security.TOTPSecret != "" {
		return TOTPEnrolment{}, &Error{Kind: KindConflict, Code: "second_factor_enrolled",
			Message: "a second factor is enrolled; a security administrator resets it before a new one (已绑定动态口令)"}
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	if u.Security.TOTPPending, err = s.seal(secret); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	u.UpdatedAt = s.Now()
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	enc := b32.EncodeToString(secret)
	label := url.PathEscape(TOTPIssuer + ":" + MaskPhone(u.Phone))
	q := url.Values{"secret": {enc}, "issuer": {TOTPIssuer}, "algorithm": {"SHA1"}, "digits": {strconv.Itoa(totpDigits)}, "period": {strconv.Itoa(totpStep)}}
	return TOTPEnrolment{Secret: enc, URI: "otpauth://totp/" + label + "?" + q.Encode()},
		s.Audit.Record(ctx, c, "user", u.ID, "second_factor_enrol_started", first(u.TownIDs))
}

// reauth checks the caller's password again before a change of its factors.
func (s AuthService) reauth(ctx context.Context, c Caller, password string) (User, error) {
	var v Validator
	v.Required("password", password)
	if err := v.Err(); err != nil {
		return User{}, err
	}
	u, err := s.Users.GetUser(ctx, c.UserID, Scope{All: true})
	if err != nil {
		return User{}, fmt.Errorf("reauthenticate: %w", err)
	}
	pk := "phone:" + u.Phone
	if w := s.PhoneLimit.Wait(pk); w > 0 {
		return User{}, tooMany(w)
	}
	ok, err := s.Hasher.Verify(u.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("reauthenticate: %w", err)
	}
	if !ok {
		w := s.PhoneLimit.Fail(pk)
		_ = s.Audit.Refusal(ctx, c, "user", u.ID, "reauth_failed", OutcomeFailure, first(u.TownIDs))
		if w > 0 {
			return User{}, tooMany(w)
		}
		return User{}, &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the password is wrong",
			Fields: []FieldError{{Field: "password", Code: FieldInvalid, Message: "the password is wrong"}}}
	}
	s.PhoneLimit.Succeed(pk)
	return u, nil
}

// ConfirmTOTP enables the pending factor once a code of it is right, and
// returns the recovery codes, shown this once (only their hashes are kept).
func (s AuthService) ConfirmTOTP(ctx context.Context, c Caller, code string) ([]string, error) {
	u, err := s.Users.GetUser(ctx, c.UserID, Scope{All: true})
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	if u.Security.TOTPPending == "" {
		return nil, noFactor()
	}
	secret, err := s.open(u.Security.TOTPPending)
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	if err := s.useCode(ctx, u, secret, strings.TrimSpace(code)); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	u.Security.RecoveryCodes = make([]string, RecoveryCodeCount)
	for i := range codes {
		var b [10]byte
		_, _ = rand.Read(b[:])
		raw := strings.ToLower(b32.EncodeToString(b[:]))[:12]
		codes[i] = raw[:4] + "-" + raw[4:8] + "-" + raw[8:]
		u.Security.RecoveryCodes[i] = hashToken(codes[i])
	}
	u.Security.TOTPSecret, u.Security.TOTPPending = u.Security.TOTPPending, ""
	u.UpdatedAt = s.Now()
	defer s.Callers.Changed()
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	return codes, s.Audit.Record(ctx, c, "user", u.ID, "second_factor_enrolled", first(u.TownIDs))
}

// useCode takes a TOTP code once: a code is refused after its first use
// (RFC 6238 §5.2), which a marker that only one writer can insert records.
func (s AuthService) useCode(ctx context.Context, u User, secret []byte, code string) error {
	now := s.Now()
	step := totpStepOf(secret, code, now)
	if step < 0 {
		return wrongCode()
	}
	err := s.Sessions.ClaimRefreshToken(ctx, hashToken("totp|"+u.ID+"|"+strconv.FormatInt(step, 10)), now)
	if errors.Is(err, ErrDuplicate) {
		return &Error{Kind: KindUnauthorized, Code: "second_factor_reused", Message: "this code was used already; wait for the next one (动态口令已使用，请等待下一个)"}
	}
	if err != nil {
		return fmt.Errorf("use totp code: %w", err)
	}
	return nil
}

func wrongCode() error {
	return &Error{Kind: KindUnauthorized, Code: "second_factor_invalid", Message: "the code is wrong or expired (动态口令错误或已过期)"}
}

// SecondFactor completes a sign-in whose password was right (its ticket
// names the account) with a TOTP code or, once each, a recovery code.
// Failures are throttled per account as failed passwords are.
func (s AuthService) SecondFactor(ctx context.Context, userID, code, recovery, addr, requestID string) (User, error) {
	code, recovery = strings.TrimSpace(code), strings.ToLower(strings.TrimSpace(recovery))
	if (code == "") == (recovery == "") {
		return User{}, &Error{Kind: KindInvalid, Code: "validation_failed", Message: "send either code or recoveryCode",
			Fields: []FieldError{{Field: "code", Code: FieldRequired, Message: "send either code or recoveryCode"}}}
	}
	if len(code) > 16 || len(recovery) > 32 {
		return User{}, wrongCode()
	}
	u, err := s.Users.GetUser(ctx, userID, Scope{All: true})
	if errors.Is(err, ErrNotFound) || err == nil && (u.Disabled || u.Security.TOTPSecret == "") {
		return User{}, invalidGrant("the sign-in ticket no longer fits the account; sign in again")
	} else if err != nil {
		return User{}, fmt.Errorf("second factor: %w", err)
	}
	cl := Caller{UserID: u.ID, Role: u.Role, RequestID: requestID, Addr: addr}
	key := "factor:" + u.ID
	if w := s.PhoneLimit.Wait(key); w > 0 {
		return User{}, tooMany(w)
	}
	fail := func(err error) (User, error) {
		var e *Error
		if errors.As(err, &e) && e.Kind == KindUnauthorized {
			w := s.PhoneLimit.Fail(key)
			_ = s.Audit.Refusal(ctx, cl, "session", u.ID, "second_factor_failed", OutcomeFailure, first(u.TownIDs))
			if w > 0 {
				return User{}, tooMany(w)
			}
		}
		return User{}, err
	}
	action := "login"
	if code != "" {
		secret, err := s.open(u.Security.TOTPSecret)
		if err != nil {
			return User{}, fmt.Errorf("second factor: %w", err)
		}
		if err := s.useCode(ctx, u, secret, code); err != nil {
			return fail(err)
		}
	} else {
		h := hashToken(recovery)
		i := slices.Index(u.Security.RecoveryCodes, h)
		if i < 0 {
			return fail(wrongCode())
		}
		// The marker makes the code one use even when two sign-ins race.
		if err := s.Sessions.ClaimRefreshToken(ctx, hashToken("recovery|"+u.ID+"|"+h), s.Now()); errors.Is(err, ErrDuplicate) {
			return fail(wrongCode())
		} else if err != nil {
			return User{}, fmt.Errorf("second factor: %w", err)
		}
		u.Security.RecoveryCodes = slices.Delete(u.Security.RecoveryCodes, i, i+1)
		u.UpdatedAt = s.Now()
		if err := s.Users.UpdateUser(ctx, u); err != nil {
			return User{}, fmt.Errorf("second factor: %w", err)
		}
		action = "login_recovery_code"
	}
	s.PhoneLimit.Succeed(key)
	return u, s.Audit.Record(ctx, cl, "session", u.ID, action, first(u.TownIDs))
}

// ResetSecondFactor removes an account's factor and recovery codes, for
// one who lost its phone: the security administrator's duty. The account
// enrols again at its next sign-in.
func (s AuthService) ResetSecondFactor(ctx context.Context, c Caller, userID string) (User, error) {
	if !c.Is(RoleSecAdmin) {
		return User{}, forbiddenBecause("second factors are reset by the security administrator (安全管理员)")
	}
	if userID == c.UserID && !c.System {
		return User{}, forbiddenBecause("nobody resets their own second factor")
	}
	u, err := s.Users.GetUser(ctx, userID, Scope{All: true})
	if errors.Is(err, ErrNotFound) {
		return User{}, NotFound("user")
	} else if err != nil {
		return User{}, fmt.Errorf("reset second factor: %w", err)
	}
	u.Security.TOTPSecret, u.Security.TOTPPending, u.Security.RecoveryCodes = "", "", nil
	u.UpdatedAt = s.Now()
	defer s.Callers.Changed()
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return User{}, fmt.Errorf("reset second factor: %w", err)
	}
	return u, s.Audit.Record(ctx, c, "user", u.ID, "second_factor_reset", first(u.TownIDs))
}
