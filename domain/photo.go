package domain

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// TypePhoto is a photo's metadata record. Photos live with the other
// records of their village (so ids are unique across both, and phones get
// them in the changes feed), but are made only through the photo routes.
const TypePhoto RecordType = "photo"

// Photo statuses.
const (
	PhotoPending = "pending" // waiting for its bytes
	PhotoReady   = "ready"   // bytes checked and stored
)

// Photo content types: what the bytes really are, sniffed.
const (
	ImageJPEG = "image/jpeg"
	ImagePNG  = "image/png"
	ImageWebP = "image/webp"
	ImageHEIC = "image/heic"
)

// ImageTypes lists the content types a photo may have.
var ImageTypes = []string{ImageJPEG, ImagePNG, ImageWebP, ImageHEIC}

// GeoPoint is a place in decimal degrees (WGS 84 as phones report it).
type GeoPoint struct {
	Lat, Lng float64
}

// Photo is a photo's metadata. Its bytes are stored once per content
// (BlobKey names them by their SHA-256), so two photos of the same bytes
// share them, and deleting a record never deletes a photo.
type Photo struct {
	Status string
	// Declared are what the client said before uploading (direct uploads).
	DeclaredType   string
	DeclaredSize   int64
	DeclaredSHA256 string
	// Set when ready.
	ContentType string
	Size        int64
	SHA256      string
	BlobKey     string
	ThumbKey    string // empty when no thumbnail could be made (HEIC)
	Width       int
	Height      int
	TakenAt     *time.Time // EXIF capture time
	GPS         *GeoPoint  // EXIF position
	CompletedAt *time.Time
}

// PhotoBrief is what a record's evidence needs of a photo.
type PhotoBrief struct {
	Status  string
	TakenAt *time.Time
	GPS     *GeoPoint
}

// PhotoIndex answers a village's photos: the store keeps it current.
type PhotoIndex interface {
	// VillagePhotos returns those of ids that are live photos of a village.
	VillagePhotos(ctx context.Context, villageID string, ids []string) (map[string]PhotoBrief, error)
}

// PendingPhoto is a photo waiting for its bytes.
type PendingPhoto struct {
	ID        string
	VillageID string
	CreatedAt time.Time
}

// PendingPhotoStore lists the photos waiting for their bytes (a small
// set: each leaves it on completion or after a day).
type PendingPhotoStore interface {
	AddPendingPhoto(ctx context.Context, p PendingPhoto) error
	RemovePendingPhoto(ctx context.Context, id string) error
	// PendingPhotos lists those created before a time, oldest first.
	PendingPhotos(ctx context.Context, before time.Time, limit int) ([]PendingPhoto, error)
}

// BlobInfo describes a stored object.
type BlobInfo struct {
	Size        int64
	ContentType string
}

// BlobStore keeps photo bytes under flat keys (no key is a "folder" of
// another). Every backend reports a missing object as ErrNotFound.
type BlobStore interface {
	// Put stores r under key; size is its length or -1 when unknown. It
	// returns the bytes stored.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error)
	// Get opens an object for reading.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Move renames an object (a copy and a delete where there is no rename).
	Move(ctx context.Context, from, to string) error
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Ping checks the store answers (readiness).
	Ping(ctx context.Context) error
}

// DirectBlobStore lets clients upload and download straight from the store
// with presigned requests (S3). The local disk store is not one.
type DirectBlobStore interface {
	BlobStore
	// PresignPut returns a URL for one PUT of key and the headers it must carry.
	PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, map[string]string, error)
	// PresignPost returns a form upload (URL and fields) whose policy pins
	// the key, the content type and a size range.
	PresignPost(ctx context.Context, key, contentType string, minSize, maxSize int64, ttl time.Duration) (string, map[string]string, error)
	// PresignGet returns a URL that reads key, answered with contentType.
	PresignGet(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
}

// ImageInfo is what inspecting a photo's bytes found.
type ImageInfo struct {
	Format        string // one of ImageTypes, or "" when the bytes are no image
	Size          int64
	SHA256        string
	Width, Height int
	TakenAt       *time.Time
	GPS           *GeoPoint
	Thumbnail     []byte // JPEG, nil when none could be made
}

// ImageInspector reads all of r (it must drain it, for the hash) and
// reports what it holds.
type ImageInspector func(ctx context.Context, r io.Reader) (ImageInfo, error)

// BlobURLSigner signs short-lived URLs that the API itself serves, for a
// store that cannot presign (local disk).
type BlobURLSigner struct {
	Key  []byte
	Base string // the blob route's path, ending in "/"
}

// URL returns a signed URL for key, answered with contentType, valid until exp.
func (s BlobURLSigner) URL(key, contentType string, exp time.Time) string {
	q := url.Values{}
	q.Set("ct", contentType)
	q.Set("exp", strconv.FormatInt(exp.Unix(), 10))
	q.Set("sig", s.sig(key, contentType, exp.Unix()))
	return s.Base + key + "?" + q.Encode()
}

func (s BlobURLSigner) sig(key, contentType string, exp int64) string {
	m := hmac.New(sha256.New, s.Key)
	fmt.Fprintf(m, "%s\n%s\n%d", key, contentType, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed URL's parts at now.
func (s BlobURLSigner) Verify(key, contentType, exp, sig string, now time.Time) error {
	e, err := strconv.ParseInt(exp, 10, 64)
	bad := &Error{Kind: KindForbidden, Code: "bad_signature", Message: "the link is not valid"}
	if err != nil || !hmac.Equal([]byte(sig), []byte(s.sig(key, contentType, e))) {
		return bad
	}
	if now.Unix() > e {
		return &Error{Kind: KindForbidden, Code: "link_expired", Message: "the link has expired"}
	}
	return nil
}

// blobKeyRE is every key the service makes: a one-letter kind and a hex or
// UUID name, never a "/".
var blobKeyRE = regexp.MustCompile(`^[bmtu]-[0-9a-f-]{32,64}$`)

// ValidBlobKey reports whether key is one the photo service makes.
func ValidBlobKey(key string) bool { return blobKeyRE.MatchString(key) }

// Object keys: staged direct uploads by photo id, staged multipart uploads
// by a fresh id, stored bytes and thumbnails by content hash.
func stagingKey(id string) string   { return "u-" + id }
func multipartKey(id string) string { return "m-" + id }
func contentKey(sha string) string  { return "b-" + sha }
func thumbKey(sha string) string    { return "t-" + sha }

// PhotoService takes photos in (a presigned direct upload then completion,
// or a multipart upload through the API), checks their bytes, and serves
// them through short-lived URLs after the scope check.
type PhotoService struct {
	Records  RecordStore
	Pending  PendingPhotoStore
	Index    PhotoIndex
	Org      OrgStore
	Blobs    BlobStore
	Inspect  ImageInspector
	Signer   BlobURLSigner
	Audit    Auditor
	Now      Clock
	MaxBytes int64
	// UploadTTL is how long a presigned upload stays valid; URLTTL a download link.
	UploadTTL, URLTTL time.Duration
	// PendingTTL is how long a photo may wait for its bytes before it is removed.
	PendingTTL time.Duration
	// TimeTolerance and Distance say how far a photo's EXIF time from its
	// report's event, and its position from the village, may be before the
	// photo is flagged.
	TimeTolerance time.Duration
	Distance      float64 // metres
	// OnPostDistance is how near the village a photo's EXIF position puts
	// its author on post (metres).
	OnPostDistance float64
	// Users finds a photo's author (is it one whose days on post count?).
	Users UserStore
	// Inspecting bounds the photos inspected at once (decoding is memory-hungry).
	Inspecting chan struct{}
	// Loc is the campaign's time zone, for the day a photo counts on; nil means UTC.
	Loc *time.Location
}

// UploadRequest asks for a direct upload.
type UploadRequest struct {
	ID, VillageID, ContentType, SHA256 string
	Size                               int64
	Form                               bool
}

// DirectUpload is how a client sends a photo's bytes straight to the store.
type DirectUpload struct {
	Method    string // PUT or POST
	URL       string
	Headers   map[string]string // PUT: headers to send
	Fields    map[string]string // POST: form fields to send before the file
	FileField string            // POST: the file's field name
	ExpiresAt time.Time
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func errDirectUnavailable() error {
	return &Error{Kind: KindConflict, Code: "direct_upload_unavailable",
		Message: "this server keeps photos on local disk: upload them with POST /api/v1/photos (multipart)"}
}

func photoTooLarge(limit int64) error {
	return &Error{Kind: KindInvalid, Code: "photo_too_large", Message: fmt.Sprintf("a photo may be at most %d bytes", limit)}
}

func notAnImage() error {
	return &Error{Kind: KindInvalid, Code: "not_an_image", Message: "the bytes are not a JPEG, PNG, WebP or HEIC image"}
}

// writableVillage returns a village the caller may add photos to.
func (s PhotoService) writableVillage(ctx context.Context, c Caller, v *Validator, id string) (Village, bool, error) {
	return FieldService{Org: s.Org}.village(ctx, c, v, id)
}

// StartUpload makes a pending photo and a presigned upload for its bytes. A
// resend with the same id and request answers the same photo with a fresh
// upload (or none when it is ready); another request under the id is 409.
func (s PhotoService) StartUpload(ctx context.Context, c Caller, req UploadRequest) (Record, *DirectUpload, bool, error) {
	var v Validator
	if req.ID != "" && !ValidID(req.ID) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	if !slices.Contains(ImageTypes, req.ContentType) {
		v.Add("contentType", FieldInvalid, "contentType must be image/jpeg, image/png, image/webp or image/heic")
	}
	if req.Size < 1 || req.Size > s.MaxBytes {
		v.Add("size", FieldRange, fmt.Sprintf("size must be from 1 to %d bytes", s.MaxBytes))
	}
	if req.SHA256 != "" && !sha256RE.MatchString(req.SHA256) {
		v.Add("sha256", FieldInvalid, "sha256 is 64 lower-case hex digits")
	}
	vil, ok, err := s.writableVillage(ctx, c, &v, req.VillageID)
	if err != nil {
		return Record{}, nil, false, err
	}
	if err := v.Err(); err != nil || !ok {
		return Record{}, nil, false, err
	}
	direct, ok := s.Blobs.(DirectBlobStore)
	if !ok {
		return Record{}, nil, false, errDirectUnavailable()
	}
	now := s.Now()
	if req.ID == "" {
		req.ID = NewID(now)
	}
	r, stored, err := s.createPending(ctx, c, vil, req.ID, now, req.ContentType, req.Size, req.SHA256)
	dup := false
	switch {
	case errors.Is(err, ErrDuplicate):
		if stored.Type != TypePhoto || !r.SameCreate(stored) || stored.Deleted {
			return Record{}, nil, false, idConflict()
		}
		dup = true
	case err != nil:
		return Record{}, nil, false, fmt.Errorf("start upload: %w", err)
	}
	if stored.Photo.Status == PhotoReady {
		return stored, nil, dup, nil
	}
	if err := s.Pending.AddPendingPhoto(ctx, PendingPhoto{ID: stored.ID, VillageID: stored.VillageID, CreatedAt: stored.CreatedAt}); err != nil {
		return Record{}, nil, false, fmt.Errorf("start upload: %w", err)
	}
	up := &DirectUpload{ExpiresAt: now.Add(s.UploadTTL)}
	key := stagingKey(stored.ID)
	if req.Form {
		up.Method, up.FileField = "POST", "file"
		up.URL, up.Fields, err = direct.PresignPost(ctx, key, req.ContentType, 1, s.MaxBytes, s.UploadTTL)
	} else {
		up.Method = "PUT"
		up.URL, up.Headers, err = direct.PresignPut(ctx, key, req.ContentType, s.UploadTTL)
	}
	if err != nil {
		return Record{}, nil, false, fmt.Errorf("presign upload: %w", err)
	}
	return stored, up, dup, nil
}

// createPending stores a new pending photo with what is declared of its
// bytes; ErrDuplicate (with the stored record) when the id exists.
func (s PhotoService) createPending(ctx context.Context, c Caller, vil Village, id string, now time.Time, ct string, size int64, sha string) (Record, Record, error) {
	r := Record{ID: id, Type: TypePhoto, VillageID: vil.ID, TownID: vil.TownID, CreatedBy: c.UserID,
		CreatedAt: now, UpdatedAt: now, At: now, Version: 1,
		Photo: &Photo{Status: PhotoPending, DeclaredType: ct, DeclaredSize: size, DeclaredSHA256: sha}}
	r.OnPost = c.Role.VillageLevel() && OnPost(vil, r, nil, s.OnPostDistance)
	r.Hash = r.Fingerprint()
	r.CreateHash = r.Hash
	entry := s.Audit.Entry(c, string(TypePhoto), r.ID, "create", r.TownID)
	stored, err := s.Records.CreateRecord(ctx, RecordWrite{Record: r, Audit: &entry, Delta: StatDelta(nil, r, s.Loc)})
	return r, stored, err
}

// getPhoto returns a photo the caller may see; write says it must also
// be one it may change.
func (s PhotoService) getPhoto(ctx context.Context, c Caller, id string, write bool) (Record, error) {
	r, err := FieldService{Records: s.Records}.get(ctx, c, TypePhoto, id)
	if err != nil {
		return Record{}, err
	}
	if r.Deleted {
		return Record{}, NotFound("photo")
	}
	if write && !canWriteVillage(c, r.VillageID, r.TownID) {
		return Record{}, Forbidden()
	}
	return r, nil
}

// Get returns a photo in the caller's scope.
func (s PhotoService) Get(ctx context.Context, c Caller, id string) (Record, error) {
	return s.getPhoto(ctx, c, id, false)
}

// inspect runs the inspector with the concurrency bound.
func (s PhotoService) inspect(ctx context.Context, r io.Reader) (ImageInfo, error) {
	if s.Inspecting != nil {
		select {
		case s.Inspecting <- struct{}{}:
			defer func() { <-s.Inspecting }()
		case <-ctx.Done():
			return ImageInfo{}, ctx.Err()
		}
	}
	return s.Inspect(ctx, r)
}

// Complete checks a direct upload's bytes and makes the photo ready: the
// object must exist, be within the size limit and really be an image (and
// match the declared SHA-256, when one was declared). Refused bytes are
// deleted; the photo stays pending, so the client may upload again.
func (s PhotoService) Complete(ctx context.Context, c Caller, id string) (Record, error) {
	r, err := s.getPhoto(ctx, c, id, true)
	if err != nil {
		return Record{}, err
	}
	if r.Photo.Status == PhotoReady {
		return r, nil
	}
	key := stagingKey(r.ID)
	info, err := s.Blobs.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return Record{}, &Error{Kind: KindConflict, Code: "upload_missing", Message: "the photo's bytes have not arrived: upload them first"}
	} else if err != nil {
		return Record{}, fmt.Errorf("complete photo: %w", err)
	}
	if info.Size > s.MaxBytes {
		return Record{}, s.refuse(ctx, key, photoTooLarge(s.MaxBytes))
	}
	rc, err := s.Blobs.Get(ctx, key)
	if err != nil {
		return Record{}, fmt.Errorf("complete photo: %w", err)
	}
	img, err := s.inspect(ctx, io.LimitReader(rc, s.MaxBytes+1))
	_ = rc.Close()
	if err != nil {
		return Record{}, fmt.Errorf("complete photo: %w", err)
	}
	if err := s.acceptable(img, r.Photo.DeclaredSHA256); err != nil {
		return Record{}, s.refuse(ctx, key, err)
	}
	return s.finish(ctx, r, key, img)
}

func (s PhotoService) acceptable(img ImageInfo, declaredSHA string) error {
	switch {
	case img.Size > s.MaxBytes:
		return photoTooLarge(s.MaxBytes)
	case img.Format == "":
		return notAnImage()
	case declaredSHA != "" && declaredSHA != img.SHA256:
		return &Error{Kind: KindInvalid, Code: "checksum_mismatch", Message: "the bytes do not match the declared sha256"}
	}
	return nil
}

// refuse deletes refused bytes and returns why they were refused.
func (s PhotoService) refuse(ctx context.Context, key string, why error) error {
	if err := s.Blobs.Delete(ctx, key); err != nil {
		return fmt.Errorf("remove refused upload: %w", err)
	}
	return why
}

// store moves checked bytes from their staging key to their content key
// (or drops them when those bytes are stored already) and writes the
// thumbnail once per content.
func (s PhotoService) store(ctx context.Context, staging string, img ImageInfo) (blob, thumb string, err error) {
	blob = contentKey(img.SHA256)
	if _, err := s.Blobs.Stat(ctx, blob); err == nil {
		if err := s.Blobs.Delete(ctx, staging); err != nil {
			return "", "", err
		}
	} else if errors.Is(err, ErrNotFound) {
		if err := s.Blobs.Move(ctx, staging, blob); err != nil {
			return "", "", err
		}
	} else {
		return "", "", err
	}
	if img.Thumbnail == nil {
		return blob, "", nil
	}
	thumb = thumbKey(img.SHA256)
	if _, err := s.Blobs.Stat(ctx, thumb); errors.Is(err, ErrNotFound) {
		if _, err := s.Blobs.Put(ctx, thumb, bytes.NewReader(img.Thumbnail), int64(len(img.Thumbnail)), ImageJPEG); err != nil {
			return "", "", err
		}
	} else if err != nil {
		return "", "", err
	}
	return blob, thumb, nil
}

// finish stores checked bytes and marks the photo ready.
func (s PhotoService) finish(ctx context.Context, r Record, staging string, img ImageInfo) (Record, error) {
	blob, thumb, err := s.store(ctx, staging, img)
	if err != nil {
		return Record{}, fmt.Errorf("store photo: %w", err)
	}
	now := s.Now()
	p := *r.Photo
	p.Status, p.ContentType, p.Size, p.SHA256 = PhotoReady, img.Format, img.Size, img.SHA256
	p.BlobKey, p.ThumbKey, p.Width, p.Height, p.TakenAt, p.GPS, p.CompletedAt = blob, thumb, img.Width, img.Height, img.TakenAt, img.GPS, &now
	next := r
	next.Photo = &p
	next.Version, next.UpdatedAt = r.Version+1, now
	next.Hash = next.Fingerprint()
	if !r.OnPost && p.GPS != nil {
		// The EXIF position may put the photo's author on post.
		if vil, err := s.Org.GetVillage(ctx, r.VillageID, Scope{All: true}); err == nil {
			on, err := FieldService{Users: s.Users}.authorOnPost(ctx, Caller{}, r.CreatedBy)
			if err != nil {
				return Record{}, err
			}
			next.OnPost = on && OnPost(vil, next, nil, s.OnPostDistance)
		} else {
			return Record{}, fmt.Errorf("complete photo: %w", err)
		}
	}
	stored, err := s.Records.ReplaceRecord(ctx, RecordWrite{Record: next, Delta: StatDelta(&r, next, s.Loc)})
	if errors.Is(err, ErrStale) {
		// Completed by a concurrent call: answer with what it stored.
		cur, gerr := s.Records.GetRecord(ctx, r.ID)
		if gerr == nil && cur.Photo != nil && cur.Photo.Status == PhotoReady {
			return cur, nil
		}
		return Record{}, fmt.Errorf("complete photo: %w", err)
	} else if err != nil {
		return Record{}, fmt.Errorf("complete photo: %w", err)
	}
	if err := s.Pending.RemovePendingPhoto(ctx, r.ID); err != nil {
		return Record{}, fmt.Errorf("complete photo: %w", err)
	}
	return stored, nil
}

// Upload takes a photo's bytes through the API (multipart), streaming them
// to the store while they are inspected, and returns the ready photo. With
// a client id, a resend of the same bytes answers the stored photo
// (duplicate true); other bytes under the id are 409.
func (s PhotoService) Upload(ctx context.Context, c Caller, villageID, id string, body io.Reader) (Record, bool, error) {
	var v Validator
	if id != "" && !ValidID(id) {
		v.Add("id", FieldInvalid, "id must be a lower-case UUID the client generates")
	}
	vil, ok, err := s.writableVillage(ctx, c, &v, villageID)
	if err != nil {
		return Record{}, false, err
	}
	if err := v.Err(); err != nil || !ok {
		return Record{}, false, err
	}
	now := s.Now()
	if id == "" {
		id = NewID(now)
	}
	staging := multipartKey(NewID(now))
	img, err := s.streamIn(ctx, staging, body)
	if err != nil {
		return Record{}, false, err
	}
	if err := s.acceptable(img, ""); err != nil {
		return Record{}, false, s.refuse(ctx, staging, err)
	}
	r, stored, err := s.createPending(ctx, c, vil, id, now, img.Format, img.Size, img.SHA256)
	switch {
	case errors.Is(err, ErrDuplicate):
		same := stored.Type == TypePhoto && stored.VillageID == r.VillageID && !stored.Deleted
		if same && stored.Photo.Status == PhotoReady && stored.Photo.SHA256 == img.SHA256 {
			return stored, true, s.Blobs.Delete(ctx, staging)
		}
		if !same || stored.Photo.Status == PhotoReady ||
			stored.Photo.DeclaredSHA256 != "" && stored.Photo.DeclaredSHA256 != img.SHA256 {
			return Record{}, false, s.refuse(ctx, staging, idConflict())
		}
		if !canWriteVillage(c, stored.VillageID, stored.TownID) {
			return Record{}, false, s.refuse(ctx, staging, Forbidden())
		}
		// A pending direct upload, completed through the API instead.
	case err != nil:
		return Record{}, false, fmt.Errorf("upload photo: %w", err)
	}
	out, err := s.finish(ctx, stored, staging, img)
	return out, false, err
}

// streamIn writes body to the store under key while the inspector reads
// the same bytes, refusing more than MaxBytes.
func (s PhotoService) streamIn(ctx context.Context, key string, body io.Reader) (ImageInfo, error) {
	limited := &countingReader{r: io.LimitReader(body, s.MaxBytes+1)}
	pr, pw := io.Pipe()
	var img ImageInfo
	var ierr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		img, ierr = s.inspect(ctx, pr)
		_ = pr.CloseWithError(errors.New("inspection ended")) // unblocks the writer if it stopped early
	}()
	_, perr := s.Blobs.Put(ctx, key, io.TeeReader(limited, pw), -1, "application/octet-stream")
	_ = pw.CloseWithError(perr)
	wg.Wait()
	if limited.n > s.MaxBytes {
		return ImageInfo{}, s.refuse(ctx, key, photoTooLarge(s.MaxBytes))
	}
	if perr != nil {
		_ = s.Blobs.Delete(ctx, key)
		return ImageInfo{}, fmt.Errorf("upload photo: %w", perr)
	}
	if ierr != nil {
		_ = s.Blobs.Delete(ctx, key)
		return ImageInfo{}, fmt.Errorf("inspect photo: %w", ierr)
	}
	return img, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ContentURL returns a short-lived URL of a ready photo's bytes (or its
// thumbnail), after the scope check.
func (s PhotoService) ContentURL(ctx context.Context, c Caller, id string, thumb bool) (string, error) {
	r, err := s.getPhoto(ctx, c, id, false)
	if err != nil {
		return "", err
	}
	p := r.Photo
	if p.Status != PhotoReady {
		return "", &Error{Kind: KindConflict, Code: "photo_pending", Message: "the photo's bytes have not been completed"}
	}
	key, ct := p.BlobKey, p.ContentType
	if thumb {
		if p.ThumbKey == "" {
			return "", &Error{Kind: KindNotFound, Code: "no_thumbnail", Message: "this photo has no thumbnail (its format cannot be decoded here)", Err: ErrNotFound}
		}
		key, ct = p.ThumbKey, ImageJPEG
	}
	if d, ok := s.Blobs.(DirectBlobStore); ok {
		u, err := d.PresignGet(ctx, key, ct, s.URLTTL)
		if err != nil {
			return "", fmt.Errorf("presign photo: %w", err)
		}
		return u, nil
	}
	return s.Signer.URL(key, ct, s.Now().Add(s.URLTTL)), nil
}

// OpenSigned opens the object a signed URL names, after checking it.
func (s PhotoService) OpenSigned(ctx context.Context, key, contentType, exp, sig string) (io.ReadCloser, BlobInfo, error) {
	if !ValidBlobKey(key) {
		return nil, BlobInfo{}, NotFound("file")
	}
	if err := s.Signer.Verify(key, contentType, exp, sig, s.Now()); err != nil {
		return nil, BlobInfo{}, err
	}
	info, err := s.Blobs.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, BlobInfo{}, NotFound("file")
	} else if err != nil {
		return nil, BlobInfo{}, err
	}
	rc, err := s.Blobs.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, BlobInfo{}, NotFound("file")
	}
	info.ContentType = contentType
	return rc, info, err
}

// Sweep removes photos that waited longer than PendingTTL for their bytes:
// their staged objects and their records (which leave tombstones). It
// returns how many it removed.
func (s PhotoService) Sweep(ctx context.Context) (int, error) {
	done := 0
	for {
		ps, err := s.Pending.PendingPhotos(ctx, s.Now().Add(-s.PendingTTL), 100)
		if err != nil || len(ps) == 0 {
			return done, err
		}
		for _, p := range ps {
			if err := s.Blobs.Delete(ctx, stagingKey(p.ID)); err != nil {
				return done, fmt.Errorf("sweep photos: %w", err)
			}
			r, err := s.Records.GetRecord(ctx, p.ID)
			if err == nil && r.Type == TypePhoto && !r.Deleted && r.Photo.Status == PhotoPending {
				next := r
				next.Deleted, next.Version, next.UpdatedAt = true, r.Version+1, s.Now()
				w := RecordWrite{Record: next, Delta: StatDelta(&r, next, s.Loc)}
				if _, err := s.Records.ReplaceRecord(ctx, w); err != nil && !errors.Is(err, ErrStale) {
					return done, fmt.Errorf("sweep photos: %w", err)
				}
				done++
			} else if err != nil && !errors.Is(err, ErrNotFound) {
				return done, fmt.Errorf("sweep photos: %w", err)
			}
			if err := s.Pending.RemovePendingPhoto(ctx, p.ID); err != nil {
				return done, fmt.Errorf("sweep photos: %w", err)
			}
		}
	}
}

// PhotoState is how a record's photo stands: ready, uploading (pending)
// or missing (no such photo of the record's village yet), with evidence
// flags for a ready one.
type PhotoState struct {
	ID     string
	Status string // ready, uploading, missing
	Flags  []string
}

// Evidence flags.
const (
	FlagTimeFar     = "time_far"     // EXIF time far from the report's event time
	FlagLocationFar = "location_far" // EXIF position far from the village
)

// States tells how each photo a record references stands. at is the
// event time to compare EXIF times with (reports), or nil.
func (s PhotoService) States(ctx context.Context, vil Village, at *time.Time, ids []string) ([]PhotoState, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	idx, err := s.Index.VillagePhotos(ctx, vil.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PhotoState, len(ids))
	for i, id := range ids {
		st := PhotoState{ID: id, Status: "missing"}
		if b, ok := idx[id]; ok {
			st.Status = "uploading"
			if b.Status == PhotoReady {
				st.Status = PhotoReady
				st.Flags = s.flags(vil, at, b)
			}
		}
		out[i] = st
	}
	return out, nil
}

func (s PhotoService) flags(vil Village, at *time.Time, b PhotoBrief) []string {
	var f []string
	if at != nil && b.TakenAt != nil && s.TimeTolerance > 0 {
		if d := b.TakenAt.Sub(*at); d > s.TimeTolerance || d < -s.TimeTolerance {
			f = append(f, FlagTimeFar)
		}
	}
	if vil.Location != nil && b.GPS != nil && s.Distance > 0 && Distance(*vil.Location, *b.GPS) > s.Distance {
		f = append(f, FlagLocationFar)
	}
	return f
}

// Distance is the great-circle distance between two points in metres.
func Distance(a, b GeoPoint) float64 {
	const r = 6371000
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// CheckPhotoRefs refuses photo ids that name another village's photo (or a
// record that is no photo); ids of photos not made yet are allowed, and
// shown as missing until they are.
func CheckPhotoRefs(ctx context.Context, idx PhotoIndex, records RecordStore, v *Validator, field, villageID string, ids []string) (map[string]PhotoBrief, error) {
	if idx == nil || len(ids) == 0 {
		return nil, nil
	}
	mine, err := idx.VillagePhotos(ctx, villageID, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if _, ok := mine[id]; ok || !ValidID(id) {
			continue
		}
		r, err := records.GetRecord(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if r.Type != TypePhoto || r.VillageID != villageID {
			v.Add(fmt.Sprintf("%s[%d]", field, i), FieldInvalid, "not a photo of this record's village")
		}
	}
	return mine, nil
}

// Evidence tells how each photo a record cites stands; nil when it cites none.
func (s PhotoService) Evidence(ctx context.Context, r Record) ([]PhotoState, error) {
	ids := r.photoIDs()
	var at *time.Time
	if r.Report != nil {
		at = &r.Report.OccurredAt
	}
	if len(ids) == 0 || s.Index == nil {
		return nil, nil
	}
	vil, err := s.Org.GetVillage(ctx, r.VillageID, Scope{All: true})
	if err != nil {
		return nil, fmt.Errorf("photo evidence: %w", err)
	}
	return s.States(ctx, vil, at, ids)
}
