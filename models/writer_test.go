package models_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestSQLiteWriterQueue: while another store on the same file (as the
// command-line import would be) holds the write lock, reads answer at once
// and a write answers CodeUnavailable once its wait is over; writes of one
// store queue for its one writer instead of failing with "database is
// locked"; and once the lock is free, writes work again.
func TestSQLiteWriterQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "openlsc.db")
	server := modelstest.Open(t, path, models.Options{Keyring: modelstest.Keyring(t), WriteWait: 200 * time.Millisecond})
	importer := modelstest.Open(t, path, models.Options{Keyring: modelstest.Keyring(t)})
	session := func(i int) *models.Session {
		now := time.Now().UTC()
		return &models.Session{IDHash: fmt.Sprint("session-", i), Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	}

	// Sixteen writers at once all get their turn.
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() { errs[i] = server.CreateSession(ctx, session(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}

	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- importer.InTx(ctx, func(tx *models.Tx) error {
			if err := tx.DB().Exec("DELETE FROM sessions WHERE id_hash = 'session-0'").Error; err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	if _, _, err := server.Session(ctx, "session-1"); err != nil {
		t.Errorf("a read while another process writes: %v", err)
	}
	if err := server.CreateSession(ctx, session(100)); models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("a write while another process holds the lock: %v, want unavailable", err)
	}
	if err := server.TouchSession(ctx, "session-1", time.Now().UTC()); models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("a touch while another process holds the lock: %v, want unavailable", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := server.CreateSession(ctx, session(100)); err != nil {
		t.Errorf("a write after the lock is free: %v", err)
	}
	if _, _, err := server.Session(ctx, "session-0"); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("the other process's write is not seen: %v", err)
	}
}
