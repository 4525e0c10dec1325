package main

import (
	"context"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestImportWaitsForTheWriter holds SQLite's write lock from another
// store (as a busy server would) for longer than a web request may wait:
// `openlsc import` keeps waiting and imports once the lock is free.
func TestImportWaitsForTheWriter(t *testing.T) {
	if modelstest.Name() != models.DialectSQLite {
		t.Skip("the writer queue is SQLite's")
	}
	url := modelstest.URL(t)
	vars := map[string]string{"OPENLSC_DATABASE_URL": url, "OPENLSC_SECRET_KEY": modelstest.Secret}
	server := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	held, release, serverDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		serverDone <- server.InTx(context.Background(), func(tx *models.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	imported := make(chan error, 1)
	go func() {
		_, err := runCmd(t, vars, "", "import", "../../testdata/import/valid.json")
		imported <- err
	}()
	// A web request gives up after DefaultWriteWait; the import must not.
	select {
	case err := <-imported:
		close(release)
		t.Fatalf("the import returned while the lock was held: %v", err)
	case <-time.After(models.DefaultWriteWait + time.Second):
	}
	close(release)
	if err := <-serverDone; err != nil {
		t.Fatal(err)
	}
	if err := <-imported; err != nil {
		t.Fatalf("the import after the lock was freed: %v", err)
	}
	if n := modelstest.Count(t, server, models.Agreement{}); n == 0 {
		t.Error("nothing was imported")
	}
}
