package app_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// writeStorageFile writes content to dir/p, creating its directories.
func writeStorageFile(t *testing.T, dir, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readStored opens p in s and reads it whole.
func readStored(t *testing.T, s app.Storage, p string) (string, error) {
	t.Helper()
	f, err := s.Open(context.Background(), p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

// TestDirStorageReplaced replaces the storage directory (a new one renamed
// into place, the old one removed) while the storage is open: the new
// directory's files are served, without a restart.
func TestDirStorageReplaced(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "files")
	writeStorageFile(t, dir, "p/1/en.iso", "old")
	s, err := app.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := readStored(t, s, "p/1/en.iso"); err != nil || got != "old" {
		t.Fatalf("before: %q %v", got, err)
	}
	held, err := s.Open(context.Background(), "p/1/en.iso") // a download under way
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	next := filepath.Join(base, "files.new")
	writeStorageFile(t, next, "p/1/en.iso", "new")
	writeStorageFile(t, next, "p/2/en.iso", "added")
	if err := os.Rename(dir, filepath.Join(base, "files.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, dir); err != nil {
		t.Fatal(err)
	}
	if got, err := readStored(t, s, "p/1/en.iso"); err != nil || got != "new" {
		t.Errorf("replaced file: %q %v, want the new content", got, err)
	}
	if err := os.RemoveAll(filepath.Join(base, "files.old")); err != nil {
		t.Fatal(err)
	}
	if got, err := readStored(t, s, "p/2/en.iso"); err != nil || got != "added" {
		t.Errorf("added file: %q %v", got, err)
	}
	if b, err := io.ReadAll(held); err != nil || string(b) != "old" {
		t.Errorf("download under way: %q %v", b, err)
	}

	// The directory gone: unavailable, not missing; back: served again.
	if err := os.Rename(dir, filepath.Join(base, "away")); err != nil {
		t.Fatal(err)
	}
	if _, err := readStored(t, s, "p/1/en.iso"); !errors.Is(err, app.ErrStorageUnavailable) || models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("directory gone: %v, want ErrStorageUnavailable", err)
	}
	if err := os.Rename(filepath.Join(base, "away"), dir); err != nil {
		t.Fatal(err)
	}
	if got, err := readStored(t, s, "p/1/en.iso"); err != nil || got != "new" {
		t.Errorf("directory back: %q %v", got, err)
	}
}

// TestDirStorageUnreadable opens a file that exists but cannot be read (a
// symbolic link loop: tests run as root, whom file modes do not stop): it
// is ErrStorageUnavailable, not a missing file nor a bare internal error.
func TestDirStorageUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeStorageFile(t, dir, "p/1/en.iso", "ok")
	s, err := app.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Symlink("b.iso", filepath.Join(dir, "p", "1", "a.iso")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.iso", filepath.Join(dir, "p", "1", "b.iso")); err != nil {
		t.Fatal(err)
	}
	_, err = readStored(t, s, "p/1/a.iso")
	if !errors.Is(err, app.ErrStorageUnavailable) || models.ErrorCode(err) != models.CodeUnavailable ||
		models.ErrorMessage(err) != app.ErrStorageUnavailable.Message {
		t.Errorf("unreadable file: %v", err)
	}
	if got, err := readStored(t, s, "p/1/en.iso"); err != nil || got != "ok" {
		t.Errorf("a readable file after: %q %v", got, err)
	}
}
