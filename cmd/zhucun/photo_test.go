package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/media"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fetch follows a photo link: the API's own (a path) or the S3 server's.
func (e *env) fetch(t *testing.T, link string) (int, []byte) {
	t.Helper()
	if strings.HasPrefix(link, "/") {
		r := e.do(t, req{method: "GET", path: link})
		return r.status, r.body
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// location asks for a photo's content or thumbnail link.
func (e *env) location(t *testing.T, token, id, what string) string {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/photos/" + id + "/" + what, token: token})
	want(t, r, 307)
	return r.header.Get("Location")
}

// TestPhotoUploadThroughAPI runs on the env's photo store (local disk, or
// S3 when the test S3 server is configured): upload, resend, dedupe,
// refusal, EXIF, thumbnail, links, scope, references from records.
func TestPhotoUploadThroughAPI(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	cst := time.FixedZone("CST", 8*3600)
	taken := e.clock.Now().Add(-2 * time.Hour).In(cst).Truncate(time.Second)
	photo := testPhoto(t, 800, 600, &media.EXIF{TakenAt: &taken, Lat: 34.7466, Lng: 113.6253, HasGPS: true})
	id := domain.NewID(e.clock.Now())

	r := e.uploadPhoto(t, cadre, f.villA1, id, photo)
	want(t, r, 201)
	if r.str("id") != id || r.str("status") != "ready" || r.str("contentType") != "image/jpeg" || r.str("sha256") != sha(photo) ||
		r.json["size"].(float64) != float64(len(photo)) || r.json["width"].(float64) != 800 || r.json["hasThumbnail"] != true {
		t.Fatalf("uploaded photo: %s", r.body)
	}
	if at, _ := time.Parse(time.RFC3339, r.str("takenAt")); !at.Equal(taken) {
		t.Errorf("takenAt %q, want %v", r.str("takenAt"), taken)
	}
	if gps := r.json["gps"].(map[string]any); gps["lat"].(float64) < 34.74 || gps["lat"].(float64) > 34.75 || gps["lng"].(float64) < 113.62 {
		t.Errorf("gps %v", gps)
	}

	t.Run("resend and dedupe", func(t *testing.T) {
		again := e.uploadPhoto(t, cadre, f.villA1, id, photo)
		want(t, again, 200)
		if again.str("version") != r.str("version") || again.str("id") != id {
			t.Fatalf("resend: %s", again.body)
		}
		want(t, e.uploadPhoto(t, cadre, f.villA1, id, testPhoto(t, 10, 10, nil)), 409, "id_conflict")
		twin := e.uploadPhoto(t, cadre, f.villA1, "", photo)
		want(t, twin, 201)
		if twin.str("id") == id || twin.str("sha256") != r.str("sha256") {
			t.Fatalf("twin: %s", twin.body)
		}
		key := "b-" + sha(photo)
		for _, pid := range []string{id, twin.str("id")} {
			if loc := e.location(t, cadre, pid, "content"); !strings.Contains(loc, key) {
				t.Errorf("photo %s is not served from the one stored copy %s: %s", pid, key, loc)
			}
		}
		if _, err := e.blobs.Stat(context.Background(), key); err != nil {
			t.Fatalf("the stored copy: %v", err)
		}
	})

	t.Run("refused bytes", func(t *testing.T) {
		before := len(e.do(t, req{method: "GET", path: "/api/v1/photos?villageId=" + f.villA1, token: cadre}).items())
		want(t, e.uploadPhoto(t, cadre, f.villA1, "", []byte("<html>not a photo</html>")), 422, "not_an_image")
		broken := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16}, bytes.Repeat([]byte{9}, 3000)...)
		want(t, e.uploadPhoto(t, cadre, f.villA1, "", broken), 422, "not_an_image")
		body, ct := multipartPhoto(t, f.villA1, "", photo)
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos", token: cadre, body: body, contentType: "application/json"}), 415)
		_ = ct
		var noFile bytes.Buffer
		w := multipart.NewWriter(&noFile)
		_ = w.WriteField("villageId", f.villA1)
		_ = w.Close()
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos", token: cadre, body: noFile.Bytes(), contentType: w.FormDataContentType()}), 422, "validation_failed")
		want(t, e.uploadPhoto(t, cadre, "", "", photo), 422, "validation_failed")
		want(t, e.uploadPhoto(t, cadre, f.villA1, "not-a-uuid", photo), 422, "validation_failed")
		if after := len(e.do(t, req{method: "GET", path: "/api/v1/photos?villageId=" + f.villA1, token: cadre}).items()); after != before {
			t.Fatalf("refused uploads made photos: %d → %d", before, after)
		}
	})

	t.Run("links", func(t *testing.T) {
		code, body := e.fetch(t, e.location(t, cadre, id, "content"))
		if code != 200 || !bytes.Equal(body, photo) {
			t.Fatalf("content: %d, %d bytes", code, len(body))
		}
		code, body = e.fetch(t, e.location(t, f.tokens[domain.RoleLeader], id, "thumbnail"))
		if code != 200 {
			t.Fatalf("thumbnail: %d", code)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		if err != nil || cfg.Width != 320 || cfg.Height != 240 {
			t.Fatalf("thumbnail %d×%d %v", cfg.Width, cfg.Height, err)
		}
		loc := e.location(t, cadre, id, "content")
		if strings.HasPrefix(loc, "/") {
			tampered := strings.Replace(loc, "ct=image%2Fjpeg", "ct=text%2Fhtml", 1)
			want(t, e.do(t, req{method: "GET", path: tampered}), 403, "bad_signature")
			other := strings.Replace(loc, "b-"+sha(photo), "b-"+strings.Repeat("0", 64), 1)
			want(t, e.do(t, req{method: "GET", path: other}), 403, "bad_signature")
			e.clock.Advance(2 * time.Minute)
			want(t, e.do(t, req{method: "GET", path: loc}), 403, "link_expired")
		} else {
			if code, _ := e.fetch(t, strings.Replace(loc, "X-Amz-Signature=", "X-Amz-Signature=00", 1)); code != 403 {
				t.Fatalf("tampered presigned GET: %d", code)
			}
			if !strings.Contains(loc, "X-Amz-Expires=60") {
				t.Errorf("a link lives about a minute: %s", loc)
			}
		}
	})

	t.Run("scope", func(t *testing.T) {
		cadreB := e.login(t, "13900000009", testPassword)
		for _, p := range []string{"", "/content", "/thumbnail"} {
			want(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id + p, token: cadreB}), 404)
		}
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadreB}), 404)
		want(t, e.uploadPhoto(t, cadreB, f.villA1, "", photo), 404)
		if items := e.do(t, req{method: "GET", path: "/api/v1/photos", token: cadreB}).items(); len(items) != 0 {
			t.Fatalf("cadre of B1 lists photos of A1: %d", len(items))
		}
	})

	t.Run("records cite photos", func(t *testing.T) {
		// The village is 30 km from where the photo was taken.
		want(t, e.do(t, req{method: "PATCH", path: "/api/v1/villages/" + f.villA1, token: f.tokens[domain.RoleAdmin],
			body: map[string]any{"location": map[string]any{"lat": 35.0166, "lng": 113.6253}}}), 200)
		later := domain.NewID(e.clock.Now())
		rep := func(occurred time.Time, ids ...string) *resp {
			return e.do(t, req{method: "POST", path: "/api/v1/reports", token: cadre, body: map[string]any{"id": domain.NewID(e.clock.Now()),
				"kind": "work_log", "villageId": f.villA1, "occurredAt": occurred, "text": "走访记录", "photoIds": ids}})
		}
		a := rep(taken.Add(time.Hour), id, later)
		want(t, a, 201)
		states := a.json["photos"].([]any)
		first, second := states[0].(map[string]any), states[1].(map[string]any)
		if first["status"] != "ready" || second["status"] != "missing" {
			t.Fatalf("photo states: %v", states)
		}
		if fl := first["flags"].([]any); len(fl) != 1 || fl[0] != "location_far" {
			t.Fatalf("flags of a photo 30 km away, taken an hour before: %v", fl)
		}
		// The missing photo arrives: the report shows it ready.
		want(t, e.uploadPhoto(t, cadre, f.villA1, later, testPhoto(t, 20, 20, nil)), 201)
		got := e.do(t, req{method: "GET", path: "/api/v1/reports/" + a.str("id"), token: cadre})
		if s := got.json["photos"].([]any)[1].(map[string]any)["status"]; s != "ready" {
			t.Fatalf("the photo that arrived: %v", s)
		}
		// A report three days before the photo flags its time too.
		b := rep(taken.Add(-72*time.Hour), id)
		want(t, b, 201)
		if fl := b.json["photos"].([]any)[0].(map[string]any)["flags"].([]any); len(fl) != 2 || fl[0] != "time_far" {
			t.Fatalf("flags: %v", fl)
		}
		// Another village's record cannot cite it.
		other := e.do(t, req{method: "POST", path: "/api/v1/reports", token: f.tokens[domain.RoleAdmin], body: map[string]any{"id": domain.NewID(e.clock.Now()),
			"kind": "work_log", "villageId": f.villB1, "occurredAt": taken, "text": "越界", "photoIds": []string{id}}})
		want(t, other, 422, "validation_failed")
		if !strings.Contains(string(other.body), "photoIds[0]") {
			t.Fatalf("the refusal does not name the field: %s", other.body)
		}
		// So do problems.
		problem := func(village string) *resp {
			return e.do(t, req{method: "POST", path: "/api/v1/villages/" + village + "/problems", token: f.tokens[domain.RoleAdmin],
				body: map[string]any{"aspect": "disunity", "description": "两委班子不团结", "source": "field_check", "photoIds": []string{id}}})
		}
		if p := problem(f.villA1); p.status != 201 || len(p.json["photoIds"].([]any)) != 1 {
			t.Fatalf("problem citing its village's photo: %d %s", p.status, p.body)
		}
		want(t, problem(f.villB1), 422, "validation_failed")
		// Deleting one record leaves the photo to the other.
		want(t, e.do(t, req{method: "DELETE", path: "/api/v1/reports/" + a.str("id"), token: cadre, header: map[string]string{"If-Match": `"1"`}}), 204)
		got = e.do(t, req{method: "GET", path: "/api/v1/reports/" + b.str("id"), token: cadre})
		if s := got.json["photos"].([]any)[0].(map[string]any)["status"]; s != "ready" {
			t.Fatalf("after deleting the other record: %v", s)
		}
		if code, body := e.fetch(t, e.location(t, cadre, id, "content")); code != 200 || !bytes.Equal(body, photo) {
			t.Fatalf("content after the delete: %d", code)
		}
	})
}

func TestPhotoSizeLimit(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.PhotoMaxBytes = 4096 })
	f := e.fixture(t)
	big := testPhoto(t, 300, 300, nil)
	if len(big) <= 4096 {
		t.Fatalf("the test photo is only %d bytes", len(big))
	}
	want(t, e.uploadPhoto(t, f.tokens[domain.RoleCadre], f.villA1, "", big), 422, "photo_too_large")
	if _, err := e.blobs.Stat(context.Background(), "b-"+sha(big)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a refused photo was stored: %v", err)
	}
	want(t, e.uploadPhoto(t, f.tokens[domain.RoleCadre], f.villA1, "", testPhoto(t, 8, 8, nil)), 201)
}

// put sends bytes to a presigned PUT with the headers it asks for.
func put(t *testing.T, up map[string]any, data []byte) int {
	t.Helper()
	hr, _ := http.NewRequest(http.MethodPut, up["url"].(string), bytes.NewReader(data))
	for k, v := range up["headers"].(map[string]any) {
		hr.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// postForm sends bytes as wx.uploadFile does: the policy's fields, then the file.
func postForm(t *testing.T, up map[string]any, data []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range up["fields"].(map[string]any) {
		_ = w.WriteField(k, v.(string))
	}
	fw, _ := w.CreateFormFile(up["fileField"].(string), "tmp_photo.jpg")
	_, _ = fw.Write(data)
	_ = w.Close()
	res, err := http.Post(up["url"].(string), w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// TestPhotoDirectUpload needs a store that presigns (S3: CI's versitygw).
func TestPhotoDirectUpload(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.PhotoMaxBytes = 64 << 10 })
	if _, ok := e.blobs.(domain.DirectBlobStore); !ok {
		f := e.fixture(t)
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos/uploads", token: f.tokens[domain.RoleCadre],
			body: map[string]any{"villageId": f.villA1, "contentType": "image/jpeg", "size": 100}}), 409, "direct_upload_unavailable")
		t.Skip("the local photo store takes uploads through the API only; set ZHUCUN_TEST_S3 for the direct ones")
	}
	f := e.fixture(t)
	cadre := f.tokens[domain.RoleCadre]
	taken := e.clock.Now().Add(-time.Hour).Truncate(time.Second)
	photo := testPhoto(t, 400, 300, &media.EXIF{TakenAt: &taken, Lat: 30.5, Lng: 114.3, HasGPS: true})
	start := func(body map[string]any) *resp {
		return e.do(t, req{method: "POST", path: "/api/v1/photos/uploads", token: cadre, body: body})
	}

	t.Run("presigned PUT", func(t *testing.T) {
		id := domain.NewID(e.clock.Now())
		body := map[string]any{"id": id, "villageId": f.villA1, "contentType": "image/jpeg", "size": len(photo), "sha256": sha(photo)}
		s := start(body)
		want(t, s, 201)
		if s.json["photo"].(map[string]any)["status"] != "pending" {
			t.Fatalf("started: %s", s.body)
		}
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadre}), 409, "upload_missing")
		up := s.json["upload"].(map[string]any)
		if up["method"] != "PUT" {
			t.Fatalf("upload: %v", up)
		}
		tampered := map[string]any{"url": strings.Replace(up["url"].(string), "X-Amz-Signature=", "X-Amz-Signature=00", 1), "headers": up["headers"]}
		if code := put(t, tampered, photo); code != 403 {
			t.Fatalf("tampered PUT: %d", code)
		}
		// A resend of the start answers the same photo and a fresh upload.
		again := start(body)
		want(t, again, 200)
		if code := put(t, again.json["upload"].(map[string]any), photo); code != 200 {
			t.Fatalf("PUT: %d", code)
		}
		c := e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadre})
		want(t, c, 200)
		if c.str("status") != "ready" || c.str("sha256") != sha(photo) || c.str("takenAt") == "" || c.json["gps"] == nil || c.json["hasThumbnail"] != true {
			t.Fatalf("completed: %s", c.body)
		}
		want(t, e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadre}), 200)
		done := start(body)
		want(t, done, 200)
		if done.json["upload"] != nil {
			t.Fatalf("a ready photo got another upload: %s", done.body)
		}
		body["size"] = 99
		want(t, start(body), 409, "id_conflict")
		if code, got := e.fetch(t, e.location(t, cadre, id, "content")); code != 200 || !bytes.Equal(got, photo) {
			t.Fatalf("content: %d", code)
		}
		if _, err := e.blobs.Stat(context.Background(), "u-"+id); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("the staged upload is still there: %v", err)
		}
	})

	t.Run("POST policy for wx.uploadFile", func(t *testing.T) {
		s := start(map[string]any{"villageId": f.villA1, "contentType": "image/jpeg", "size": len(photo), "form": true})
		want(t, s, 201)
		up := s.json["upload"].(map[string]any)
		if up["method"] != "POST" || up["fileField"] != "file" {
			t.Fatalf("upload: %v", up)
		}
		if code := postForm(t, up, bytes.Repeat([]byte{1}, 70<<10)); code < 400 {
			t.Fatalf("a form over the size range: %d", code)
		}
		if code := postForm(t, up, photo); code != 204 && code != 200 {
			t.Fatalf("form upload: %d", code)
		}
		id := s.json["photo"].(map[string]any)["id"].(string)
		c := e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadre})
		want(t, c, 200)
		if c.str("status") != "ready" {
			t.Fatalf("completed: %s", c.body)
		}
	})

	t.Run("refused at completion", func(t *testing.T) {
		for name, c := range map[string]struct {
			data []byte
			code string
		}{
			"not an image":   {[]byte("MZ\x90\x00 an executable, not a photo"), "not_an_image"},
			"over the limit": {testPhoto(t, 1200, 1200, nil), "photo_too_large"},
			"other bytes":    {testPhoto(t, 30, 30, nil), "checksum_mismatch"},
		} {
			id := domain.NewID(e.clock.Now())
			s := start(map[string]any{"id": id, "villageId": f.villA1, "contentType": "image/jpeg", "size": 1000, "sha256": sha(photo)})
			want(t, s, 201)
			if code := put(t, s.json["upload"].(map[string]any), c.data); code != 200 {
				t.Fatalf("%s: PUT %d", name, code)
			}
			want(t, e.do(t, req{method: "POST", path: "/api/v1/photos/" + id + "/complete", token: cadre}), 422, c.code)
			if _, err := e.blobs.Stat(context.Background(), "u-"+id); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("%s: the refused object was kept: %v", name, err)
			}
			if g := e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: cadre}); g.str("status") != "pending" {
				t.Fatalf("%s: %s", name, g.body)
			}
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"villageId": f.villA1, "contentType": "text/html", "size": 10},
			{"villageId": f.villA1, "contentType": "image/jpeg", "size": 0},
			{"villageId": f.villA1, "contentType": "image/jpeg", "size": 1 << 30},
			{"villageId": f.villA1, "contentType": "image/jpeg", "size": 10, "sha256": "xyz"},
			{"contentType": "image/jpeg", "size": 10},
		} {
			want(t, start(body), 422, "validation_failed")
		}
		want(t, start(map[string]any{"villageId": f.villB1, "contentType": "image/jpeg", "size": 10}), 404)
	})

	t.Run("never completed", func(t *testing.T) {
		s := start(map[string]any{"villageId": f.villA1, "contentType": "image/png", "size": 10})
		want(t, s, 201)
		id := s.json["photo"].(map[string]any)["id"].(string)
		if code := put(t, s.json["upload"].(map[string]any), []byte("half an up")); code != 200 {
			t.Fatalf("PUT %d", code)
		}
		ctx := context.Background()
		if n, err := e.photos.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before a day: %d %v", n, err)
		}
		e.clock.Advance(25 * time.Hour)
		if n, err := e.photos.Sweep(ctx); err != nil || n < 1 {
			t.Fatalf("sweep after a day: %d %v", n, err)
		}
		fresh := e.login(t, f.phones[domain.RoleCadre], testPassword) // the old token expired meanwhile
		want(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: fresh}), 404)
		if _, err := e.blobs.Stat(ctx, "u-"+id); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("the staged object outlived its photo: %v", err)
		}
	})
}
