package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhucun/domain"
)

// noisyJPEG is a photo-sized JPEG (noise compresses as badly as a photo).
func noisyJPEG(b testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(x), uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkPhotoUpload compares, in one run, photos uploaded through the
// API over loopback HTTP (multipart, streamed to the store while hashed,
// sniffed, EXIF-read and thumbnailed) with the same bytes written straight
// to the same store, 8 clients each:
//
//	go test ./cmd/zhucun -run '^$' -bench PhotoUpload -benchtime 40x
//
// With ZHUCUN_TEST_S3 set it measures the S3 store, else local disk.
func BenchmarkPhotoUpload(b *testing.B) {
	e := newEnv(b)
	f := e.fixture(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = e.api.App.Listener(ln) }()
	b.Cleanup(func() { _ = e.api.App.Shutdown() })
	url := "http://" + ln.Addr().String() + "/api/v1/photos"
	photo := noisyJPEG(b, 1600, 1200)
	token := f.tokens[domain.RoleCadre]
	const clients = 8

	run := func(n int, one func(i int) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := one(i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		return float64(n*len(photo)) / time.Since(start).Seconds() / (1 << 20)
	}
	b.ResetTimer()
	proxied := run(b.N, func(i int) error {
		// Each upload's bytes differ after the end-of-image marker, so none is a duplicate.
		data := fmt.Appendf(bytes.Clone(photo), "%08d", i)
		body, ct := multipartPhoto(b, f.villA1, "", data)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("upload: %d", res.StatusCode)
		}
		return nil
	})
	direct := run(b.N, func(i int) error {
		_, err := e.blobs.Put(context.Background(), fmt.Sprintf("b-%064x", i+1<<40), bytes.NewReader(photo), int64(len(photo)), "image/jpeg")
		return err
	})
	b.StopTimer()
	b.ReportMetric(proxied, "proxied_MiB/s")
	b.ReportMetric(direct, "store_MiB/s")
	b.ReportMetric(proxied/direct, "ratio")
	b.ReportMetric(float64(len(photo))/(1<<20), "photo_MiB")
}
