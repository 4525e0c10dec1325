package models_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestSQLiteReadOnlyFile opens a SQLite database whose file cannot be
// written (immutable, which stops root too): reads work, the write probe
// and writes fail with CodeUnavailable, not an internal error.
func TestSQLiteReadOnlyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "openlsc.db")
	s := modelstest.Open(t, path, models.Options{Keyring: modelstest.Keyring(t)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("this test makes the database file immutable (chattr +i, root with CAP_LINUX_IMMUTABLE on a file system that supports it): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })

	s, err := models.Open(ctx, path, models.Options{Keyring: modelstest.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Status(ctx); err != nil {
		t.Errorf("a read: %v", err)
	}
	if err := s.ProbeWrite(ctx); models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("the write probe: %v, want unavailable", err)
	}
	now := time.Now().UTC()
	err = s.CreateSession(ctx, &models.Session{IDHash: "x", Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
	if models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("a write: %v, want unavailable", err)
	}
}
