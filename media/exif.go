package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"
)

// EXIF is what a photo's EXIF block says of where and when it was taken.
type EXIF struct {
	// TakenAt is DateTimeOriginal (or DateTime), in the offset the block
	// gives, else in the location ParseEXIF was given.
	TakenAt *time.Time
	// Lat and Lng are set together, in decimal degrees, when HasGPS.
	Lat, Lng float64
	HasGPS   bool
}

// TIFF tags read here.
const (
	tagDateTime         = 0x0132
	tagExifIFD          = 0x8769
	tagGPSIFD           = 0x8825
	tagDateTimeOriginal = 0x9003
	tagOffsetOriginal   = 0x9011
	tagGPSLatRef        = 0x0001
	tagGPSLat           = 0x0002
	tagGPSLngRef        = 0x0003
	tagGPSLng           = 0x0004
)

// errNoEXIF says the bytes hold no EXIF block.
var errNoEXIF = errors.New("no EXIF block")

// ParseJPEGEXIF reads the EXIF block of a JPEG's leading bytes (the APP1
// segment comes before the image data, so the first 128 KiB are plenty).
// Times without an offset are read in loc. A JPEG without EXIF gives an
// empty EXIF and no error; a malformed block gives an error.
func ParseJPEGEXIF(head []byte, loc *time.Location) (EXIF, error) {
	tiff, err := jpegAPP1(head)
	if errors.Is(err, errNoEXIF) {
		return EXIF{}, nil
	}
	if err != nil {
		return EXIF{}, err
	}
	return parseTIFF(tiff, loc)
}

// jpegAPP1 finds the TIFF bytes of the "Exif" APP1 segment.
func jpegAPP1(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("not a JPEG")
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil, errNoEXIF
		}
		marker := b[i+1]
		if marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // image data or end: no EXIF before it
			return nil, errNoEXIF
		}
		n := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		if n < 2 || i+2+n > len(b) {
			return nil, errNoEXIF
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:], nil
		}
		i += 2 + n
	}
	return nil, errNoEXIF
}

type tiffReader struct {
	b   []byte
	ord binary.ByteOrder
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // the value bytes, wherever they are stored
}

var errBadTIFF = errors.New("malformed EXIF block")

// typeSize is the byte size of one value of each TIFF type used here.
func typeSize(t uint16) int {
	switch t {
	case 1, 2, 7: // BYTE, ASCII, UNDEFINED
		return 1
	case 3: // SHORT
		return 2
	case 4, 9: // LONG, SLONG
		return 4
	case 5, 10: // RATIONAL, SRATIONAL
		return 8
	}
	return 0
}

func (t tiffReader) ifd(off uint32) (map[uint16]ifdEntry, error) {
	if int64(off)+2 > int64(len(t.b)) {
		return nil, errBadTIFF
	}
	n := int(t.ord.Uint16(t.b[off:]))
	if n > 1000 || int(off)+2+12*n > len(t.b) {
		return nil, errBadTIFF
	}
	out := make(map[uint16]ifdEntry, n)
	for k := range n {
		e := t.b[int(off)+2+12*k:]
		en := ifdEntry{tag: t.ord.Uint16(e[0:]), typ: t.ord.Uint16(e[2:]), count: t.ord.Uint32(e[4:])}
		size := int64(typeSize(en.typ)) * int64(en.count)
		if size == 0 || size > 1<<16 {
			continue // a type or size not read here
		}
		if size <= 4 {
			en.value = e[8 : 8+size]
		} else {
			p := int64(t.ord.Uint32(e[8:]))
			if p+size > int64(len(t.b)) {
				return nil, errBadTIFF
			}
			en.value = t.b[p : p+size]
		}
		out[en.tag] = en
	}
	return out, nil
}

func (t tiffReader) long(e ifdEntry) (uint32, bool) {
	switch {
	case e.typ == 4 && len(e.value) >= 4:
		return t.ord.Uint32(e.value), true
	case e.typ == 3 && len(e.value) >= 2:
		return uint32(t.ord.Uint16(e.value)), true
	}
	return 0, false
}

func ascii(e ifdEntry) string {
	if e.typ != 2 {
		return ""
	}
	return strings.TrimRight(string(e.value), "\x00 ")
}

// degrees reads three RATIONALs (degrees, minutes, seconds).
func (t tiffReader) degrees(e ifdEntry) (float64, bool) {
	if e.typ != 5 || len(e.value) < 24 {
		return 0, false
	}
	var parts [3]float64
	for i := range parts {
		num, den := t.ord.Uint32(e.value[8*i:]), t.ord.Uint32(e.value[8*i+4:])
		if den == 0 {
			return 0, false
		}
		parts[i] = float64(num) / float64(den)
	}
	return parts[0] + parts[1]/60 + parts[2]/3600, true
}

func parseTIFF(b []byte, loc *time.Location) (EXIF, error) {
	if len(b) < 8 {
		return EXIF{}, errBadTIFF
	}
	t := tiffReader{b: b}
	switch string(b[0:2]) {
	case "II":
		t.ord = binary.LittleEndian
	case "MM":
		t.ord = binary.BigEndian
	default:
		return EXIF{}, errBadTIFF
	}
	if t.ord.Uint16(b[2:]) != 42 {
		return EXIF{}, errBadTIFF
	}
	ifd0, err := t.ifd(t.ord.Uint32(b[4:]))
	if err != nil {
		return EXIF{}, err
	}
	var out EXIF
	taken, offset := ascii(ifd0[tagDateTime]), ""
	if e, ok := ifd0[tagExifIFD]; ok {
		if p, ok := t.long(e); ok {
			exif, err := t.ifd(p)
			if err != nil {
				return EXIF{}, err
			}
			if s := ascii(exif[tagDateTimeOriginal]); s != "" {
				taken = s
			}
			offset = ascii(exif[tagOffsetOriginal])
		}
	}
	if at, ok := exifTime(taken, offset, loc); ok {
		out.TakenAt = &at
	}
	if e, ok := ifd0[tagGPSIFD]; ok {
		if p, ok := t.long(e); ok {
			gps, err := t.ifd(p)
			if err != nil {
				return EXIF{}, err
			}
			lat, ok1 := t.degrees(gps[tagGPSLat])
			lng, ok2 := t.degrees(gps[tagGPSLng])
			if ok1 && ok2 && lat <= 90 && lng <= 180 {
				if ascii(gps[tagGPSLatRef]) == "S" {
					lat = -lat
				}
				if ascii(gps[tagGPSLngRef]) == "W" {
					lng = -lng
				}
				if !(lat == 0 && lng == 0) { // 0,0 is what cameras without a fix write
					out.Lat, out.Lng, out.HasGPS = lat, lng, true
				}
			}
		}
	}
	return out, nil
}

// exifTime parses "2006:01:02 15:04:05" with an optional "+08:00" offset.
func exifTime(s, offset string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	if offset != "" {
		if at, err := time.Parse("2006:01:02 15:04:05-07:00", s[:19]+offset); err == nil {
			return at.UTC(), true
		}
	}
	at, err := time.ParseInLocation("2006:01:02 15:04:05", s[:19], loc)
	if err != nil || at.Year() < 1990 {
		return time.Time{}, false
	}
	return at.UTC(), true
}

// WithEXIF returns a JPEG with an EXIF APP1 segment holding e (its time
// written in e.TakenAt's own offset), right after the start-of-image
// marker. Tests and tools use it to make photos with known metadata.
func WithEXIF(jpeg []byte, e EXIF) []byte {
	ord := binary.LittleEndian
	var ifd0, exif, gps []rawEntry
	var ifdData []byte
	if e.TakenAt != nil {
		exif = append(exif, rawEntry{tagDateTimeOriginal, 2, []byte(e.TakenAt.Format("2006:01:02 15:04:05") + "\x00")},
			rawEntry{tagOffsetOriginal, 2, []byte(e.TakenAt.Format("-07:00") + "\x00")})
		ifd0 = append(ifd0, rawEntry{tag: tagExifIFD, typ: 4})
	}
	if e.HasGPS {
		ref := func(v float64, pos, neg string) []byte {
			if v < 0 {
				return []byte(neg + "\x00")
			}
			return []byte(pos + "\x00")
		}
		gps = append(gps, rawEntry{tagGPSLatRef, 2, ref(e.Lat, "N", "S")}, rawEntry{tagGPSLat, 5, rationalDMS(ord, math.Abs(e.Lat))},
			rawEntry{tagGPSLngRef, 2, ref(e.Lng, "E", "W")}, rawEntry{tagGPSLng, 5, rationalDMS(ord, math.Abs(e.Lng))})
		ifd0 = append(ifd0, rawEntry{tag: tagGPSIFD, typ: 4})
	}
	// Layout: header, IFD0, Exif IFD, GPS IFD, then out-of-line values.
	size := func(n int) int { return 2 + 12*n + 4 }
	off0 := 8
	offExif := off0 + size(len(ifd0))
	offGPS := offExif + size(len(exif))
	data := offGPS + size(len(gps))
	for i := range ifd0 {
		v := make([]byte, 4)
		if ifd0[i].tag == tagExifIFD {
			ord.PutUint32(v, uint32(offExif))
		} else {
			ord.PutUint32(v, uint32(offGPS))
		}
		ifd0[i].value = v
	}
	var b []byte
	b = append(b, 'I', 'I', 42, 0)
	b = ord.AppendUint32(b, uint32(off0))
	for _, ifd := range [][]rawEntry{ifd0, exif, gps} {
		b = ord.AppendUint16(b, uint16(len(ifd)))
		for _, en := range ifd {
			b = ord.AppendUint16(b, en.tag)
			b = ord.AppendUint16(b, en.typ)
			b = ord.AppendUint32(b, uint32(len(en.value)/typeSize(en.typ)))
			if len(en.value) <= 4 {
				v := make([]byte, 4)
				copy(v, en.value)
				b = append(b, v...)
			} else {
				b = ord.AppendUint32(b, uint32(data+len(ifdData)))
				ifdData = append(ifdData, en.value...)
				if len(ifdData)%2 == 1 {
					ifdData = append(ifdData, 0)
				}
			}
		}
		b = ord.AppendUint32(b, 0)
	}
	b = append(b, ifdData...)
	seg := append([]byte("Exif\x00\x00"), b...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpeg[2:]...)
}

type rawEntry struct {
	tag, typ uint16
	value    []byte
}

func rationalDMS(ord binary.AppendByteOrder, v float64) []byte {
	d := math.Floor(v)
	m := math.Floor((v - d) * 60)
	s := ((v-d)*60 - m) * 60
	var b []byte
	for _, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 10000)), 10000}} {
		b = ord.AppendUint32(b, r[0])
		b = ord.AppendUint32(b, r[1])
	}
	return b
}
