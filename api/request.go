package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// jsonBody checks a request's JSON body: 415 for another content type,
// 413 over the JSON limit, 400 when empty.
func jsonBody(c *fiber.Ctx) ([]byte, error) { return jsonBodySized(c, maxJSONBody) }

func jsonBodySized(c *fiber.Ctx, limit int) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json") {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, "send the body as application/json")
	}
	body := c.Body()
	if len(body) > limit {
		return nil, fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("a JSON body may be at most %d bytes", limit))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, newError(domain.KindBadRequest, "malformed_json", "the request body is empty")
	}
	if hasNUL(body) {
		return nil, newError(domain.KindBadRequest, "nul_character", "text may not hold the NUL character (\\u0000)")
	}
	return body, nil
}

// hasNUL reports whether a JSON text holds an escaped NUL (\u0000) in a
// string: no store takes it (PostgreSQL under FerretDB refuses it), and no
// text a person types has it.
func hasNUL(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		slashes := 0
		for k := at - 1; k >= 0 && body[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 0 { // the backslash before u is not itself escaped
			return true
		}
		i = at + 1
	}
}

// decode reads a JSON request body into v: the errors of jsonBody, 400
// when it is not JSON, 422 naming the field when a field has the wrong type
// or is unknown.
func decode(c *fiber.Ctx, v any) error { return decodeSized(c, v, maxJSONBody) }

// decodeSized is decode with another size limit.
func decodeSized(c *fiber.Ctx, v any, limit int) error {
	body, err := jsonBodySized(c, limit)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newError(domain.KindBadRequest, "malformed_json", "the body holds more than one JSON value")
	}
	return nil
}

// decodeLoose reads some fields of a JSON body, ignoring the others.
func decodeLoose(c *fiber.Ctx, v any) error {
	body, err := jsonBody(c)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns a decoding error into the API's error.
func jsonError(err error) error {
	var (
		typeErr *json.UnmarshalTypeError
		synErr  *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return newError(domain.KindBadRequest, "malformed_json", "the body must be a JSON object")
		}
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: field, Code: domain.FieldInvalid, Message: fmt.Sprintf("%s must be a %s", field, jsonType(typeErr.Type.Kind().String()))})
	case errors.As(err, &synErr), errors.Is(err, io.ErrUnexpectedEOF):
		return newError(domain.KindBadRequest, "malformed_json", "the body is not valid JSON: "+err.Error())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: field, Code: "unknown_field", Message: field + " is not a field of this request"})
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	return newError(domain.KindBadRequest, "malformed_json", "the body is not valid JSON: "+err.Error())
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// parsePage reads ?limit= and ?cursor=.
func parsePage(c *fiber.Ctx) (domain.Page, error) {
	p := domain.Page{Limit: domain.DefaultPageLimit}
	var v domain.Validator
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			v.Add("limit", domain.FieldRange, fmt.Sprintf("limit must be an integer from 1 to %d", domain.MaxPageLimit))
		}
		p.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || !validCursor(string(b)) {
			v.Add("cursor", domain.FieldInvalid, "cursor must be a nextCursor this API returned")
		}
		p.After = string(b)
	}
	return p, queryErr(v)
}

// validCursor accepts the ids lists page by: one id, or two joined by "/"
// for records keyed by campaign and village.
func validCursor(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if !domain.ValidID(p) {
			return false
		}
	}
	return true
}

// queryErr turns query field errors into a 422.
func queryErr(v domain.Validator) error {
	err := v.Err()
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		de.Code, de.Message = "invalid_query", "the query has invalid parameters"
	}
	return err
}

// parseTime reads an RFC 3339 query parameter.
func parseTime(c *fiber.Ctx, v *domain.Validator, name string) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.Add(name, domain.FieldInvalid, name+" must be an RFC 3339 time, e.g. 2026-03-01T00:00:00+08:00")
	}
	return t
}

// listJSON is the shape of every list response.
type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func toList[D, T any](l domain.List[D], conv func(D) T) listJSON[T] {
	out := listJSON[T]{Items: make([]T, len(l.Items))}
	for i, d := range l.Items {
		out.Items[i] = conv(d)
	}
	if l.Next != "" {
		cur := base64.RawURLEncoding.EncodeToString([]byte(l.Next))
		out.NextCursor = &cur
	}
	return out
}

// pathID returns the :id path parameter; an id this API never makes is
// answered like a missing record.
func pathID(c *fiber.Ctx, what string) (string, error) {
	id := c.Params("id")
	if !domain.ValidID(id) {
		return "", domain.NotFound(what)
	}
	return id, nil
}
