package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// photoPath is the multipart upload route, whose body is streamed to the
// photo store instead of being read into memory.
const photoPath = "/api/v1/photos"

// photoJSON is a photo's metadata as answers show it (no object keys).
type photoJSON struct {
	recordOut
	Status       string     `json:"status"`
	ContentType  string     `json:"contentType"`
	Size         int64      `json:"size"`
	SHA256       string     `json:"sha256,omitempty"`
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`
	TakenAt      *time.Time `json:"takenAt,omitempty"`
	GPS          *geoJSON   `json:"gps,omitempty"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	HasThumbnail bool       `json:"hasThumbnail"`
}

type geoJSON struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

func toGeoJSON(g *domain.GeoPoint) *geoJSON {
	if g == nil {
		return nil
	}
	return &geoJSON{Lat: g.Lat, Lng: g.Lng}
}

func toPhotoJSON(r domain.Record) photoJSON {
	out := photoJSON{recordOut: outOf(r)}
	if p := r.Photo; p != nil && !r.Deleted {
		out.Status, out.ContentType, out.Size, out.SHA256 = p.Status, p.DeclaredType, p.DeclaredSize, p.DeclaredSHA256
		if p.Status == domain.PhotoReady {
			out.ContentType, out.Size, out.SHA256 = p.ContentType, p.Size, p.SHA256
		}
		out.Width, out.Height, out.TakenAt, out.GPS, out.CompletedAt = p.Width, p.Height, p.TakenAt, toGeoJSON(p.GPS), p.CompletedAt
		out.HasThumbnail = p.ThumbKey != ""
	}
	return out
}

type uploadReq struct {
	ID          string `json:"id"`
	VillageID   string `json:"villageId"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Form        bool   `json:"form"`
}

type uploadJSON struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	FileField string            `json:"fileField,omitempty"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// startUpload answers a pending photo and a presigned upload of its bytes.
func (s *server) startUpload(c *fiber.Ctx) error {
	var req uploadReq
	if err := decode(c, &req); err != nil {
		return err
	}
	r, up, dup, err := s.svc.Photos.StartUpload(ctx(c), caller(c), domain.UploadRequest{ID: req.ID, VillageID: req.VillageID,
		ContentType: req.ContentType, Size: req.Size, SHA256: req.SHA256, Form: req.Form})
	if err != nil {
		return err
	}
	out := struct {
		Photo  photoJSON   `json:"photo"`
		Upload *uploadJSON `json:"upload,omitempty"`
	}{Photo: toPhotoJSON(r)}
	if up != nil {
		out.Upload = &uploadJSON{Method: up.Method, URL: up.URL, Headers: up.Headers, Fields: up.Fields,
			FileField: up.FileField, ExpiresAt: up.ExpiresAt}
	}
	if dup {
		return c.JSON(out)
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// uploadPhoto streams a multipart upload (fields villageId and id before
// the file field "file", or as query parameters) to the photo store.
func (s *server) uploadPhoto(c *fiber.Ctx) error {
	r, dup, err := s.readUpload(c)
	if err != nil {
		// The rest of an unread body cannot be skipped safely: end the connection.
		c.Response().SetConnectionClose()
		return err
	}
	if dup {
		return c.JSON(toPhotoJSON(r))
	}
	return c.Status(fiber.StatusCreated).JSON(toPhotoJSON(r))
}

func (s *server) readUpload(c *fiber.Ctx) (domain.Record, bool, error) {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return domain.Record{}, false, fiber.NewError(fiber.StatusUnsupportedMediaType, "send the photo as multipart/form-data")
	}
	var body io.Reader = c.Request().BodyStream()
	if body == nil {
		body = strings.NewReader(string(c.Body()))
	}
	mr := multipart.NewReader(body, params["boundary"])
	villageID, id := c.Query("villageId"), c.Query("id")
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return domain.Record{}, false, newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
				domain.FieldError{Field: "file", Code: domain.FieldRequired, Message: "the photo goes in the multipart field file"})
		}
		if err != nil {
			return domain.Record{}, false, newError(domain.KindBadRequest, "invalid_file", "the multipart body cannot be read")
		}
		switch part.FormName() {
		case "file":
			if villageID == "" {
				return domain.Record{}, false, newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
					domain.FieldError{Field: "villageId", Code: domain.FieldRequired, Message: "send villageId before the file (or as a query parameter)"})
			}
			return s.svc.Photos.Upload(ctx(c), caller(c), villageID, id, part)
		case "villageId", "id":
			b, err := io.ReadAll(io.LimitReader(part, 200))
			if err != nil {
				return domain.Record{}, false, newError(domain.KindBadRequest, "invalid_file", "the multipart body cannot be read")
			}
			if part.FormName() == "id" {
				id = strings.TrimSpace(string(b))
			} else {
				villageID = strings.TrimSpace(string(b))
			}
		default:
			return domain.Record{}, false, newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
				domain.FieldError{Field: part.FormName(), Code: domain.FieldUnknown, Message: "unknown field: send villageId, id and file"})
		}
	}
}

func (s *server) completePhoto(c *fiber.Ctx) error {
	r, err := s.svc.Photos.Complete(ctx(c), caller(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(toPhotoJSON(r))
}

func (s *server) getPhoto(c *fiber.Ctx) error {
	r, err := s.svc.Photos.Get(ctx(c), caller(c), c.Params("id"))
	if err != nil {
		return err
	}
	etag(c, r.Version)
	return c.JSON(toPhotoJSON(r))
}

// photoURL answers 307 to a short-lived URL of the bytes or thumbnail.
func (s *server) photoURL(thumb bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, err := s.svc.Photos.ContentURL(ctx(c), caller(c), c.Params("id"), thumb)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, u)
		c.Status(fiber.StatusTemporaryRedirect)
		return nil
	}
}

// blob serves an object through a URL the API signed (the local store).
func (s *server) blob(c *fiber.Ctx) error {
	rc, info, err := s.svc.Photos.OpenSigned(ctx(c), c.Params("key"), c.Query("ct"), c.Query("exp"), c.Query("sig"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, info.ContentType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=60")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return c.SendStream(rc, int(info.Size))
}

// listPhotos lists a village's (or the caller's scope's) photos.
func (s *server) listPhotos(c *fiber.Ctx) error {
	var v domain.Validator
	q := domain.ListQuery{VillageID: c.Query("villageId"), TownID: c.Query("townId"),
		Filter: domain.RecordFilter{Type: domain.TypePhoto, Kind: c.Query("status"), CreatedBy: c.Query("createdBy"), Review: reviewQuery(c, &v)}}
	if st := q.Filter.Kind; st != "" && st != domain.PhotoPending && st != domain.PhotoReady {
		v.Add("status", domain.FieldInvalid, "status must be pending or ready")
	}
	rs, limit, err := s.listPage(c, v, q)
	if err != nil {
		return err
	}
	out := listJSON[photoJSON]{Items: make([]photoJSON, len(rs))}
	for i, r := range rs {
		out.Items[i] = toPhotoJSON(r)
	}
	if len(rs) == limit {
		cur := recordCursor(rs[len(rs)-1])
		out.NextCursor = &cur
	}
	return c.JSON(out)
}

// photoStateJSON is how a record's photo stands.
type photoStateJSON struct {
	ID     string   `json:"id"`
	Status string   `json:"status"`
	Flags  []string `json:"flags,omitempty"`
}

// withPhotos adds to a record's answer how each photo it cites stands.
func (s *server) withPhotos(c *fiber.Ctx, r domain.Record, out map[string]any) error {
	if r.Deleted {
		return nil
	}
	states, err := s.svc.Photos.Evidence(ctx(c), r)
	if err != nil || states == nil {
		return err
	}
	js := make([]photoStateJSON, len(states))
	for i, st := range states {
		js[i] = photoStateJSON{ID: st.ID, Status: st.Status, Flags: st.Flags}
	}
	out["photos"] = js
	return nil
}

// asMap turns a JSON body into a map, for answers that mix body types.
func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
