// Package media inspects photo bytes: what format they really are (sniffed
// from the first bytes, never taken from the client), where and when an
// EXIF block says they were taken, and a small JPEG thumbnail for lists.
package media

import (
	"bytes"
	"encoding/binary"
)

// The formats a photo may be.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
	HEIC = "image/heic"
)

// Formats lists the content types a photo may have.
var Formats = []string{JPEG, PNG, WebP, HEIC}

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = 32

// Sniff names the image format of the leading bytes, or "" when they are
// none of JPEG, PNG, WebP or HEIC.
func Sniff(head []byte) string {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP
	case isHEIF(head):
		return HEIC
	}
	return ""
}

// isHEIF reads an ISO-BMFF "ftyp" box whose major or compatible brands
// name HEIC/HEIF.
func isHEIF(head []byte) bool {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size < 16 || size > 4096 {
		return false
	}
	brands := head[8:min(len(head), size)]
	for i := 0; i+4 <= len(brands); i += 4 {
		if i == 4 {
			continue // the minor version
		}
		switch string(brands[i : i+4]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1":
			return true
		}
	}
	return false
}
