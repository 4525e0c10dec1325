package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/openlsc/openlsc/models"
)

// Storage holds the bytes of the catalog's files, by the relative path a
// product file row names (models.ProductFile.Path).
//
// DirStorage keeps them in a local directory (OPENLSC_STORAGE_DIR). The
// interface is deliberately small so that an S3-compatible object store
// can be added beside it: Open would issue a HEAD for the size and time and
// return a StoredFile whose Seek only records the offset and whose Read
// issues ranged GETs (or a store could answer Downloads with presigned
// URLs of its own). Whatever the backend, a file that is not there must be
// answered with ErrFileUnavailable, never with an internal error.
type Storage interface {
	// Open opens the file at path (slash-separated, relative to the
	// storage's root). A missing file, or a path that leaves the root, is
	// ErrFileUnavailable.
	Open(ctx context.Context, path string) (StoredFile, error)
}

// StoredFile is an open file of a Storage. http.ServeContent serves it,
// Range requests included.
type StoredFile interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// ErrFileUnavailable answers for a catalog file whose bytes this server
// does not have.
var ErrFileUnavailable = models.Errorf(models.CodeNotFound, "The file is not available on this server. Contact support.")

// DirStorage is a Storage on a local directory. Paths are resolved through
// an os.Root, so no path (with "..", an absolute path or a symbolic link
// pointing outside) can reach a file outside the directory.
type DirStorage struct {
	dir  string
	root *os.Root
}

var _ Storage = (*DirStorage)(nil)

// NewDirStorage opens dir, creating it when missing.
func NewDirStorage(dir string) (*DirStorage, error) {
	if dir == "" {
		return nil, errors.New("storage: no directory given")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	return &DirStorage{dir: dir, root: root}, nil
}

// Dir returns the directory the storage serves.
func (s *DirStorage) Dir() string { return s.dir }

// Close releases the directory.
func (s *DirStorage) Close() error { return s.root.Close() }

// Open opens a regular file under the directory.
func (s *DirStorage) Open(_ context.Context, p string) (StoredFile, error) {
	if p == "" || strings.ContainsRune(p, 0) || strings.Contains(p, `\`) || path.IsAbs(p) || !fs.ValidPath(p) {
		return nil, ErrFileUnavailable
	}
	f, err := s.root.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isEscape(err) {
			return nil, ErrFileUnavailable
		}
		return nil, fmt.Errorf("storage: open %s: %w", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("storage: stat %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, ErrFileUnavailable
	}
	return &dirFile{File: f, size: st.Size(), mod: st.ModTime()}, nil
}

// isEscape reports whether err is os.Root refusing a path that leaves it.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

type dirFile struct {
	*os.File
	size int64
	mod  time.Time
}

func (f *dirFile) Size() int64        { return f.size }
func (f *dirFile) ModTime() time.Time { return f.mod }
