package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// Sync limits.
const (
	maxSyncItems = 500
	maxSyncBody  = 8 << 20
)

type syncItem struct {
	Type string          `json:"type"`
	Op   string          `json:"op"`
	Data json.RawMessage `json:"data"`
}

type syncReq struct {
	Items []syncItem `json:"items"`
}

// syncResult is the outcome of one queued operation.
type syncResult struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Version int      `json:"version,omitempty"`
	Problem *Problem `json:"problem,omitempty"`
}

// Sync result statuses. A client retries "error" (and the whole request on
// a 5xx or timeout); it sets the others aside: they will not change on a retry.
const (
	syncCreated   = "created"
	syncDuplicate = "duplicate"
	syncUpdated   = "updated"
	syncConflict  = "conflict"
	syncInvalid   = "invalid"
	syncNotFound  = "not_found"
	syncError     = "error"
)

func (s *server) codecOf(typ string) (recordCodec, bool) {
	for _, rc := range s.codecs {
		if string(rc.typ) == typ {
			return rc, true
		}
	}
	return recordCodec{}, false
}

// sync applies up to 500 queued operations in order, each on its own: one
// bad item never sinks the rest.
func (s *server) sync(c *fiber.Ctx) error {
	var req syncReq
	if err := decodeSized(c, &req, maxSyncBody); err != nil {
		return err
	}
	if len(req.Items) > maxSyncItems {
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: "items", Code: domain.FieldRange, Message: fmt.Sprintf("send at most %d items at a time", maxSyncItems)})
	}
	out := struct {
		Results []syncResult `json:"results"`
	}{Results: make([]syncResult, len(req.Items))}
	for i, it := range req.Items {
		out.Results[i] = s.syncOne(c, it)
	}
	return c.JSON(out)
}

func (s *server) syncOne(c *fiber.Ctx, it syncItem) syncResult {
	var env struct {
		ID      string `json:"id"`
		Version *int   `json:"version"`
	}
	_ = json.Unmarshal(it.Data, &env)
	res := syncResult{ID: env.ID}
	fail := func(err error) syncResult {
		p := s.problem(c, err)
		res.Problem = &p
		switch {
		case p.Status == fiber.StatusNotFound:
			res.Status = syncNotFound
		case p.Status == fiber.StatusConflict || p.Status == fiber.StatusPreconditionFailed:
			res.Status = syncConflict
		case p.Status >= 500:
			res.Status = syncError
		default:
			res.Status = syncInvalid
		}
		return res
	}
	rc, ok := s.codecOf(it.Type)
	if !ok || rc.typ == domain.TypeProjectUpdate {
		return fail(newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "type", Code: domain.FieldInvalid, Message: "type must be report, dispute, project or fund"}))
	}
	if len(it.Data) == 0 || it.Data[0] != '{' {
		return fail(newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "data", Code: domain.FieldRequired, Message: "data must be a JSON object"}))
	}
	version := 0
	if env.Version != nil {
		version = *env.Version
	}
	cx, cl := ctx(c), caller(c)
	switch domain.WriteOp(it.Op) {
	case domain.OpCreate:
		b := rc.body(nil)
		if err := decodeJSON(it.Data, b); err != nil {
			return fail(err)
		}
		r, dup, err := s.svc.Field.Create(cx, cl, rc.fromBody(b))
		if err != nil {
			return fail(err)
		}
		res.Status, res.Version = syncCreated, r.Version
		if dup {
			res.Status = syncDuplicate
		}
	case domain.OpUpdate:
		r, same, err := s.svc.Field.Update(cx, cl, rc.typ, env.ID, version, editKey(version, it.Data), rc.patchOnto(it.Data))
		if err != nil {
			return fail(err)
		}
		res.Status, res.Version = syncUpdated, r.Version
		if same {
			res.Status = syncDuplicate
		}
	case domain.OpDelete:
		already, err := s.svc.Field.Delete(cx, cl, rc.typ, env.ID, version)
		if err != nil {
			return fail(err)
		}
		res.Status = syncUpdated
		if already {
			res.Status = syncDuplicate
		}
	default:
		return fail(newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "op", Code: domain.FieldInvalid, Message: "op must be create, update or delete"}))
	}
	return res
}

type changeJSON struct {
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Deleted bool           `json:"deleted"`
	Version int            `json:"version"`
	Data    map[string]any `json:"data"`
}

// changes returns the caller's scope changed since the cursor.
func (s *server) changes(c *fiber.Ctx) error {
	var v domain.Validator
	var after int64
	if cur := c.Query("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		n, perr := strconv.ParseInt(string(b), 10, 64)
		if err != nil || perr != nil || n < 0 {
			v.Add("cursor", domain.FieldInvalid, "cursor must be a nextCursor this API returned")
		}
		after = n
	}
	limit := domain.DefaultPageLimit
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			v.Add("limit", domain.FieldRange, fmt.Sprintf("limit must be an integer from 1 to %d", domain.MaxPageLimit))
		}
		limit = n
	}
	if err := queryErr(v); err != nil {
		return err
	}
	rs, next, err := s.svc.Field.Changes(ctx(c), caller(c), after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Items      []changeJSON `json:"items"`
		NextCursor string       `json:"nextCursor"`
		HasMore    bool         `json:"hasMore"`
	}{Items: make([]changeJSON, len(rs)), HasMore: len(rs) == limit,
		NextCursor: base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))}
	for i, r := range rs {
		ch := changeJSON{Type: string(r.Type), ID: r.ID, Deleted: r.Deleted, Version: r.Version}
		if rc, ok := s.codecOf(string(r.Type)); ok && !r.Deleted {
			ch.Data = rc.json(r)
		} else if r.Type == domain.TypePhoto && !r.Deleted {
			ch.Data = asMap(toPhotoJSON(r))
		}
		out.Items[i] = ch
	}
	return c.JSON(out)
}
