package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultPresignTTL is how long a presigned object-storage URL works when
// the storage URL names no lifetime.
const DefaultPresignTTL = 5 * time.Minute

// Redirector is a Storage that can send a client to the file in the store
// itself, by a short-lived URL of its own, instead of the server streaming
// the bytes. ok is false when the storage streams (it was configured so).
type Redirector interface {
	RedirectURL(ctx context.Context, path, filename string) (u string, ok bool, err error)
}

// S3Options configure an S3Storage.
type S3Options struct {
	Bucket string
	Prefix string // prepended to every file path, without a leading slash; "" or ends with "/"
	// Endpoint is host[:port] of the S3-compatible service (s3.amazonaws.com when empty).
	Endpoint string
	Secure   bool   // HTTPS to the endpoint
	Region   string // us-east-1 when empty
	// PathStyle addresses the bucket in the path (http://host/bucket/key),
	// as most S3-compatible servers want; otherwise as the service prefers.
	PathStyle bool
	// Stream makes OpenLSC stream the bytes itself instead of redirecting
	// to presigned URLs.
	Stream bool
	// PresignTTL is the lifetime of a presigned URL (DefaultPresignTTL when 0 or less).
	PresignTTL time.Duration
	// Credentials; nil reads them from the usual environment variables
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or
	// MINIO_ROOT_USER/MINIO_ROOT_PASSWORD), then ~/.aws/credentials, then
	// the instance's IAM role.
	Credentials *credentials.Credentials
	// Transport for the requests to the store (http.DefaultTransport's
	// kind when nil).
	Transport http.RoundTripper
}

// ParseS3URL reads OPENLSC_STORAGE_URL's form:
//
//	s3://bucket/prefix?endpoint=http://host:9000&region=eu-west-1&mode=redirect&presign=5m&path_style=true
//
// endpoint is host[:port] (HTTPS) or a URL whose scheme chooses; mode is
// redirect (the default: /dl answers 302 to a presigned URL) or stream;
// path_style defaults to true when an endpoint is given.
func ParseS3URL(raw string) (S3Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return S3Options{}, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return S3Options{}, errors.New("use s3://bucket/prefix?endpoint=…&region=…")
	}
	q := u.Query()
	o := S3Options{Bucket: u.Host, Region: q.Get("region"), Secure: true}
	if p := strings.Trim(u.Path, "/"); p != "" {
		o.Prefix = p + "/"
	}
	if ep := q.Get("endpoint"); ep != "" {
		o.PathStyle = true
		if e, err := url.Parse(ep); err == nil && (e.Scheme == "http" || e.Scheme == "https") {
			o.Endpoint, o.Secure = e.Host, e.Scheme == "https"
		} else {
			o.Endpoint = ep
		}
	}
	switch m := q.Get("mode"); m {
	case "", "redirect":
	case "stream":
		o.Stream = true
	default:
		return S3Options{}, fmt.Errorf("mode=%q: use redirect or stream", m)
	}
	if v := q.Get("presign"); v != "" {
		if o.PresignTTL, err = time.ParseDuration(v); err != nil || o.PresignTTL <= 0 || o.PresignTTL > 7*24*time.Hour {
			return S3Options{}, fmt.Errorf("presign=%q: use a duration such as 5m (at most 168h)", v)
		}
	}
	if v := q.Get("path_style"); v != "" {
		if o.PathStyle, err = strconv.ParseBool(v); err != nil {
			return S3Options{}, fmt.Errorf("path_style=%q: use true or false", v)
		}
	}
	return o, nil
}

// S3Storage is a Storage on a bucket of an S3-compatible object store.
// Open asks the store for the object's size and time, then reads by ranged
// GETs, so http.ServeContent serves ranges and resumes. Unless configured
// to stream, it is also a Redirector: downloads go to presigned URLs.
type S3Storage struct {
	client *minio.Client
	opts   S3Options
}

var (
	_ Storage    = (*S3Storage)(nil)
	_ Redirector = (*S3Storage)(nil)
)

// NewS3Storage returns the storage on opts' bucket. It does not contact
// the store: Ping does.
func NewS3Storage(opts S3Options) (*S3Storage, error) {
	if opts.Bucket == "" {
		return nil, errors.New("storage: no bucket given")
	}
	if opts.Endpoint == "" {
		opts.Endpoint = "s3.amazonaws.com"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1" // a known region spares a location request per presign
	}
	if opts.PresignTTL <= 0 {
		opts.PresignTTL = DefaultPresignTTL
	}
	creds := opts.Credentials
	if creds == nil {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if opts.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(opts.Endpoint, &minio.Options{
		Creds: creds, Secure: opts.Secure, Region: opts.Region, BucketLookup: lookup, Transport: opts.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &S3Storage{client: c, opts: opts}, nil
}

// Ping checks that the bucket can be reached.
func (s *S3Storage) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.opts.Bucket)
	if err != nil {
		return fmt.Errorf("storage: bucket %s: %w", s.opts.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("storage: bucket %s does not exist", s.opts.Bucket)
	}
	return nil
}

// key returns the object key of a file path, or false for a path that is
// not clean and relative.
func (s *S3Storage) key(p string) (string, bool) {
	if p == "" || strings.ContainsRune(p, 0) || strings.Contains(p, `\`) || path.IsAbs(p) || !fs.ValidPath(p) {
		return "", false
	}
	return s.opts.Prefix + p, true
}

// storeError maps an error of the store: a missing object is
// ErrFileUnavailable, anything else ErrStorageUnavailable.
func storeError(p string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound", minio.NoSuchBucket:
		return ErrFileUnavailable
	}
	return fmt.Errorf("%w: storage: %s: %w", ErrStorageUnavailable, p, err)
}

// Open asks the store for the object's size, time and version, and returns
// a file that reads it by ranged GETs bound to that version.
func (s *S3Storage) Open(ctx context.Context, p string) (StoredFile, error) {
	key, ok := s.key(p)
	if !ok {
		return nil, ErrFileUnavailable
	}
	st, err := s.client.StatObject(ctx, s.opts.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, storeError(p, err)
	}
	return &s3File{ctx: ctx, core: minio.Core{Client: s.client}, bucket: s.opts.Bucket, key: key,
		etag: st.ETag, size: st.Size, mod: st.LastModified}, nil
}

// RedirectURL presigns a GET of the file that names it filename when
// saved, unless the storage streams. The object's existence is not
// checked: a missing one is the store's 404.
func (s *S3Storage) RedirectURL(ctx context.Context, p, filename string) (string, bool, error) {
	if s.opts.Stream {
		return "", false, nil
	}
	key, ok := s.key(p)
	if !ok {
		return "", false, ErrFileUnavailable
	}
	params := url.Values{}
	params.Set("response-content-disposition", contentDisposition(filename))
	params.Set("response-content-type", "application/octet-stream")
	params.Set("response-cache-control", "private, no-store")
	u, err := s.client.PresignedGetObject(ctx, s.opts.Bucket, key, s.opts.PresignTTL, params)
	if err != nil {
		return "", false, fmt.Errorf("%w: storage: presign %s: %w", ErrStorageUnavailable, p, err)
	}
	return u.String(), true, nil
}

// contentDisposition makes an attachment header with an ASCII fallback
// name and the exact name in RFC 5987 form.
func contentDisposition(name string) string {
	ascii := []byte(name)
	for i, b := range ascii {
		if b < 0x20 || b >= 0x7f || b == '"' || b == '\\' {
			ascii[i] = '_'
		}
	}
	return `attachment; filename="` + string(ascii) + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// s3File reads an object from its offset by one open-ended ranged GET,
// opened on the first Read after a Seek. Every GET must match the ETag
// the object had when opened, so a file replaced meanwhile fails instead
// of mixing two versions.
type s3File struct {
	ctx         context.Context
	core        minio.Core
	bucket, key string
	etag        string
	size, off   int64
	mod         time.Time
	body        io.ReadCloser // reading from off; nil until the next Read
}

func (f *s3File) Size() int64        { return f.size }
func (f *s3File) ModTime() time.Time { return f.mod }

func (f *s3File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return 0, errors.New("storage: seek before the start")
	}
	if f.body != nil && offset != f.off {
		_ = f.body.Close()
		f.body = nil
	}
	f.off = offset
	return offset, nil
}

func (f *s3File) Read(b []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	if f.body == nil {
		o := minio.GetObjectOptions{}
		if err := o.SetMatchETag(f.etag); err != nil {
			return 0, err
		}
		if f.off > 0 {
			if err := o.SetRange(f.off, 0); err != nil {
				return 0, err
			}
		}
		body, _, _, err := f.core.GetObject(f.ctx, f.bucket, f.key, o)
		if err != nil {
			return 0, storeError(f.key, err)
		}
		f.body = body
	}
	n, err := f.body.Read(b)
	f.off += int64(n)
	if err == io.EOF && f.off < f.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *s3File) Close() error {
	if f.body == nil {
		return nil
	}
	err := f.body.Close()
	f.body = nil
	return err
}
