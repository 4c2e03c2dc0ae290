package media

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// FuzzInspect: whatever bytes a phone uploads, the sniffer, the size
// reader, the EXIF parser and the thumbnailer answer or refuse; none
// panics, and a photo said to be an image has a size.
func FuzzInspect(f *testing.F) {
	jpeg := testJPEG(f, 16, 12)
	taken := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	f.Add(jpeg)
	f.Add(WithEXIF(jpeg, EXIF{TakenAt: &taken, Lat: 37.38, Lng: 118.02, HasGPS: true}))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("\x00\x00\x00\x18ftypheic"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42})
	loc := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, b []byte) {
		format := Sniff(b)
		if format != "" {
			_, _, _ = Size(b, format)
			_, _ = Thumbnail(bytes.NewReader(b), format, 0, 0, ThumbSide)
		}
		_, _ = ParseJPEGEXIF(b, loc)
		info, err := inspect(context.Background(), bytes.NewReader(b), loc)
		if err == nil && info.Size != int64(len(b)) {
			t.Fatalf("inspected %d bytes of %d", info.Size, len(b))
		}
	})
}
