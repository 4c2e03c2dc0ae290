package domain

import (
	"testing"
	"time"
)

// The SHA-1 vectors of RFC 6238 Appendix B, cut to 6 digits as
// authenticator apps show them.
func TestTOTPVectorsOfRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{
		59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037", 20000000000: "353130",
	} {
		if got := TOTPCode(secret, time.Unix(unix, 0)); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
	now := time.Unix(1111111111, 0)
	step := now.Unix() / totpStep
	for d, want := range map[int64]int64{-1: step - 1, 0: step, 1: step + 1, 2: -1, -2: -1} {
		code := TOTPCode(secret, now.Add(time.Duration(d)*totpStep*time.Second))
		if got := totpStepOf(secret, code, now); got != want {
			t.Errorf("a code %d steps away: step %d, want %d", d, got, want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if totpStepOf(secret, bad, now) != -1 {
			t.Errorf("code %q taken", bad)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for pw, want := range map[string]string{
		"Abcdefg1":          "",
		"abc-def-1":         "",
		"密码-abc-123":        "",
		"abcdefgh":          "password_weak",
		"ABCDEFG1":          "password_weak",
		"1234567!":          "password_weak",
		"Abc1":              FieldTooShort,
		"Xy-13812345678":    "password_phone",
		"Xy-12345678":       "password_phone",
		"Xy-87654321831":    "password_phone",
		"Xy-1381234-5678-z": "password_phone", // the digits, whatever is between them
		"Xy-1234567-z":      "",               // seven digits of it are no phone
	} {
		var v Validator
		validatePassword(&v, pw, "13812345678")
		got := ""
		if len(v.fields) > 0 {
			got = v.fields[0].Code
		}
		if got != want {
			t.Errorf("%q: %q, want %q", pw, got, want)
		}
	}
}

func TestPasswordHistory(t *testing.T) {
	p := PasswordPolicy{History: 3, FirstChange: true}
	var u User
	now := time.Unix(0, 0)
	for i, h := range []string{"h1", "h2", "h3", "h4"} {
		p.setPassword(&u, h, now, i == 0)
	}
	if u.PasswordHash != "h4" || len(u.Security.PasswordHistory) != 2 || u.Security.PasswordHistory[0] != "h3" || u.Security.PasswordHistory[1] != "h2" {
		t.Fatalf("history %q %q", u.PasswordHash, u.Security.PasswordHistory)
	}
	if u.Security.MustChangePassword {
		t.Fatal("an own change leaves the account to change again")
	}
	p.setPassword(&u, "h5", now, true)
	if !u.Security.MustChangePassword {
		t.Fatal("a reset by another does not ask for a change")
	}
	c := Caller{PasswordChangedAt: now}
	if p.PasswordDue(c, now.Add(1000*24*time.Hour)) != "" {
		t.Fatal("a policy without MaxAge expires passwords")
	}
	p.MaxAge = 90 * 24 * time.Hour
	if p.PasswordDue(c, now.Add(89*24*time.Hour)) != "" || p.PasswordDue(c, now.Add(90*24*time.Hour)) != "expired" {
		t.Fatal("expiry at 90 days")
	}
	if p.PasswordDue(Caller{System: true}, now.Add(1000*24*time.Hour)) != "" {
		t.Fatal("the system has a password")
	}
}
