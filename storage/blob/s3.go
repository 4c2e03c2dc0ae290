package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"zhucun/domain"
)

var _ domain.DirectBlobStore = (*S3)(nil)

// S3Config says where the bucket is.
type S3Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string // set, it saves a bucket-location lookup per presign
	Secure    bool   // HTTPS
	// Timeout bounds each call (a whole upload for Put).
	Timeout time.Duration
}

// S3 keeps objects in an S3 bucket (MinIO, or any S3 server).
type S3 struct {
	c       *minio.Client
	bucket  string
	timeout time.Duration
}

// partSize is what an upload of unknown length buffers per part: the S3
// minimum, so a proxied photo is never held whole in memory.
const partSize = 5 << 20

// NewS3 connects to the bucket, creating it when missing.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure, Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("photo store: %w", err)
	}
	s := &S3{c: c, bucket: cfg.Bucket, timeout: cfg.Timeout}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("photo store: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil {
			var er minio.ErrorResponse
			if !errors.As(err, &er) || er.Code != "BucketAlreadyOwnedByYou" {
				return nil, fmt.Errorf("photo store: create bucket %s: %w", cfg.Bucket, err)
			}
		}
	}
	return s, nil
}

func (s *S3) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// translate maps a missing object to domain.ErrNotFound.
func translate(key string, err error) error {
	if err == nil {
		return nil
	}
	if er := minio.ToErrorResponse(err); er.Code == "NoSuchKey" || er.StatusCode == http.StatusNotFound {
		return fmt.Errorf("photo store: %s: %w", key, domain.ErrNotFound)
	}
	return fmt.Errorf("photo store: %s: %w", key, err)
}

// Put uploads r; of unknown length, in parts of partSize.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	info, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType, PartSize: partSize})
	if err != nil {
		return 0, translate(key, err)
	}
	return info.Size, nil
}

// Get opens an object; a missing one is ErrNotFound here, not at first read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	ctx, cancel := s.ctx(ctx)
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err == nil {
		_, err = o.Stat()
	}
	if err != nil {
		cancel()
		return nil, translate(key, err)
	}
	return readCloser{o, cancel}, nil
}

type readCloser struct {
	*minio.Object
	cancel context.CancelFunc
}

func (r readCloser) Close() error {
	defer r.cancel()
	return r.Object.Close()
}

// Stat returns an object's size and content type.
func (s *S3) Stat(ctx context.Context, key string) (domain.BlobInfo, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	st, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return domain.BlobInfo{}, translate(key, err)
	}
	return domain.BlobInfo{Size: st.Size, ContentType: st.ContentType}, nil
}

// Move copies an object server-side and deletes the original.
func (s *S3) Move(ctx context.Context, from, to string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: to}, minio.CopySrcOptions{Bucket: s.bucket, Object: from})
	if err != nil {
		return translate(from, err)
	}
	return translate(from, s.c.RemoveObject(ctx, s.bucket, from, minio.RemoveObjectOptions{}))
}

// Delete removes an object; a missing one is no error.
func (s *S3) Delete(ctx context.Context, key string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err := translate(key, s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}))
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	return err
}

// Ping checks the bucket answers.
func (s *S3) Ping(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err == nil && !ok {
		err = fmt.Errorf("bucket %s is missing", s.bucket)
	}
	if err != nil {
		return fmt.Errorf("photo store: %w", err)
	}
	return nil
}

// PresignPut signs one PUT of key that must carry the content type.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, map[string]string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	u, err := s.c.PresignHeader(ctx, http.MethodPut, s.bucket, key, ttl, nil, http.Header{"Content-Type": {contentType}})
	if err != nil {
		return "", nil, fmt.Errorf("photo store: presign put: %w", err)
	}
	return u.String(), map[string]string{"Content-Type": contentType}, nil
}

// PresignPost makes a form upload whose policy pins the key, the content
// type and the size range.
func (s *S3) PresignPost(ctx context.Context, key, contentType string, minSize, maxSize int64, ttl time.Duration) (string, map[string]string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	p := minio.NewPostPolicy()
	for _, err := range []error{p.SetBucket(s.bucket), p.SetKey(key), p.SetExpires(time.Now().UTC().Add(ttl)),
		p.SetContentType(contentType), p.SetContentLengthRange(minSize, maxSize)} {
		if err != nil {
			return "", nil, fmt.Errorf("photo store: post policy: %w", err)
		}
	}
	u, fields, err := s.c.PresignedPostPolicy(ctx, p)
	if err != nil {
		return "", nil, fmt.Errorf("photo store: presign post: %w", err)
	}
	return u.String(), fields, nil
}

// PresignGet signs a GET of key answered with the content type.
func (s *S3) PresignGet(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	q := url.Values{}
	q.Set("response-content-type", contentType)
	u, err := s.c.PresignedGetObject(ctx, s.bucket, key, ttl, q)
	if err != nil {
		return "", fmt.Errorf("photo store: presign get: %w", err)
	}
	return u.String(), nil
}
