// Package demo holds the demonstration data set that `openlsc serve --dev`
// loads into an empty database.
//
// The data set is demo.json, an ordinary import document (see
// models.ImportDocument), and the small download files under files/, which
// the document's file paths name relative to that directory. README.md
// describes the data and the personas that use it.
package demo

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/openlsc/openlsc/models"
)

//go:embed demo.json files
var content embed.FS

// actor is the audit actor of the demo import.
var actor = models.Actor{Label: "demo"}

// Document returns the demo import document.
func Document() (*models.ImportDocument, error) {
	f, err := content.Open("demo.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := models.DecodeImport(f)
	if err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	return doc, nil
}

// Files returns the demo download files, rooted so that an import path
// opens directly.
func Files() fs.FS {
	sub, err := fs.Sub(content, "files")
	if err != nil {
		panic(err) // "files" is a valid path and is embedded
	}
	return sub
}

// Load imports the demo data when the store holds no agreement yet, and
// copies the demo files into storageDir, creating directories as needed.
// Files are copied whether or not the import ran, so that a wiped storage
// directory is refilled; an existing file with the same content is left
// alone, and one with different content is an error naming it (it is never
// overwritten). Load reports whether it imported. The import is audited
// with the actor label "demo".
func Load(ctx context.Context, s *models.Store, storageDir string) (bool, error) {
	doc, err := Document()
	if err != nil {
		return false, err
	}
	if err := copyFiles(storageDir); err != nil {
		return false, err
	}
	st, err := s.Status(ctx)
	if err != nil {
		return false, fmt.Errorf("demo data: read the database status: %w", err)
	}
	if !st.Ready() {
		return false, fmt.Errorf("demo data: the database schema is at version %d, not %d; migrate it first",
			st.SchemaVersion, st.SchemaLatest)
	}
	if st.Agreements > 0 {
		return false, nil
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: actor}); err != nil {
		return false, fmt.Errorf("demo data: import: %w", err)
	}
	return true, nil
}

// copyFiles copies the demo download files into storageDir, creating
// directories as needed. Files already there with the same content are
// skipped; a file with different content is an error naming it and is left
// as it is.
func copyFiles(storageDir string) error {
	if storageDir == "" {
		return errors.New("demo data: no storage directory given")
	}
	files := Files()
	return fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		return copyFile(filepath.Join(storageDir, filepath.FromSlash(name)), data)
	})
}

// copyFile writes data to dst unless dst already holds exactly data.
func copyFile(dst string, data []byte) error {
	switch have, err := os.ReadFile(dst); {
	case err == nil && bytes.Equal(have, data):
		return nil
	case err == nil:
		return fmt.Errorf("demo data: %s exists with different content; move it away or remove it", dst)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("demo data: %w", err)
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	// Write a temporary file and rename it, so that a file is either
	// complete or absent.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o640)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("demo data: write %s: %w", dst, err)
	}
	return nil
}
