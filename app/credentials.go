package app

import (
	"slices"
	"sync"
	"time"
)

// Remembering credentials.
const (
	// credentialTTL is how long a server remembers what a credential stood
	// for without asking the database again. A change made through this
	// server (a token revoked, a work email withdrawn) is forgotten at once
	// (models.Store.OnCredentialChange); one made elsewhere, by another
	// server or the command line on the same database, is seen when the
	// memory expires: within a second, as issue 14 asks, with room to spare.
	credentialTTL = 500 * time.Millisecond
	// credentialsRemembered bounds the memory: past it, expired entries are
	// dropped, and if that is not enough, all.
	credentialsRemembered = 10_000
)

// credentialMemory remembers, for credentialTTL, the value read for a
// credential (by its keyed hash) and whose it is. It never runs ahead of
// the database: forget bumps a generation, and a value read before the
// bump is not stored after it, so a read that raced a revocation cannot
// bring the revoked credential back.
type credentialMemory[V any] struct {
	now func() time.Time // monotonic; tests move it

	mu      sync.Mutex
	gen     uint64
	entries map[string]remembered[V]
}

type remembered[V any] struct {
	user  int64
	value V
	until time.Time
}

func newCredentialMemory[V any]() *credentialMemory[V] {
	return &credentialMemory[V]{now: time.Now, entries: map[string]remembered[V]{}}
}

// get returns the value remembered for key while it is fresh, and the
// generation to update it at.
func (m *credentialMemory[V]) get(key string) (value V, gen uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.until) {
		return value, m.gen, false
	}
	return e.value, m.gen, true
}

// put remembers value for key, read at generation gen, unless something
// was forgotten since; so does update, for a value got or put at gen,
// keeping its expiry.
func (m *credentialMemory[V]) put(key string, user int64, value V, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return
	}
	now := m.now()
	if len(m.entries) >= credentialsRemembered {
		for k, e := range m.entries {
			if !now.Before(e.until) {
				delete(m.entries, k)
			}
		}
		if len(m.entries) >= credentialsRemembered {
			clear(m.entries)
		}
	}
	m.entries[key] = remembered[V]{user: user, value: value, until: now.Add(credentialTTL)}
}

func (m *credentialMemory[V]) update(key string, value V, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && gen == m.gen {
		e.value = value
		m.entries[key] = e
	}
}

// forget drops what is remembered for users; for everyone when users is
// nil.
func (m *credentialMemory[V]) forget(users []int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	if users == nil {
		clear(m.entries)
		return
	}
	for k, e := range m.entries {
		if slices.Contains(users, e.user) {
			delete(m.entries, k)
		}
	}
}
