package crypt

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/golang-jwt/jwt/v5"
)

// SM2 is the token signature of the national suite: SM2 over the SM3
// digest with the default user id (GB/T 32918.2-2016, GM/T 0009-2012).
// Its JOSE name is "SM2SM3", as no registry names one.
var SM2 jwt.SigningMethod = sm2Method{}

type sm2Method struct{}

// The token library finds a method by its name in its own registry.
func init() { jwt.RegisterSigningMethod(SM2.Alg(), func() jwt.SigningMethod { return SM2 }) }

func (sm2Method) Alg() string { return "SM2SM3" }

// Sign signs with a *sm2.PrivateKey.
func (sm2Method) Sign(signing string, key any) ([]byte, error) {
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("SM2SM3 signs with an *sm2.PrivateKey, not %T", key)
	}
	return k.Sign(rand.Reader, []byte(signing), sm2.NewSM2SignerOption(true, nil))
}

// Verify checks with the *ecdsa.PublicKey of an SM2 key.
func (sm2Method) Verify(signing string, sig []byte, key any) error {
	k, ok := key.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(k) {
		return fmt.Errorf("SM2SM3 verifies with an SM2 public key, not %T", key)
	}
	if !sm2.VerifyASN1WithSM2(k, nil, []byte(signing), sig) {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

// NewSM2Key makes a token signing key, as PEM (PKCS #8).
func NewSM2Key() ([]byte, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sm2 key: %w", err)
	}
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("sm2 key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseSM2Key reads a PEM key NewSM2Key made.
func ParseSM2Key(pemBytes []byte) (*sm2.PrivateKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("the SM2 key is not PEM")
	}
	k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sm2 key: %w", err)
	}
	sk, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, not SM2", k)
	}
	return sk, nil
}
