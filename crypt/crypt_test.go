package crypt

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm4"
	"github.com/golang-jwt/jwt/v5"
)

// The standard vectors: SM3 of "abc" (GB/T 32905-2016 A.1) and one SM4
// block (GB/T 32907-2016 A.1).
func TestNationalVectors(t *testing.T) {
	h := SM3()
	h.Write([]byte("abc"))
	if got := hex.EncodeToString(h.Sum(nil)); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("SM3(abc) = %s", got)
	}
	key, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	b, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	b.Encrypt(out, key)
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Fatalf("SM4 = %s", got)
	}
}

func TestSealers(t *testing.T) {
	key := []byte("a data key of thirty-two bytes!!")
	def, err := NewSealer(Default, key)
	if err != nil {
		t.Fatal(err)
	}
	gm, err := NewSealer(National, key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("张三、李四")
	a, err := def.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gm.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "a1:") || !strings.HasPrefix(s, "s1:") || strings.Contains(a+s, "张三") {
		t.Fatalf("sealed: %s %s", a, s)
	}
	again, _ := def.Seal(plain)
	if again == a {
		t.Fatal("two seals of one value are the same: the nonce repeats")
	}
	// Either suite opens what either sealed: a switch keeps old values readable.
	for _, sl := range []*Sealer{def, gm} {
		for _, v := range []string{a, s} {
			if got, err := sl.Open(v); err != nil || string(got) != string(plain) {
				t.Fatalf("open %s: %q %v", v[:3], got, err)
			}
		}
	}
	other, _ := NewSealer(Default, []byte("another data key of 32 bytes!!!!"))
	if _, err := other.Open(a); err != ErrOpen {
		t.Fatalf("another key opened it: %v", err)
	}
	changed := a[:len(a)-2] + "AA"
	if _, err := def.Open(changed); err != ErrOpen {
		t.Fatalf("a changed value opened: %v", err)
	}
	for _, bad := range []string{"", "a1:", "a1:!!", "x1:abc", "plain text"} {
		if _, err := def.Open(bad); err != ErrOpen {
			t.Fatalf("%q opened: %v", bad, err)
		}
	}
	if _, err := NewSealer(Default, []byte("short")); err == nil {
		t.Fatal("a short key is taken")
	}
}

func TestSM2Tokens(t *testing.T) {
	pemKey, err := NewSM2Key()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseSM2Key(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}
	tok, err := jwt.NewWithClaims(SM2, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s string) error {
		_, err := jwt.ParseWithClaims(s, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return &k.PublicKey, nil },
			jwt.WithValidMethods([]string{SM2.Alg()}))
		return err
	}
	if err := parse(tok); err != nil {
		t.Fatalf("verify: %v", err)
	}
	parts := strings.Split(tok, ".")
	forged, _ := jwt.NewWithClaims(SM2, jwt.RegisteredClaims{Subject: "admin", ExpiresAt: claims.ExpiresAt}).SignedString(k)
	if err := parse(parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]); err == nil {
		t.Fatal("a changed payload verified")
	}
	other, _ := NewSM2Key()
	ok, _ := ParseSM2Key(other)
	if _, err := jwt.ParseWithClaims(tok, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return &ok.PublicKey, nil },
		jwt.WithValidMethods([]string{SM2.Alg()})); err == nil {
		t.Fatal("another key verified")
	}
	// An HS256 token is refused where SM2 is expected (no algorithm confusion).
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("secret"))
	if err := parse(hs); err == nil {
		t.Fatal("an HS256 token verified")
	}
	if _, err := ParseSM2Key([]byte("not pem")); err == nil {
		t.Fatal("junk parsed as a key")
	}
}
