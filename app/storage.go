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
	"sync"
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
var ErrFileUnavailable = models.New(models.CodeNotFound, "err.file.missing", "The file is not available on this server. Contact support.")

// ErrStorageUnavailable answers for a file that the storage has but cannot
// read now (the storage directory is gone or unreadable, or the file is).
var ErrStorageUnavailable = models.New(models.CodeUnavailable, "err.file.unreadable",
	"The file cannot be read on this server at the moment. Try again later; if this goes on, contact support.")

// DirStorage is a Storage on a local directory. Paths are resolved through
// an os.Root, so no path (with "..", an absolute path or a symbolic link
// pointing outside) can reach a file outside the directory.
//
// The directory is reopened when the path names another directory than
// the one open (it was replaced, say by renaming a new one into place) and
// when opening a file in it fails other than by the file's absence.
type DirStorage struct {
	dir string

	mu   sync.RWMutex // guards root and info; held for reading while a file opens
	root *os.Root
	info fs.FileInfo // of the directory root was opened on
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
	s := &DirStorage{dir: dir}
	if err := s.reopen(nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the directory the storage serves.
func (s *DirStorage) Dir() string { return s.dir }

// Close releases the directory.
func (s *DirStorage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		return nil
	}
	err := s.root.Close()
	s.root, s.info = nil, nil
	return err
}

// reopen opens the directory again unless the one open is no longer stale:
// stale is the root found stale by the caller (nil: whatever is open).
func (s *DirStorage) reopen(stale *os.Root) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stale != nil && s.root != stale {
		return nil // another caller reopened it meanwhile
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", s.dir, err)
	}
	info, err := root.Stat(".")
	if err != nil {
		_ = root.Close()
		return fmt.Errorf("storage: stat %s: %w", s.dir, err)
	}
	if s.root != nil {
		_ = s.root.Close() // files opened through it stay open
	}
	s.root, s.info = root, info
	return nil
}

// current returns the open root, after reopening the directory if its path
// now names another directory.
func (s *DirStorage) current() (*os.Root, error) {
	st, err := os.Stat(s.dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w: %w", ErrStorageUnavailable, err)
	}
	s.mu.RLock()
	root, same := s.root, s.root != nil && os.SameFile(st, s.info)
	s.mu.RUnlock()
	if same {
		return root, nil
	}
	if err := s.reopen(root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.root, nil
}

// Open opens a regular file under the directory. A file that exists but
// cannot be read is ErrStorageUnavailable, after one more try on the
// directory reopened.
func (s *DirStorage) Open(_ context.Context, p string) (StoredFile, error) {
	if p == "" || strings.ContainsRune(p, 0) || strings.Contains(p, `\`) || path.IsAbs(p) || !fs.ValidPath(p) {
		return nil, ErrFileUnavailable
	}
	root, err := s.current()
	if err != nil {
		return nil, err
	}
	f, err := s.openIn(root, p)
	if err == nil || errors.Is(err, ErrFileUnavailable) {
		return f, err
	}
	if rerr := s.reopen(root); rerr != nil {
		return nil, fmt.Errorf("%w: %w (%w)", ErrStorageUnavailable, err, rerr)
	}
	if root, err = s.current(); err != nil {
		return nil, err
	}
	if f, err = s.openIn(root, p); err != nil && !errors.Is(err, ErrFileUnavailable) {
		return nil, fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
	}
	return f, err
}

// openIn opens p under root, holding the lock so that root is not closed
// meanwhile.
func (s *DirStorage) openIn(root *os.Root, p string) (StoredFile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if root != s.root {
		return nil, fmt.Errorf("storage: %s was reopened", s.dir)
	}
	f, err := root.Open(p)
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
