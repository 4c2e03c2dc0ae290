package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// NewID returns a new time-ordered identifier: a UUIDv7 (RFC 9562) in its
// canonical text form. Identifiers created later sort after earlier ones,
// which cursor pagination relies on.
func NewID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return uuid7(now, b)
}

// uuid7 stamps the time and the version and variant bits into b.
func uuid7(now time.Time, b [16]byte) string {
	ms := uint64(now.UnixMilli())
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// IDs makes the ids of what the services create. The zero IDs is NewID;
// SeededIDs makes the same ids on every run, for data that must come out
// the same (the demo district).
type IDs func(now time.Time) string

// New returns a new id.
func (f IDs) New(now time.Time) string {
	if f == nil {
		return NewID(now)
	}
	return f(now)
}

// SeededIDs is a source of UUIDv7 ids that are the same on every run: the
// n-th id's time is epoch plus n milliseconds (whatever the clock says) and
// its random bits are the SHA-256 of the seed and n. Safe for concurrent
// use; not for ids anyone must not guess.
func SeededIDs(seed string, epoch time.Time) IDs {
	var mu sync.Mutex
	var n uint64
	return func(time.Time) string {
		mu.Lock()
		n++
		c := n
		mu.Unlock()
		h := sha256.New()
		h.Write([]byte(seed))
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], c)
		h.Write(buf[:])
		var b [16]byte
		copy(b[:], h.Sum(nil))
		return uuid7(epoch.Add(time.Duration(c)*time.Millisecond), b)
	}
}

// ValidID reports whether s is a canonical lower-case UUID of any version:
// the ids this package makes, and the record ids phones make. Handlers
// reject other path ids early.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Clock tells the time; tests pass a fixed one.
type Clock func() time.Time
