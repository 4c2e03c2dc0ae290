package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// cookieName is the console's session cookie.
const cookieName = "zhucun_session"

// Session limits.
const (
	// DefaultIdle is how long a session lasts without a request (the
	// level-3 rule's idle timeout).
	DefaultIdle = 30 * time.Minute
	// maxLife bounds a session however busy: a working day.
	maxLife = 12 * time.Hour
	// pendingFor is how long the code may follow the password.
	pendingFor = 5 * time.Minute
	// maxSessions bounds the table (sign-in forms included).
	maxSessions = 100_000
)

// session is one browser's sign-in. Before sign-in it carries only the
// CSRF token of the sign-in form; after the password, for an account with
// a second factor, the account waiting for its code; after sign-in, the
// account and how it signed in.
type session struct {
	id      string
	csrf    string
	userID  string // signed in
	factors string // domain.FactorPassword, or FactorsBoth
	pending string // the account whose password was right, waiting for its code
	pendAt  time.Time
	next    string // where the sign-in goes once the code is right
	created time.Time
	seen    time.Time
	// flash is a message shown once on the next page.
	flash string
}

// sessions keeps the sessions in memory: a restart signs everyone out.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	idle time.Duration
	now  func() time.Time
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, now: now}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on the platforms Go supports
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// get returns the request's live session and touches it; expired tells a
// session that timed out from none at all.
func (s *sessions) get(r *http.Request) (sess *session, expired bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess = s.byID[ck.Value]
	if sess == nil {
		return nil, false
	}
	now := s.now()
	if now.Sub(sess.seen) >= s.idle || now.Sub(sess.created) >= maxLife {
		delete(s.byID, sess.id)
		return nil, sess.userID != ""
	}
	sess.seen = now
	return sess, false
}

// start makes a new session (a new id and CSRF token), dropping old, and
// sets its cookie.
func (s *sessions) start(w http.ResponseWriter, old *session, secure bool) *session {
	now := s.now()
	sess := &session{id: randomToken(), csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	if old != nil {
		delete(s.byID, old.id)
	}
	if len(s.byID) >= maxSessions {
		s.sweepLocked(now)
	}
	s.byID[sess.id] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sess.id, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	return sess
}

// end drops a session and clears its cookie.
func (s *sessions) end(w http.ResponseWriter, sess *session, secure bool) {
	if sess != nil {
		s.mu.Lock()
		delete(s.byID, sess.id)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
}

// update changes a session under the lock.
func (s *sessions) update(sess *session, f func(*session)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(sess)
}

// endUser ends every session of an account (after its password changes).
func (s *sessions) endUser(userID string, keep *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.byID {
		if x.userID == userID && x != keep {
			delete(s.byID, id)
		}
	}
}

// sweepLocked drops the sessions past their time; when none is, the
// oldest-seen half, so the table stays bounded.
func (s *sessions) sweepLocked(now time.Time) {
	for id, x := range s.byID {
		if now.Sub(x.seen) >= s.idle || now.Sub(x.created) >= maxLife {
			delete(s.byID, id)
		}
	}
	if len(s.byID) < maxSessions {
		return
	}
	cut := now.Add(-s.idle / 2)
	for id, x := range s.byID {
		if x.seen.Before(cut) || x.userID == "" {
			delete(s.byID, id)
		}
	}
}

// validCSRF reports whether a posted form carries the session's token.
func validCSRF(sess *session, r *http.Request) bool {
	got := r.PostFormValue("_csrf")
	return sess != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}
