package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// PasswordPolicy is how passwords are chosen and kept (GB/T 22239-2019
// 8.1.4.1 a: complexity, and replacement at intervals).
type PasswordPolicy struct {
	// MaxAge is how long a password lasts before it must be changed; 0 never.
	MaxAge time.Duration
	// History is how many of an account's last passwords (its current one
	// among them) a new one may not repeat.
	History int
	// FirstChange makes an account whose password someone else set (an
	// administrator creating or resetting it) choose its own at first sign-in.
	FirstChange bool
}

// DefaultPasswordPolicy is the policy of a deployment that sets none.
var DefaultPasswordPolicy = PasswordPolicy{MaxAge: 90 * 24 * time.Hour, History: 5, FirstChange: true}

// MinPasswordClasses is how many of the four classes (lower case, upper
// case, digits, other characters) a password mixes.
const MinPasswordClasses = 3

// UserSecurity is an account's password and factor state. None of it leaves the server.
type UserSecurity struct {
	PasswordChangedAt  time.Time `json:",omitzero"`
	MustChangePassword bool      `json:",omitempty"`
	// PasswordHistory are the hashes of the passwords before the current
	// one, newest first.
	PasswordHistory []string `json:",omitempty"`
	// TOTPSecret is the enrolled factor's secret, sealed; TOTPPending one
	// being enrolled, until its first code confirms it.
	TOTPSecret  string `json:",omitempty"`
	TOTPPending string `json:",omitempty"`
	// RecoveryCodes are the hashes of the unused recovery codes.
	RecoveryCodes []string `json:",omitempty"`
}

// passwordClasses counts the classes of characters a password mixes.
func passwordClasses(pw string) int {
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// digitsOf keeps the digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// validatePassword checks a new password's length and classes, and that
// it is not built on the account's phone number: the number, its last
// eight digits or the number reversed, anywhere in the password's digits.
func validatePassword(v *Validator, pw, phone string) {
	n := len([]rune(pw))
	switch {
	case n == 0:
		v.Add("password", FieldRequired, "password is required")
		return
	case n < MinPasswordLen:
		v.Add("password", FieldTooShort, fmt.Sprintf("password must be at least %d characters", MinPasswordLen))
		return
	case n > MaxPasswordLen:
		v.Add("password", FieldTooLong, fmt.Sprintf("password must be at most %d characters", MaxPasswordLen))
		return
	}
	if passwordClasses(pw) < MinPasswordClasses {
		v.Add("password", "password_weak", "password must mix at least 3 of: lower case, upper case, digits, other characters (密码须包含大写字母、小写字母、数字、其他字符中的至少三类)")
		return
	}
	if phone != "" {
		d := digitsOf(pw)
		for _, p := range []string{phone, phone[max(0, len(phone)-8):], reverse(phone)} {
			if len(p) >= 8 && strings.Contains(d, p) {
				v.Add("password", "password_phone", "password must not be built on the account's phone number (密码不得使用手机号)")
				return
			}
		}
	}
}

// reused reports whether pw is the current password or one of the
// History-1 before it.
func (p PasswordPolicy) reused(h PasswordHasher, u User, pw string) (bool, error) {
	if p.History <= 0 {
		return false, nil
	}
	hashes := append([]string{u.PasswordHash}, u.Security.PasswordHistory...)
	for i, hash := range hashes {
		if i >= p.History || hash == "" {
			break
		}
		ok, err := h.Verify(hash, pw)
		if err != nil {
			return false, fmt.Errorf("check password history: %w", err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// setPassword gives an account a new password hash, keeping the old one
// in its history; byOther marks a password someone else set.
func (p PasswordPolicy) setPassword(u *User, hash string, now time.Time, byOther bool) {
	if u.PasswordHash != "" && p.History > 1 {
		u.Security.PasswordHistory = append([]string{u.PasswordHash}, u.Security.PasswordHistory...)
		if len(u.Security.PasswordHistory) > p.History-1 {
			u.Security.PasswordHistory = u.Security.PasswordHistory[:p.History-1]
		}
	}
	u.PasswordHash = hash
	u.Security.PasswordChangedAt = now
	u.Security.MustChangePassword = byOther && p.FirstChange
}

// PasswordDue says why a caller must change its password before anything
// else, or "" when it need not: "first" for a password someone else set,
// "expired" for one older than MaxAge.
func (p PasswordPolicy) PasswordDue(c Caller, now time.Time) string {
	switch {
	case c.System:
		return ""
	case c.MustChangePassword:
		return "first"
	case p.MaxAge > 0 && !c.PasswordChangedAt.IsZero() && now.Sub(c.PasswordChangedAt) >= p.MaxAge:
		return "expired"
	}
	return ""
}

// PasswordChangeRequired is the refusal of a request made before a due
// password change.
func PasswordChangeRequired(reason string) error {
	msg := "your password was set by an administrator: choose your own with POST /api/v1/me/password before anything else (首次登录须修改密码)"
	if reason == "expired" {
		msg = "your password has expired: choose a new one with POST /api/v1/me/password before anything else (密码已过期，请修改)"
	}
	return &Error{Kind: KindForbidden, Code: "password_change_required", Message: msg, Data: map[string]string{"reason": reason}}
}

// ChangePassword sets the caller's own password, given its current one.
// A wrong current password counts as a failed sign-in of the account.
func (s AuthService) ChangePassword(ctx context.Context, c Caller, current, next string) error {
	u, err := s.Users.GetUser(ctx, c.UserID, Scope{All: true})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	var v Validator
	v.Required("currentPassword", current)
	validatePassword(&v, next, u.Phone)
	if err := v.Err(); err != nil {
		return err
	}
	pk := "phone:" + u.Phone
	if w := s.PhoneLimit.Wait(pk); w > 0 {
		return tooMany(w)
	}
	if ok, err := s.Hasher.Verify(u.PasswordHash, current); err != nil {
		return fmt.Errorf("change password: %w", err)
	} else if !ok {
		w := s.PhoneLimit.Fail(pk)
		_ = s.Audit.Refusal(ctx, c, "user", u.ID, "password_change_failed", OutcomeFailure, first(u.TownIDs))
		if w > 0 {
			return tooMany(w)
		}
		return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the current password is wrong",
			Fields: []FieldError{{Field: "currentPassword", Code: FieldInvalid, Message: "the current password is wrong"}}}
	}
	s.PhoneLimit.Succeed(pk)
	if again, err := s.Policy.reused(s.Hasher, u, next); err != nil {
		return err
	} else if again {
		return s.Policy.passwordReused()
	}
	hash, err := s.Hasher.Hash(next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	now := s.Now()
	s.Policy.setPassword(&u, hash, now, false)
	u.UpdatedAt = now
	defer s.Callers.Changed()
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return s.Audit.Record(ctx, c, "user", u.ID, "password_changed", first(u.TownIDs))
}

// passwordReused is the refusal of a password the account had lately.
func (p PasswordPolicy) passwordReused() error {
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the new password repeats a recent one",
		Fields: []FieldError{{Field: "password", Code: "password_reused", Message: fmt.Sprintf("the new password must differ from the account's last %d (不得与最近%d次密码相同)", p.History, p.History)}}}
}

// forbiddenBecause is a refusal that says which duty the caller lacks.
func forbiddenBecause(msg string) error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: msg}
}
