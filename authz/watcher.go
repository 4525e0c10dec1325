package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openlsc/openlsc/models"
)

// Journal timings.
const (
	defaultPollInterval = 250 * time.Millisecond
	// journalKeep is how long journal entries are kept. An instance that
	// could not read the journal for half of it reloads everything instead.
	journalKeep = time.Hour
	pruneEvery  = 10 * time.Minute
	// journalBatch bounds the entries read at once.
	journalBatch = 1000
)

// Change names what committed changes from other instances touched, as
// applied by one pass over the journal.
type Change struct {
	Users      []int64
	Agreements []int64
	Reload     bool // everything was re-read
}

// AnnounceAgreements journals that agreements were added or moved between
// MBSAs outside an import (an import journals its changes itself), so that
// every running instance re-reads their parents.
func AnnounceAgreements(ctx context.Context, store *models.Store, agreements []int64) error {
	if len(agreements) == 0 {
		return nil
	}
	return store.JournalAuthzChange(ctx, models.AuthzChange{Origin: "announce", Agreements: agreements})
}

func newOrigin() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// follower applies the change journal: every poll interval, and at once
// when the PostgreSQL listener hears of a commit.
type follower struct {
	a        *Authorizer
	poll     time.Duration
	cursor   int64     // the last journal entry applied
	lastRead time.Time // when the journal was last read successfully
	wake     chan struct{}
	listener *models.AuthzListener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// start runs the follower, and its listener, until stop.
func (f *follower) start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if f.listener != nil {
		f.wg.Go(func() {
			f.listener.Run(ctx, f.kick, func(err error) {
				f.a.logger.Warn("authz: journal listener disconnected; reconnecting", slog.Any("error", err))
			})
		})
	}
	f.wg.Go(func() { f.run(ctx) })
}

// stop ends the follower and waits for it.
func (f *follower) stop() {
	f.cancel()
	f.wg.Wait()
}

// kick makes the follower read the journal now. It never blocks.
func (f *follower) kick() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// run reads the journal until ctx ends or the store is closed.
func (f *follower) run(ctx context.Context) {
	timer := time.NewTimer(f.poll)
	defer timer.Stop()
	lastPrune := time.Now()
	for {
		err := f.catchUp(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && strings.Contains(err.Error(), "database is closed"):
			return
		case err != nil:
			f.a.logger.Error("authz: read the change journal", slog.Any("error", err))
		}
		if time.Since(lastPrune) > pruneEvery {
			lastPrune = time.Now()
			if _, err := f.a.store.PruneAuthzChanges(ctx, f.a.store.Now().Add(-journalKeep)); err != nil {
				f.a.logger.Warn("authz: prune the change journal", slog.Any("error", err))
			}
		}
		timer.Reset(f.poll)
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-timer.C:
		}
	}
}

// catchUp applies the journal entries after the cursor that other
// instances wrote. After a long outage, when entries may have been pruned,
// it reloads everything instead.
func (f *follower) catchUp(ctx context.Context) error {
	a := f.a
	if time.Since(f.lastRead) > journalKeep/2 {
		last, err := a.store.LastAuthzChange(ctx)
		if err != nil {
			return err
		}
		err = a.Reload(ctx)
		a.applied(Change{Reload: true}, err)
		if err != nil {
			return err
		}
		f.cursor, f.lastRead = last, time.Now()
	}
	for {
		entries, err := a.store.AuthzChangesAfter(ctx, f.cursor, journalBatch)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			f.lastRead = time.Now()
			return nil
		}
		c := merge(entries, a.origin)
		if len(c.Users) > 0 || len(c.Agreements) > 0 || c.Reload {
			err = a.apply(ctx, c)
			a.applied(c, err)
			if err != nil {
				// Start afresh: the entries are not lost, the cursor stays.
				f.lastRead = time.Time{}
				return err
			}
		}
		f.cursor = entries[len(entries)-1].ID
	}
}

// merge folds journal entries into one Change, leaving out those of origin
// (applied on commit already).
func merge(entries []models.AuthzChange, origin string) Change {
	var c Change
	for _, e := range entries {
		if e.Origin == origin {
			continue
		}
		c.Users = append(c.Users, e.Users...)
		c.Agreements = append(c.Agreements, e.Agreements...)
		c.Reload = c.Reload || e.Reload
	}
	slices.Sort(c.Users)
	c.Users = slices.Compact(c.Users)
	slices.Sort(c.Agreements)
	c.Agreements = slices.Compact(c.Agreements)
	return c
}

// apply re-reads what c names.
func (a *Authorizer) apply(ctx context.Context, c Change) error {
	if c.Reload {
		return a.Reload(ctx)
	}
	if len(c.Agreements) > 0 {
		if err := a.syncParents(ctx, c.Agreements); err != nil {
			return err
		}
	}
	if len(c.Users) > 0 {
		return a.syncUsers(ctx, c.Users)
	}
	return nil
}

func (a *Authorizer) applied(c Change, err error) {
	if a.onApply != nil {
		a.onApply(c, err)
	}
}

// Close stops following the change journal.
func (a *Authorizer) Close() error {
	if a.follower != nil {
		a.follower.stop()
	}
	return nil
}

var errNoListen = errors.New("authz: ListenURL is set but the store is not PostgreSQL")
