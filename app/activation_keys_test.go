package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// twoProcesses opens two stores on one database, as two servers would,
// with keyMAK imported (a limit no test reaches).
func twoProcesses(t *testing.T) (*models.Store, *models.Store) {
	t.Helper()
	t.Logf("database: %s", modelstest.Name())
	url := modelstest.URL(t)
	s1 := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	s2 := modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)})
	ent := "Enterprise"
	_, err := s1.Import(context.Background(), &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements:    []models.ImportAgreement{{Program: "open_value", Number: "V1", Organization: "C1"}},
		Products:      []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}}},
		Keys:          []models.ImportKey{{Agreement: "V1", Product: "win-ent", Type: "mak", Key: keyMAK, ActivationLimit: i64(1 << 30), ActivationsUsed: i64(0)}},
	}, models.ImportOptions{Actor: models.Actor{Label: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	return s1, s2
}

func activateMAK(ctx context.Context, a *app.Activations, n int) (*activation.Certificate, error) {
	id := activation.NewIdentity(map[string]string{"board": fmt.Sprint("b", n), "disk": fmt.Sprint("d", n), "mac": fmt.Sprint("m", n)})
	return a.Activate(ctx, app.ActivationInput{Request: activation.Request{Key: keyMAK, Product: "win-ent", Components: id}, ClientIP: "192.0.2.1"})
}

// TestSigningKeyFirstStartRace: two processes whose first activations come
// at once make exactly one signing key between them, and sign with it, in
// every round.
func TestSigningKeyFirstStartRace(t *testing.T) {
	const rounds, perProcess = 50, 8
	ctx := context.Background()
	s1, s2 := twoProcesses(t)
	for r := range rounds {
		modelstest.Delete(t, s1, models.ActivationSigningKey{})
		procs := []*app.Activations{app.NewActivations(s1, nil, app.ActivationsOptions{}), app.NewActivations(s2, nil, app.ActivationsOptions{})}
		kids := make(chan string, 2*perProcess)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 2 * perProcess {
			wg.Go(func() {
				<-start
				cert, err := activateMAK(ctx, procs[i%2], i)
				if err != nil {
					t.Errorf("round %d: %v", r, err)
					return
				}
				kids <- cert.KeyID
			})
		}
		close(start)
		wg.Wait()
		close(kids)
		keys := modelstest.Find(t, s1, models.ActivationSigningKey{})
		if len(keys) != 1 {
			t.Fatalf("round %d: %d signing keys", r, len(keys))
		}
		for kid := range kids {
			if kid != keys[0].KID {
				t.Fatalf("round %d: signed with %s, the key is %s", r, kid, keys[0].KID)
			}
		}
	}
}

// TestSigningKeyRotationSeenByOtherProcess: a rotation made by one process
// is used by the other within its KeyRefresh (1 s by default), and every
// certificate signed meanwhile verifies with the published keys.
func TestSigningKeyRotationSeenByOtherProcess(t *testing.T) {
	ctx := context.Background()
	s1, s2 := twoProcesses(t)
	p1, p2 := app.NewActivations(s1, nil, app.ActivationsOptions{}), app.NewActivations(s2, nil, app.ActivationsOptions{})
	first, err := activateMAK(ctx, p1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := activateMAK(ctx, p2, 2); err != nil || c.KeyID != first.KeyID {
		t.Fatalf("the second process signs with %v (%v), not %s", c, err, first.KeyID)
	}
	kid, err := p2.RotateSigningKey(ctx)
	if err != nil || kid == first.KeyID {
		t.Fatalf("rotate: %q %v", kid, err)
	}
	rotated := time.Now()
	certs := []*activation.Certificate{first}
	for {
		c, err := activateMAK(ctx, p1, 1)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
		if c.KeyID == kid {
			break
		}
		if c.KeyID != first.KeyID || time.Since(rotated) > 10*time.Second {
			t.Fatalf("the first process signs with %s %s after the rotation to %s", c.KeyID, time.Since(rotated), kid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the other process signed with the new key %s after the rotation (%d activations)", time.Since(rotated).Round(time.Millisecond), len(certs)-1)
	ks, err := p1.PublicKeys(ctx)
	if err != nil || len(ks.Keys) != 2 || !ks.Keys[1].Current || ks.Keys[1].KeyID != kid {
		t.Fatalf("published keys: %+v %v", ks, err)
	}
	for _, c := range certs {
		if _, err := ks.Verify(c); err != nil {
			t.Errorf("%s: %v", c.KeyID, err)
		}
	}
}
