// Package crypt is the cryptography a deployment runs on: the default
// suite (AES-256-GCM, HMAC-SHA-256, HS256 tokens) or the national one of
// 商用密码 (SM4-GCM, HMAC-SM3, SM2-with-SM3 tokens, GB/T 39786-2021),
// chosen with ZHUCUN_CRYPTO=gm. Keys live outside the database.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Suites.
const (
	Default  = "default"
	National = "gm"
)

// Valid reports whether s names a suite.
func Valid(s string) bool { return s == Default || s == National }

// Sealer encrypts with an AEAD, AES-256-GCM or SM4-GCM. A sealed value is
// "a1:" or "s1:" and the base64 of nonce and ciphertext: it names its
// cipher, so that values sealed before a switch of suite still open.
type Sealer struct {
	seal   string // the prefix new values get
	aesGCM cipher.AEAD
	sm4GCM cipher.AEAD
}

const (
	prefixAES = "a1:"
	prefixSM4 = "s1:"
)

// NewSealer makes a sealer of a suite from a key of at least 32 bytes:
// AES-256 takes SHA-256 of it, SM4 (128-bit keys) the first 16 bytes of
// SM3 of it, so one key file serves both.
func NewSealer(suite string, key []byte) (*Sealer, error) {
	if len(key) < 32 {
		return nil, errors.New("the data key must be at least 32 bytes")
	}
	ak := sha256.Sum256(key)
	ab, err := aes.NewCipher(ak[:])
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	sk := sm3.Sum(key)
	sb, err := sm4.NewCipher(sk[:16])
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	s := &Sealer{seal: prefixAES}
	if s.aesGCM, err = cipher.NewGCM(ab); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	if s.sm4GCM, err = cipher.NewGCM(sb); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	if suite == National {
		s.seal = prefixSM4
	}
	return s, nil
}

// Seal encrypts plain.
func (s *Sealer) Seal(plain []byte) (string, error) {
	a := s.aesGCM
	if s.seal == prefixSM4 {
		a = s.sm4GCM
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return s.seal + base64.RawStdEncoding.EncodeToString(a.Seal(nonce, nonce, plain, nil)), nil
}

// ErrOpen is a sealed value that does not open: another key, or changed.
var ErrOpen = errors.New("a sealed value does not open with this data key")

// Open decrypts a value Seal made, under either suite.
func (s *Sealer) Open(sealed string) ([]byte, error) {
	var a cipher.AEAD
	switch {
	case strings.HasPrefix(sealed, prefixAES):
		a = s.aesGCM
	case strings.HasPrefix(sealed, prefixSM4):
		a = s.sm4GCM
	default:
		return nil, ErrOpen
	}
	b, err := base64.RawStdEncoding.DecodeString(sealed[len(prefixAES):])
	if err != nil || len(b) < a.NonceSize() {
		return nil, ErrOpen
	}
	plain, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// SM3 is the SM3 hash, for the audit chain's HMAC under the national suite.
func SM3() hash.Hash { return sm3.New() }
