// Package passwd hashes passwords with argon2id (RFC 9106) in the PHC
// string format, e.g. "$argon2id$v=19$m=65536,t=1,p=2$salt$hash".
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"zhucun/domain"
)

// Argon2id hashes with fixed parameters; the parameters are stored in each
// hash, so raising them later still verifies old hashes.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

var _ domain.PasswordHasher = Argon2id{}

// Default is RFC 9106's second recommended option at 64 MiB.
func Default() Argon2id { return Argon2id{Memory: 64 * 1024, Time: 3, Threads: 2} }

// Fast is for tests only: the minimum memory and one pass.
func Fast() Argon2id { return Argon2id{Memory: 64, Time: 1, Threads: 1} }

const keyLen = 32

// Hash returns the PHC string of password with a new random salt.
func (a Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, a.Time, a.Memory, a.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.Memory, a.Time, a.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformed means a stored hash cannot be read.
var ErrMalformed = errors.New("malformed password hash")

// Verify reports whether password matches hash, in constant time.
func (a Argon2id) Verify(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 100 {
		return false, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
