package demo

import (
	"sync"
	"time"
)

// Clock is the demo's clock. It moves a millisecond each time it is read,
// so every run stamps the same times, and Set moves it forward to a
// moment of the story (never back), so each piece of work is stamped on
// the day it was done and the services' rules on event times (no future
// events, the backfill window, periods over before they are approved)
// hold as they would have at the time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads start plus a millisecond first.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now reads the clock and moves it a millisecond.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Set moves the clock to t when t is later than it.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}
