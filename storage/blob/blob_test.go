package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"zhucun/domain"
	"zhucun/storage/blob"
	"zhucun/storage/blob/blobtest"
)

func key(kind string) string { return kind + "-" + domain.NewID(time.Now()) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestSuite runs the same checks against every backend.
func TestSuite(t *testing.T) {
	for _, b := range blobtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			t.Run("round trip", func(t *testing.T) {
				k, data := key("u"), randomBytes(300<<10)
				n, err := s.Put(ctx, k, bytes.NewReader(data), int64(len(data)), "image/jpeg")
				if err != nil || n != int64(len(data)) {
					t.Fatalf("put: %d %v", n, err)
				}
				info, err := s.Stat(ctx, k)
				if err != nil || info.Size != int64(len(data)) {
					t.Fatalf("stat: %+v %v", info, err)
				}
				rc, err := s.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("get: %d bytes, %v", len(got), err)
				}
				if err := s.Delete(ctx, k); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Stat(ctx, k); !errors.Is(err, domain.ErrNotFound) {
					t.Fatalf("stat after delete: %v", err)
				}
			})
			t.Run("unknown length in parts", func(t *testing.T) {
				k, data := key("m"), randomBytes(11<<20+123) // three parts of 5 MiB
				n, err := s.Put(ctx, k, io.MultiReader(bytes.NewReader(data)), -1, "application/octet-stream")
				if err != nil || n != int64(len(data)) {
					t.Fatalf("put: %d %v", n, err)
				}
				rc, err := s.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				_ = rc.Close()
				if !bytes.Equal(got, data) {
					t.Fatalf("got %d bytes back, want %d", len(got), len(data))
				}
			})
			t.Run("one not-found error", func(t *testing.T) {
				k := key("b")
				if _, err := s.Stat(ctx, k); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("stat: %v", err)
				}
				if _, err := s.Get(ctx, k); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("get: %v", err)
				}
				if err := s.Move(ctx, k, key("b")); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("move: %v", err)
				}
				if err := s.Delete(ctx, k); err != nil {
					t.Errorf("delete of a missing object: %v", err)
				}
			})
			t.Run("move", func(t *testing.T) {
				from, to, data := key("u"), key("b"), randomBytes(1000)
				if _, err := s.Put(ctx, from, bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
					t.Fatal(err)
				}
				if err := s.Move(ctx, from, to); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Stat(ctx, from); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("the source is still there: %v", err)
				}
				if info, err := s.Stat(ctx, to); err != nil || info.Size != 1000 {
					t.Errorf("the target: %+v %v", info, err)
				}
			})
			if d, ok := s.(domain.DirectBlobStore); ok {
				t.Run("direct", func(t *testing.T) { testDirect(t, d) })
			}
		})
	}
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func testDirect(t *testing.T, s domain.DirectBlobStore) {
	ctx := context.Background()
	data := randomBytes(2000)
	t.Run("presigned put", func(t *testing.T) {
		k := key("u")
		u, headers, err := s.PresignPut(ctx, k, "image/jpeg", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		put := func(url, ct string) int {
			req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
			req.Header.Set("Content-Type", ct)
			code, _ := do(t, req)
			return code
		}
		if code := put(u, "text/html"); code != http.StatusForbidden {
			t.Errorf("another content type: %d, want 403", code)
		}
		if code := put(strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=0", 1), headers["Content-Type"]); code != http.StatusForbidden {
			t.Errorf("tampered signature: %d, want 403", code)
		}
		if code := put(u, headers["Content-Type"]); code != http.StatusOK {
			t.Fatalf("put: %d", code)
		}
		if info, err := s.Stat(ctx, k); err != nil || info.Size != int64(len(data)) {
			t.Fatalf("stat: %+v %v", info, err)
		}
		g, err := s.PresignGet(ctx, k, "image/jpeg", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, g, nil)
		if code, body := do(t, req); code != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("presigned get: %d, %d bytes", code, len(body))
		}
		req, _ = http.NewRequest(http.MethodGet, strings.Replace(g, k, key("u"), 1), nil)
		if code, _ := do(t, req); code != http.StatusForbidden {
			t.Errorf("get of another key with the signature: %d, want 403", code)
		}
	})
	t.Run("expired", func(t *testing.T) {
		k := key("u")
		u, headers, err := s.PresignPut(ctx, k, "image/jpeg", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond) // let the one-second URL expire
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
		req.Header.Set("Content-Type", headers["Content-Type"])
		if code, _ := do(t, req); code != http.StatusForbidden {
			t.Errorf("expired URL: %d, want 403", code)
		}
	})
	t.Run("post policy", func(t *testing.T) {
		post := func(k, ct string, body []byte, mutate func(map[string]string)) int {
			u, fields, err := s.PresignPost(ctx, k, "image/png", 1, 4096, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if mutate != nil {
				mutate(fields)
			}
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			for name, v := range fields {
				_ = w.WriteField(name, v)
			}
			_ = w.WriteField("Content-Type", ct)
			fw, _ := w.CreateFormFile("file", "photo.png")
			_, _ = fw.Write(body)
			_ = w.Close()
			req, _ := http.NewRequest(http.MethodPost, u, &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			code, _ := do(t, req)
			return code
		}
		k := key("u")
		if code := post(k, "image/png", randomBytes(5000), nil); code < 400 {
			t.Errorf("over the size range: %d", code)
		}
		if code := post(k, "text/html", data, nil); code < 400 {
			t.Errorf("another content type: %d", code)
		}
		if code := post(k, "image/png", data, func(f map[string]string) { f["key"] = key("b") }); code < 400 {
			t.Errorf("another key: %d", code)
		}
		if code := post(k, "image/png", data, func(f map[string]string) { f["x-amz-signature"] = strings.Repeat("0", 64) }); code < 400 {
			t.Errorf("tampered signature: %d", code)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a refused form stored something: %v", err)
		}
		if code := post(k, "image/png", data, nil); code != http.StatusNoContent && code != http.StatusOK {
			t.Fatalf("form upload: %d", code)
		}
		if info, err := s.Stat(ctx, k); err != nil || info.Size != int64(len(data)) {
			t.Fatalf("stat: %+v %v", info, err)
		}
	})
}

func TestLocalKeysStayInside(t *testing.T) {
	l, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"../x", "b-../../etc/passwd", "/etc/passwd", "b-" + strings.Repeat("a", 70), "", "x-0123456789abcdef0123456789abcdef"} {
		if _, err := l.Put(ctx, k, strings.NewReader("x"), 1, ""); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("put %q: %v", k, err)
		}
		if _, err := l.Get(ctx, k); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("get %q: %v", k, err)
		}
	}
}
