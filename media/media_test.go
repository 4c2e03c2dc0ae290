package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
	"time"
)

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniff(t *testing.T) {
	var p bytes.Buffer
	_ = png.Encode(&p, image.NewGray(image.Rect(0, 0, 2, 2)))
	heic := append([]byte{0, 0, 0, 24}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
	avif := append([]byte{0, 0, 0, 20}, []byte("ftypavif\x00\x00\x00\x00avif")...)
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"jpeg": {testJPEG(t, 4, 4), JPEG}, "png": {p.Bytes(), PNG},
		"webp": {[]byte("RIFF\x10\x00\x00\x00WEBPVP8 "), WebP}, "heic": {heic, HEIC},
		"avif": {avif, ""}, "text": {[]byte("hello, not an image"), ""}, "empty": {nil, ""},
		"pdf": {[]byte("%PDF-1.7\n"), ""},
	} {
		if got := Sniff(c.b); got != c.want {
			t.Errorf("%s: Sniff = %q, want %q", name, got, c.want)
		}
	}
}

func TestEXIFRoundTrip(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	taken := time.Date(2026, 3, 14, 9, 26, 53, 0, cst)
	for _, c := range []EXIF{
		{TakenAt: &taken, Lat: 34.7466, Lng: 113.6253, HasGPS: true},
		{TakenAt: &taken},
		{Lat: -33.8688, Lng: -151.2093, HasGPS: true},
	} {
		b := WithEXIF(testJPEG(t, 8, 8), c)
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("the JPEG with EXIF does not decode: %v", err)
		}
		got, err := ParseJPEGEXIF(b, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if (got.TakenAt == nil) != (c.TakenAt == nil) || got.TakenAt != nil && !got.TakenAt.Equal(*c.TakenAt) {
			t.Errorf("TakenAt = %v, want %v", got.TakenAt, c.TakenAt)
		}
		if got.HasGPS != c.HasGPS || math.Abs(got.Lat-c.Lat) > 1e-6 || math.Abs(got.Lng-c.Lng) > 1e-6 {
			t.Errorf("GPS = %v %v %v, want %v %v %v", got.HasGPS, got.Lat, got.Lng, c.HasGPS, c.Lat, c.Lng)
		}
	}
}

func TestEXIFAbsentOrBroken(t *testing.T) {
	got, err := ParseJPEGEXIF(testJPEG(t, 4, 4), time.UTC)
	if err != nil || got.TakenAt != nil || got.HasGPS {
		t.Fatalf("plain JPEG: %+v %v", got, err)
	}
	taken := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := WithEXIF(testJPEG(t, 4, 4), EXIF{TakenAt: &taken})
	// Point IFD0 past the end of the block.
	i := bytes.Index(b, []byte("Exif\x00\x00")) + 6
	b[i+4], b[i+5] = 0xFF, 0x7F
	if _, err := ParseJPEGEXIF(b, time.UTC); err == nil {
		t.Fatal("a broken IFD offset parsed")
	}
	for n := range 64 { // truncations never panic
		_, _ = ParseJPEGEXIF(b[:n], time.UTC)
	}
}

func TestThumbnail(t *testing.T) {
	src := testJPEG(t, 1000, 500)
	w, h, err := Size(src, JPEG)
	if err != nil || w != 1000 || h != 500 {
		t.Fatalf("Size = %d×%d %v", w, h, err)
	}
	th, err := Thumbnail(bytes.NewReader(src), JPEG, w, h, 320)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	if err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Fatalf("thumbnail %d×%d %v", cfg.Width, cfg.Height, err)
	}
	if _, err := Thumbnail(bytes.NewReader(src), HEIC, w, h, 320); err != ErrNoThumbnail {
		t.Fatalf("HEIC thumbnail: %v", err)
	}
	if _, err := Thumbnail(bytes.NewReader(src), JPEG, 20000, 20000, 320); err != ErrNoThumbnail {
		t.Fatalf("huge image: %v", err)
	}
}

func TestInspect(t *testing.T) {
	taken := time.Date(2026, 5, 1, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	photo := WithEXIF(testJPEG(t, 640, 480), EXIF{TakenAt: &taken, Lat: 34.5, Lng: 113.25, HasGPS: true})
	info, err := Inspector(time.UTC)(context.Background(), bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(photo)
	if info.Format != JPEG || info.Size != int64(len(photo)) || info.SHA256 != hex.EncodeToString(sum[:]) ||
		info.Width != 640 || info.Height != 480 || info.TakenAt == nil || !info.TakenAt.Equal(taken) ||
		info.GPS == nil || math.Abs(info.GPS.Lat-34.5) > 1e-6 || len(info.Thumbnail) == 0 {
		t.Fatalf("inspect: %+v", info)
	}
	for name, b := range map[string][]byte{
		"text":          []byte("not an image at all"),
		"corrupt jpeg":  append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0}, bytes.Repeat([]byte{7}, 5000)...),
		"truncated png": []byte("\x89PNG\r\n\x1a\n\x00\x00"),
	} {
		info, err := Inspector(time.UTC)(context.Background(), bytes.NewReader(b))
		if err != nil || info.Format != "" || info.Size != int64(len(b)) {
			t.Errorf("%s: %+v %v", name, info, err)
		}
	}
}
