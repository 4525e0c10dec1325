package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestStorageReady(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	check := storageReady(dir)
	if err := check.Check(context.Background()); err == nil {
		t.Error("a missing storage directory is ready")
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := check.Check(context.Background()); err != nil {
		t.Errorf("an empty storage directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.iso"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := check.Check(context.Background()); err != nil {
		t.Errorf("a storage directory with a file: %v", err)
	}
}
