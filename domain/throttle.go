package domain

import (
	"sync"
	"time"
)

// ThrottlePolicy says how many failed sign-ins a key gets before it is
// locked out, and for how long.
type ThrottlePolicy struct {
	Free    int           // failures allowed before any lock-out
	Base    time.Duration // the first lock-out; each further failure doubles it
	Max     time.Duration // the longest lock-out
	Window  time.Duration // failures older than this are forgotten
	MaxKeys int           // bound on the keys remembered
}

// DefaultPhonePolicy locks a phone after 5 failures: 1 s, 2 s, 4 s … up to 15 min.
var DefaultPhonePolicy = ThrottlePolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour, MaxKeys: 100_000}

// DefaultAddrPolicy is looser per address, which many cadres may share
// behind one village or government NAT.
var DefaultAddrPolicy = ThrottlePolicy{Free: 30, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour, MaxKeys: 100_000}

// Throttle slows and then refuses repeated failed sign-ins per key. It is
// kept in memory: a restart forgets it, which a lock-out of minutes tolerates.
type Throttle struct {
	policy ThrottlePolicy
	now    Clock
	mu     sync.Mutex
	keys   map[string]*throttleState
}

type throttleState struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

// NewThrottle returns an empty throttle.
func NewThrottle(p ThrottlePolicy, now Clock) *Throttle {
	return &Throttle{policy: p, now: now, keys: map[string]*throttleState{}}
}

// Wait returns how long key must wait before trying again; zero means now.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.keys[key]
	if !ok {
		return 0
	}
	now := t.now()
	if now.Sub(st.last) > t.policy.Window {
		delete(t.keys, key)
		return 0
	}
	if d := st.lockedUntil.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Fail records a failed attempt and returns the lock-out it causes.
func (t *Throttle) Fail(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	st, ok := t.keys[key]
	if !ok || now.Sub(st.last) > t.policy.Window {
		if len(t.keys) >= t.policy.MaxKeys {
			t.prune(now)
		}
		st = &throttleState{}
		t.keys[key] = st
	}
	st.failures++
	st.last = now
	over := st.failures - t.policy.Free
	if over <= 0 {
		return 0
	}
	d := t.policy.Base
	for i := 1; i < over && d < t.policy.Max; i++ {
		d *= 2
	}
	d = min(d, t.policy.Max)
	st.lockedUntil = now.Add(d)
	return d
}

// Succeed forgets the failures of key.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// prune drops forgotten keys, and if that is not enough, all of them.
func (t *Throttle) prune(now time.Time) {
	for k, st := range t.keys {
		if now.Sub(st.last) > t.policy.Window {
			delete(t.keys, k)
		}
	}
	if len(t.keys) >= t.policy.MaxKeys {
		clear(t.keys)
	}
}
