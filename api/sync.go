package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"

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

// sync applies up to 500 queued operations, each on its own: one bad item
// never sinks the rest. Items run as if in order: they are cut into runs in
// which no two items name the same record (its id, or the project a fund
// names), and a run's items go concurrently (their inserts then share group
// commits) before the next run starts.
func (s *server) sync(c *fiber.Ctx) error {
	var req syncReq
	if err := decodeSized(c, &req, maxSyncBody); err != nil {
		return err
	}
	if len(req.Items) > maxSyncItems {
		return newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
			domain.FieldError{Field: "items", Code: domain.FieldRange, Message: fmt.Sprintf("send at most %d items at a time", maxSyncItems)})
	}
	cx, cl := ctx(c), caller(c)
	results := make([]syncResult, len(req.Items))
	errs := make([]error, len(req.Items))
	heads := syncHeads(req.Items)
	for _, run := range syncRuns(heads) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range min(syncWorkers, len(run)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i], errs[i] = s.syncApply(cx, cl, req.Items[i], heads[i])
				}
			}()
		}
		for _, i := range run {
			next <- i
		}
		close(next)
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			results[i] = s.syncFailed(c, results[i], err)
		}
	}
	return c.JSON(struct {
		Results []syncResult `json:"results"`
	}{results})
}

// syncWorkers bounds the items of one sync applied at once.
const syncWorkers = 16

// syncHead is what an item's data says of the record it names: its id,
// the version an edit changes, and a fund's project.
type syncHead struct {
	ID        string `json:"id"`
	Version   *int   `json:"version"`
	ProjectID string `json:"projectId"`
}

// syncHeads reads each item's syncHead (a zero one when data is no object:
// the item is then refused on its own).
func syncHeads(items []syncItem) []syncHead {
	heads := make([]syncHead, len(items))
	for i, it := range items {
		_ = json.Unmarshal(it.Data, &heads[i])
	}
	return heads
}

// syncRuns cuts items, in order, into runs in which no record id (an
// item's own, or a fund's project) is named twice; applying a run's items
// concurrently then gives what applying them in order would.
func syncRuns(heads []syncHead) [][]int {
	var runs [][]int
	var run []int
	named := map[string]bool{}
	for i, h := range heads {
		var ids []string
		for _, id := range []string{h.ID, h.ProjectID} {
			if id != "" {
				ids = append(ids, id)
			}
		}
		if slices.ContainsFunc(ids, func(id string) bool { return named[id] }) {
			runs = append(runs, run)
			run, named = nil, map[string]bool{}
		}
		run = append(run, i)
		for _, id := range ids {
			named[id] = true
		}
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	return runs
}

// syncFailed turns an item's error into its result.
func (s *server) syncFailed(c *fiber.Ctx, res syncResult, err error) syncResult {
	p := s.problem(c, err)
	res.Problem = &p
	if p.Status == fiber.StatusForbidden {
		s.auditDenied(c, res.ID)
	}
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

// syncApply applies one item; an error becomes its problem (syncFailed).
func (s *server) syncApply(cx context.Context, cl domain.Caller, it syncItem, env syncHead) (syncResult, error) {
	res := syncResult{ID: env.ID}
	rc, ok := s.codecOf(it.Type)
	if !ok || rc.typ == domain.TypeProjectUpdate {
		return res, newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "type", Code: domain.FieldInvalid, Message: "type must be report, dispute, project or fund"})
	}
	if len(it.Data) == 0 || it.Data[0] != '{' {
		return res, newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "data", Code: domain.FieldRequired, Message: "data must be a JSON object"})
	}
	version := 0
	if env.Version != nil {
		version = *env.Version
	}
	switch domain.WriteOp(it.Op) {
	case domain.OpCreate:
		b := rc.body(nil)
		if err := decodeJSON(it.Data, b); err != nil {
			return res, err
		}
		r, dup, err := s.svc.Field.Create(cx, cl, rc.fromBody(b))
		if err != nil {
			return res, err
		}
		res.Status, res.Version = syncCreated, r.Version
		if dup {
			res.Status = syncDuplicate
		}
	case domain.OpUpdate:
		r, same, err := s.svc.Field.Update(cx, cl, rc.typ, env.ID, version, editKey(version, it.Data), rc.patchOnto(it.Data))
		if err != nil {
			return res, err
		}
		res.Status, res.Version = syncUpdated, r.Version
		if same {
			res.Status = syncDuplicate
		}
	case domain.OpDelete:
		already, err := s.svc.Field.Delete(cx, cl, rc.typ, env.ID, version)
		if err != nil {
			return res, err
		}
		res.Status = syncUpdated
		if already {
			res.Status = syncDuplicate
		}
	default:
		return res, newError(domain.KindInvalid, "validation_failed", "the item is invalid",
			domain.FieldError{Field: "op", Code: domain.FieldInvalid, Message: "op must be create, update or delete"})
	}
	return res, nil
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
