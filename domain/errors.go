package domain

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that stores return, wrapped, for conditions the services
// and the HTTP layer act on. Driver errors never leave package storage.
var (
	// ErrNotFound means the record does not exist or is outside the caller's scope.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a unique key is already taken.
	ErrDuplicate = errors.New("duplicate key")
	// ErrUnavailable means a backing service did not answer.
	ErrUnavailable = errors.New("service unavailable")
)

// Kind classifies a coded Error; the HTTP layer maps each kind to one status.
type Kind int

// The kinds of coded errors.
const (
	KindInvalid      Kind = iota + 1 // the request is well formed but its content is not acceptable (422)
	KindBadRequest                   // the request itself cannot be read (400)
	KindUnauthorized                 // no or bad credentials (401)
	KindForbidden                    // authenticated but the role may not do this (403)
	KindNotFound                     // no such record in the caller's scope (404)
	KindConflict                     // the record's state forbids the change (409)
	KindPrecondition                 // a stale version (412)
	KindRateLimited                  // too many attempts (429)
	KindUnavailable                  // an upstream did not answer (503)
)

// Error is a failure with a stable machine code. Message is English and is
// used when the HTTP layer has no translation for Code.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	// Data carries values the HTTP layer may need to answer, such as a
	// WeChat openid that a bind ticket is made for.
	Data map[string]string
	// Lock is the locked period a write was refused for (period_locked).
	Lock *PeriodLock
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// FieldError says what is wrong with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Field error codes.
const (
	FieldRequired = "required"
	FieldTooLong  = "too_long"
	FieldTooShort = "too_short"
	FieldInvalid  = "invalid"
	FieldUnknown  = "unknown_reference"
	FieldTaken    = "taken"
	FieldRange    = "out_of_range"
)

// Validator collects field errors.
type Validator struct {
	fields []FieldError
}

// Add records a problem with a field.
func (v *Validator) Add(field, code, message string) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, Message: message})
}

// Required records field as missing when value is empty.
func (v *Validator) Required(field, value string) bool {
	if value == "" {
		v.Add(field, FieldRequired, field+" is required")
		return false
	}
	return true
}

// MaxLen records field as too long when value has more than n characters.
func (v *Validator) MaxLen(field, value string, n int) {
	if len([]rune(value)) > n {
		v.Add(field, FieldTooLong, fmt.Sprintf("%s must be at most %d characters", field, n))
	}
}

// OK reports whether no field error was recorded.
func (v *Validator) OK() bool { return len(v.fields) == 0 }

// Err returns a validation Error holding every recorded field error, or nil.
func (v *Validator) Err() error {
	if v.OK() {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the request has invalid fields", Fields: v.fields}
}

// NotFound is the error for a record that is missing or outside the caller's scope.
func NotFound(what string) error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: what + " not found", Err: ErrNotFound}
}

// Forbidden is the error for a role that may not perform an action.
func Forbidden() error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: "your role may not do this"}
}
