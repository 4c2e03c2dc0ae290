package media

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"time"

	"zhucun/domain"
)

// headLen is how much of a photo is kept for its size and EXIF: the APP1
// segment is at most 64 KiB and comes before the image data.
const headLen = 256 << 10

// ThumbSide is the longer side of a thumbnail, in pixels.
const ThumbSide = 320

// Inspector returns a domain.ImageInspector that reads EXIF times without
// an offset in loc. It reads a photo once: hashing every byte, sniffing the
// format, reading the size and EXIF from the head, and decoding the image
// for its thumbnail from the same stream.
func Inspector(loc *time.Location) domain.ImageInspector {
	return func(ctx context.Context, r io.Reader) (domain.ImageInfo, error) {
		return inspect(ctx, r, loc)
	}
}

type headWriter struct{ b []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if room := headLen - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func inspect(ctx context.Context, r io.Reader, loc *time.Location) (domain.ImageInfo, error) {
	hash := sha256.New()
	head := &headWriter{}
	counted := &counter{}
	br := bufio.NewReaderSize(io.TeeReader(r, io.MultiWriter(hash, head, counted)), headLen)
	var info domain.ImageInfo
	// Fill the head (or read all of a small photo) before looking at it.
	if _, err := br.Peek(headLen); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return info, err
	}
	peek, _ := br.Peek(br.Buffered())
	info.Format = Sniff(peek)
	if info.Format != "" {
		w, h, err := Size(peek, info.Format)
		switch {
		case err == nil:
			info.Width, info.Height = w, h
		case !errors.Is(err, ErrNoThumbnail) && len(peek) < headLen:
			// Its magic says image, and all of it says otherwise. (A header
			// beyond the head, after huge metadata, just gets no thumbnail.)
			info.Format = ""
		}
	}
	if info.Format == JPEG {
		if e, err := ParseJPEGEXIF(peek, loc); err == nil {
			info.TakenAt = e.TakenAt
			if e.HasGPS {
				info.GPS = &domain.GeoPoint{Lat: e.Lat, Lng: e.Lng}
			}
		}
	}
	if info.Width > 0 && ctx.Err() == nil {
		if th, err := Thumbnail(br, info.Format, info.Width, info.Height, ThumbSide); err == nil {
			info.Thumbnail = th
		} else if !errors.Is(err, ErrNoThumbnail) {
			info.Format = "" // says it is an image and does not decode as one
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return domain.ImageInfo{}, err
	}
	info.Size = counted.n
	info.SHA256 = hex.EncodeToString(hash.Sum(nil))
	return info, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
