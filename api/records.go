package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// recordCodec converts one record type between its JSON body and the
// domain record. Bodies are decoded onto the stored record's body for
// PATCH, so a PATCH changes exactly the fields it names.
type recordCodec struct {
	typ domain.RecordType
	// body returns the JSON body of a record (an empty one for nil).
	body func(r *domain.Record) recordBody
}

// recordBody is a type's JSON body: it fills a record's payload and shows it.
type recordBody interface {
	envelope() *bodyEnvelope
	fill(r *domain.Record)
}

// bodyEnvelope holds the fields every record body shares.
type bodyEnvelope struct {
	ID        string `json:"id"`
	VillageID string `json:"villageId"`
	Version   *int   `json:"version,omitempty"`
}

func (e *bodyEnvelope) envelope() *bodyEnvelope { return e }

// recordOut is the envelope of every record in answers.
type recordOut struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	VillageID string    `json:"villageId"`
	TownID    string    `json:"townId"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int       `json:"version"`
	Deleted   bool      `json:"deleted,omitempty"`
	// Review is where the record stands in review.
	Review reviewJSON `json:"review"`
	// OnPost: the record puts its author on post in the village that day.
	OnPost bool `json:"onPost"`
}

func outOf(r domain.Record) recordOut {
	return recordOut{ID: r.ID, Type: string(r.Type), VillageID: r.VillageID, TownID: r.TownID, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, Deleted: r.Deleted, Review: toReviewJSON(r), OnPost: r.OnPost}
}

// recordJSON is a record as answers show it: the envelope and the body.
func (rc recordCodec) json(r domain.Record) map[string]any {
	out := map[string]any{}
	merge := func(v any) {
		b, _ := json.Marshal(v)
		_ = json.Unmarshal(b, &out)
	}
	if !r.Deleted {
		b := rc.body(&r)
		b.envelope().Version = nil
		merge(b)
	}
	merge(outOf(r))
	if r.Type == domain.TypeReport {
		out["reporterId"] = r.CreatedBy
	}
	return out
}

// decodeRecord reads a create body into a record.
func (rc recordCodec) decodeCreate(c *fiber.Ctx) (domain.Record, error) {
	b := rc.body(nil)
	if err := decode(c, b); err != nil {
		return domain.Record{}, err
	}
	return rc.fromBody(b), nil
}

func (rc recordCodec) fromBody(b recordBody) domain.Record {
	r := domain.Record{ID: b.envelope().ID, Type: rc.typ, VillageID: b.envelope().VillageID}
	b.fill(&r)
	return r
}

// patchOnto returns an apply function that lays a PATCH body over the
// stored record's body. id and villageId cannot change.
func (rc recordCodec) patchOnto(raw []byte) func(domain.Record) (domain.Record, error) {
	return func(stored domain.Record) (domain.Record, error) {
		b := rc.body(&stored)
		if err := decodeJSON(raw, b); err != nil {
			return domain.Record{}, err
		}
		var v domain.Validator
		if b.envelope().ID != stored.ID {
			v.Add("id", domain.FieldInvalid, "id cannot change")
		}
		if b.envelope().VillageID != stored.VillageID {
			v.Add("villageId", domain.FieldInvalid, "a record cannot move to another village")
		}
		if err := v.Err(); err != nil {
			return domain.Record{}, err
		}
		return rc.fromBody(b), nil
	}
}

// editKey identifies an edit as the client sent it: the version it
// changes and its body, with keys sorted so that a resend with the fields in
// another order is the same edit.
func editKey(version int, raw []byte) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return ""
	}
	delete(m, "version")
	b, _ := json.Marshal(m)
	h := sha256.Sum256(append([]byte(strconv.Itoa(version)+"|"), b...))
	return hex.EncodeToString(h[:12])
}

// decodeJSON decodes raw onto v, refusing unknown fields, with the same
// errors as decode.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

func (s *server) createRecord(rc recordCodec) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, err := rc.decodeCreate(c)
		if err != nil {
			return err
		}
		out, dup, err := s.svc.Field.Create(ctx(c), caller(c), r)
		if err != nil {
			return err
		}
		etag(c, out.Version)
		body, err := s.recordJSON(c, rc, out)
		if err != nil {
			return err
		}
		if dup {
			return c.JSON(body)
		}
		return c.Status(fiber.StatusCreated).JSON(body)
	}
}

func (s *server) getRecord(rc recordCodec) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, err := s.svc.Field.Get(ctx(c), caller(c), rc.typ, c.Params("id"))
		if err != nil {
			return err
		}
		etag(c, r.Version)
		return s.sendRecord(c, rc, r)
	}
}

func (s *server) patchRecord(rc recordCodec) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var probe struct {
			Version *int `json:"version"`
		}
		if err := decodeLoose(c, &probe); err != nil {
			return err
		}
		v, err := version(c, probe.Version)
		if err != nil {
			return err
		}
		r, _, err := s.svc.Field.Update(ctx(c), caller(c), rc.typ, c.Params("id"), v, editKey(v, c.Body()), rc.patchOnto(c.Body()))
		if err != nil {
			return err
		}
		etag(c, r.Version)
		return s.sendRecord(c, rc, r)
	}
}

func (s *server) deleteRecord(rc recordCodec) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := version(c, nil)
		if err != nil {
			return err
		}
		if _, err := s.svc.Field.Delete(ctx(c), caller(c), rc.typ, c.Params("id"), v); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// recordPage reads ?limit= and the record list ?cursor=.
func recordPage(c *fiber.Ctx) (*domain.RecordCursor, int, error) {
	var v domain.Validator
	raw := c.Query("cursor")
	p, err := parsePage(withoutCursor(c))
	if err != nil {
		return nil, 0, err
	}
	var after *domain.RecordCursor
	if s := raw; s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		at, id, ok := strings.Cut(string(b), "|")
		t, terr := time.Parse(time.RFC3339Nano, at)
		if err != nil || !ok || terr != nil || !domain.ValidID(id) {
			v.Add("cursor", domain.FieldInvalid, "cursor must be a nextCursor this API returned")
			return nil, 0, queryErr(v)
		}
		after = &domain.RecordCursor{At: t, ID: id}
	}
	return after, p.Limit, nil
}

// withoutCursor lets parsePage read limit alone.
func withoutCursor(c *fiber.Ctx) *fiber.Ctx {
	if c.Query("cursor") != "" {
		c.Request().URI().QueryArgs().Del("cursor")
	}
	return c
}

func recordCursor(r domain.Record) string {
	return base64.RawURLEncoding.EncodeToString([]byte(r.At.UTC().Format(time.RFC3339Nano) + "|" + r.ID))
}

func (s *server) listRecords(rc recordCodec) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var v domain.Validator
		q := domain.ListQuery{VillageID: c.Query("villageId"), TownID: c.Query("townId"),
			Filter: domain.RecordFilter{Type: rc.typ, CreatedBy: c.Query("reporterId"), ProjectID: c.Query("projectId"),
				From: parseTime(c, &v, "from"), To: parseTime(c, &v, "to"), Review: reviewQuery(c, &v)}}
		switch rc.typ {
		case domain.TypeReport:
			q.Filter.Kind = c.Query("kind")
		case domain.TypeDispute:
			q.Filter.Kind = c.Query("status")
		case domain.TypeProject:
			q.Filter.Kind = c.Query("stage")
		}
		rs, limit, err := s.listPage(c, v, q)
		if err != nil {
			return err
		}
		return s.sendRecordList(c, rc, rs, limit)
	}
}

// reviewQuery reads ?review=, a review state.
func reviewQuery(c *fiber.Ctx, v *domain.Validator) string {
	r := c.Query("review")
	if r != "" && !slices.Contains(domain.ReviewStates, r) {
		v.Add("review", domain.FieldInvalid, "review must be submitted, approved or returned")
	}
	return r
}

// listPage checks a list's villageId and page (with the query errors in
// v) and reads one page of records in the caller's scope.
func (s *server) listPage(c *fiber.Ctx, v domain.Validator, q domain.ListQuery) ([]domain.Record, int, error) {
	if q.VillageID != "" && !domain.ValidID(q.VillageID) {
		v.Add("villageId", domain.FieldInvalid, "villageId must be a village id")
	}
	if err := queryErr(v); err != nil {
		return nil, 0, err
	}
	after, limit, err := recordPage(c)
	if err != nil {
		return nil, 0, err
	}
	q.After, q.Limit = after, limit
	rs, err := s.svc.Field.List(ctx(c), caller(c), q)
	return rs, limit, err
}

// recordJSON is a record's answer with how its photos stand.
func (s *server) recordJSON(c *fiber.Ctx, rc recordCodec, r domain.Record) (map[string]any, error) {
	out := rc.json(r)
	if err := s.withPhotos(c, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *server) sendRecord(c *fiber.Ctx, rc recordCodec, r domain.Record) error {
	out, err := s.recordJSON(c, rc, r)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// sendRecordList answers a page of records, with the cursor of its last
// one when full.
func (s *server) sendRecordList(c *fiber.Ctx, rc recordCodec, rs []domain.Record, limit int) error {
	out := listJSON[map[string]any]{Items: make([]map[string]any, len(rs))}
	for i, r := range rs {
		item, err := s.recordJSON(c, rc, r)
		if err != nil {
			return err
		}
		out.Items[i] = item
	}
	if len(rs) == limit {
		cur := recordCursor(rs[len(rs)-1])
		out.NextCursor = &cur
	}
	return c.JSON(out)
}
