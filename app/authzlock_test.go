package app

import (
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestApplyContactChangesReadsUnderTheAuthzLock: while another transaction
// holds the authorization lock and has revoked a contact grant, applying a
// contact change for that grant must wait and then decide on the revoked
// state. Read before the lock, it would see the grant still there, change
// nothing, and leave a contact without the access its role gives.
// PostgreSQL only: on SQLite every writer holds the database's write lock.
func TestApplyContactChangesReadsUnderTheAuthzLock(t *testing.T) {
	f := newRaceFixture(t)
	if f.store.Dialect() != models.DialectPostgres {
		t.Skip("the authorization lock is PostgreSQL's; SQLite serialises writers")
	}
	for round := range 5 {
		email := "notices" + string(rune('a'+round)) + "@contoso.example"
		res, err := f.store.Import(f.ctx, &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "enterprise",
			Number: "N" + string(rune('A'+round)), Organization: "C1",
			Contacts: []models.ImportContact{{Email: email, Role: string(models.ContactNotices)}}}}}, models.ImportOptions{Actor: system})
		if err != nil {
			t.Fatal(err)
		}
		lic := res.ChangedAgreements[0]
		user := f.verified(email)
		if n := modelstest.Count(t, f.store, models.Grant{UserID: user, AgreementID: &lic, Source: models.SourceContact}); n != 1 {
			t.Fatalf("round %d: %d contact grants after confirming, want 1", round, n)
		}

		revoked, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			held <- f.store.InTx(f.ctx, func(tx *models.Tx) error {
				if err := f.az.Revoke(tx, system, user, &lic, models.PermLicenseViewer, models.SourceContact); err != nil {
					return err
				}
				close(revoked)
				<-release
				return nil
			})
		}()
		<-revoked
		applied := make(chan error, 1)
		go func() {
			applied <- f.store.InTx(f.ctx, func(tx *models.Tx) error {
				return f.acc.ApplyContactChanges(tx, []models.ContactChange{{AgreementID: lic, Email: email, Role: models.ContactNotices, Added: true}})
			})
		}()
		// Let the holder commit once the change has either finished (read
		// outside the lock) or is waiting for the lock.
		var early error
		finished := false
		for !finished && modelstest.LockWaiters(t, f.store) == 0 {
			select {
			case early = <-applied:
				finished = true
			case <-time.After(5 * time.Millisecond):
			}
		}
		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		if !finished {
			early = <-applied
		}
		if early != nil {
			t.Fatal(early)
		}
		if n := modelstest.Count(t, f.store, models.Grant{UserID: user, AgreementID: &lic, Source: models.SourceContact}); n != 1 {
			t.Errorf("round %d: %d contact grants after applying the contact change, want 1 (finished before the revoke committed: %v)", round, n, finished)
		}
	}
}
