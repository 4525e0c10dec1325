package api_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/models"
)

// TestActivationRepeatRacesBlockAndRelease: known installations activate
// again (the lock-free repeat path) while an operator blocks the key and
// an administrator releases one installation, in every round: no request
// that started after the block committed gets a certificate, the count
// never passes the limit, the release frees exactly one activation, and
// every activation used is an installation.
func TestActivationRepeatRacesBlockAndRelease(t *testing.T) {
	const rounds, known, workers, tries = 50, 8, 16, 3
	var keys []models.ImportKey
	for r := range rounds {
		keys = append(keys, models.ImportKey{Agreement: "V1", Product: "win-ent", Type: "mak",
			Key: fmt.Sprintf("REPT%d-BBBBB-CCCCC-DDDDD-%05d", r, r), ActivationLimit: i64p(10), ActivationsUsed: i64p(2)})
	}
	env := newActivationEnv(t, keys, nil)
	for r := range rounds {
		key := keys[r].Key
		for m := range known {
			if _, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+m, 0)); err != nil {
				t.Fatal(err)
			}
		}
		// The key is used up now: a known machine still activates, a new
		// one is refused.
		if _, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+1, 0)); err != nil {
			t.Fatalf("round %d: a repeat on a used-up key: %v", r, err)
		}
		if _, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+known, 0)); refusal(t, err) != activation.CodeLimitReached {
			t.Fatalf("round %d: a new machine on a used-up key: %v", r, err)
		}
		k := env.key(t, key)
		insts, err := env.store.InstallationsOf(env.ctx, k.ID)
		if err != nil || len(insts) != known {
			t.Fatalf("round %d: installations %v %v", r, insts, err)
		}
		var blocked atomic.Bool
		var late atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				<-start
				for range tries {
					after := blocked.Load()
					_, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+w%known, 0))
					var e *activation.Error
					switch {
					case err == nil && after:
						late.Add(1)
					case err == nil, errors.As(err, &e) && (e.Code == activation.CodeKeyBlocked || e.Code == activation.CodeLimitReached):
					default:
						t.Errorf("round %d: %v", r, err)
					}
				}
			})
		}
		var released *models.Installation
		wg.Go(func() {
			<-start
			err := env.store.InTx(env.ctx, func(tx *models.Tx) (err error) {
				released, err = tx.ReleaseInstallation(k.ID, insts[0].ID)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			<-start
			err := env.store.InTx(env.ctx, func(tx *models.Tx) error {
				_, err := tx.SetKeyStatus(k.ID, models.KeyActive, models.KeyBlocked, models.BlockLeaked, "race")
				return err
			})
			if err != nil {
				t.Error(err)
			}
			blocked.Store(true)
		})
		close(start)
		wg.Wait()
		if n := late.Load(); n != 0 {
			t.Fatalf("round %d: %d certificates for requests that started after the block", r, n)
		}
		if released == nil {
			t.Fatalf("round %d: the release freed nothing", r)
		}
		after, err := env.store.InstallationsOf(env.ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The released machine may have activated again (as a new
		// installation, using the activation the release freed) before
		// the block.
		for _, in := range after {
			if in.ID == released.ID {
				t.Fatalf("round %d: the released installation is still there", r)
			}
		}
		used := env.used(t, key)
		if used > 10 || used != 2+int64(len(after)) || len(after) < known-1 || len(after) > known {
			t.Fatalf("round %d: used %d with %d installations", r, used, len(after))
		}
		if _, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+1, 0)); refusal(t, err) != activation.CodeKeyBlocked {
			t.Fatalf("round %d: a repeat after the block: %v", r, err)
		}
	}
}

// TestActivationRefusedRacesRelease: new machines activate a MAK with no
// activation left (the lock-free refusal) while an administrator releases
// one installation, in every round: at most one new machine gets the
// freed activation, exactly one when a request started after the release
// committed, and the count never passes the limit.
func TestActivationRefusedRacesRelease(t *testing.T) {
	const rounds, workers, tries = 50, 16, 3
	var keys []models.ImportKey
	for r := range rounds {
		keys = append(keys, models.ImportKey{Agreement: "V1", Product: "win-ent", Type: "mak",
			Key: fmt.Sprintf("FULL%d-BBBBB-CCCCC-DDDDD-%05d", r, r), ActivationLimit: i64p(3), ActivationsUsed: i64p(2)})
	}
	env := newActivationEnv(t, keys, nil)
	for r := range rounds {
		key := keys[r].Key
		if _, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r, 0)); err != nil {
			t.Fatal(err)
		}
		k := env.key(t, key)
		insts, err := env.store.InstallationsOf(env.ctx, k.ID)
		if err != nil || len(insts) != 1 {
			t.Fatalf("round %d: installations %v %v", r, insts, err)
		}
		var releasedBefore, won atomic.Int64
		var released atomic.Bool
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range tries {
					if released.Load() {
						releasedBefore.Add(1)
					}
					_, err := env.client.Activate(env.ctx, key, "win-ent", machine(1000*r+1+w*tries+i, 0))
					if err == nil {
						won.Add(1)
					} else if refusal(t, err) != activation.CodeLimitReached {
						t.Errorf("round %d: %v", r, err)
					}
				}
			})
		}
		wg.Go(func() {
			<-start
			err := env.store.InTx(env.ctx, func(tx *models.Tx) error {
				_, err := tx.ReleaseInstallation(k.ID, insts[0].ID)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			released.Store(true)
		})
		close(start)
		wg.Wait()
		n := won.Load()
		if n > 1 || (releasedBefore.Load() > 0 && n != 1) {
			t.Fatalf("round %d: %d new machines activated (%d requests after the release)", r, n, releasedBefore.Load())
		}
		if used := env.used(t, key); used != 2+n {
			t.Fatalf("round %d: used %d after %d new activations", r, used, n)
		}
	}
}

// TestRepeatActivationChecksKey: the lock-free repeat UPDATE itself reads
// the key's status (a block committed between the key's read and the
// UPDATE refuses), and matches only the installation unchanged, from its
// network, within the window, and not released.
func TestRepeatActivationChecksKey(t *testing.T) {
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(10), ActivationsUsed: i64p(0)},
	}, nil)
	if _, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(1, 0)); err != nil {
		t.Fatal(err)
	}
	k := env.key(t, actMAK)
	insts, err := env.store.InstallationsOf(env.ctx, k.ID)
	if err != nil || len(insts) != 1 {
		t.Fatalf("installations %v %v", insts, err)
	}
	in := insts[0]
	inTx := func(f func(tx *models.Tx) error) {
		t.Helper()
		if err := env.store.InTx(env.ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	repeat := func(components, network string, since time.Time) (ok bool) {
		t.Helper()
		inTx(func(tx *models.Tx) (err error) {
			ok, err = tx.RepeatActivation(k.ID, in.Identity, components, network, since)
			return err
		})
		return ok
	}
	setStatus := func(from, to models.KeyStatus) {
		t.Helper()
		inTx(func(tx *models.Tx) error {
			_, err := tx.SetKeyStatus(k.ID, from, to, models.BlockLeaked, "test")
			return err
		})
	}
	hour := time.Now().Add(-time.Hour)
	if !repeat(in.Components, in.Network, hour) {
		t.Fatal("a known installation did not repeat")
	}
	for name, ok := range map[string]bool{
		"changed components": repeat(in.Components+" ff", in.Network, hour),
		"another network":    repeat(in.Components, "198.51.100.0/24", hour),
		"outside the window": repeat(in.Components, in.Network, time.Now().Add(time.Hour)),
	} {
		if ok {
			t.Errorf("%s repeated", name)
		}
	}
	setStatus(models.KeyActive, models.KeyBlocked)
	if repeat(in.Components, in.Network, hour) {
		t.Error("a blocked key repeated")
	}
	setStatus(models.KeyBlocked, models.KeyActive)
	if !repeat(in.Components, in.Network, hour) {
		t.Error("a reactivated key did not repeat")
	}
	inTx(func(tx *models.Tx) error {
		_, err := tx.ReleaseInstallation(k.ID, in.ID)
		return err
	})
	if repeat(in.Components, in.Network, hour) {
		t.Error("a released installation repeated")
	}
}
