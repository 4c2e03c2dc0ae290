package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"testing"

	"zhucun/media"
)

// testPhoto makes a JPEG of w×h pixels, with EXIF when e is given.
// t may be nil (the access table builds requests without one).
func testPhoto(t testing.TB, w, h int, e *media.EXIF) []byte {
	if t != nil {
		t.Helper()
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), uint8(w + h), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	if e != nil {
		return media.WithEXIF(b.Bytes(), *e)
	}
	return b.Bytes()
}

// multipartPhoto is a multipart body with villageId and id (when not
// empty) before the file.
func multipartPhoto(t testing.TB, villageID, id string, data []byte) ([]byte, string) {
	if t != nil {
		t.Helper()
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if villageID != "" {
		_ = w.WriteField("villageId", villageID)
	}
	if id != "" {
		_ = w.WriteField("id", id)
	}
	fw, err := w.CreateFormFile("file", "photo.jpg")
	if err != nil {
		panic(err)
	}
	_, _ = fw.Write(data)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// uploadPhoto sends a photo through POST /api/v1/photos.
func (e *env) uploadPhoto(t testing.TB, token, villageID, id string, data []byte) *resp {
	t.Helper()
	body, ct := multipartPhoto(t, villageID, id, data)
	return e.do(t, req{method: "POST", path: "/api/v1/photos", token: token, body: body, contentType: ct})
}
