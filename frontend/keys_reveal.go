package frontend

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// revealTTL is how long a revealed key waits for the page that shows it.
const revealTTL = 2 * time.Minute

// revealTickets hold revealed product keys between the POST that reveals
// one and the GET it redirects to, so that the browser is not left on a
// POST and the key is never in a URL. A ticket is random, bound to the
// user and licence, shown once, and forgotten after revealTTL. The tickets
// live in this process: behind several instances, the redirect must reach
// the same one (the reveal is audited either way).
type revealTickets struct {
	mu      sync.Mutex
	now     func() time.Time
	tickets map[string]revealTicket
}

type revealTicket struct {
	user, licence int64
	key           revealedKey
	expires       time.Time
}

func newRevealTickets(now func() time.Time) *revealTickets {
	return &revealTickets{now: now, tickets: map[string]revealTicket{}}
}

// put keeps key for user on licence and returns its ticket.
func (r *revealTickets) put(user, licence int64, key revealedKey) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for k, t := range r.tickets {
		if now.After(t.expires) {
			delete(r.tickets, k)
		}
	}
	r.tickets[id] = revealTicket{user: user, licence: licence, key: key, expires: now.Add(revealTTL)}
	return id
}

// take returns the key of ticket id, once, if it is user's on licence and
// has not expired.
func (r *revealTickets) take(id string, user, licence int64) (*revealedKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tickets[id]
	if !ok || t.user != user || t.licence != licence {
		return nil, false
	}
	delete(r.tickets, id)
	if r.now().After(t.expires) {
		return nil, false
	}
	return &t.key, true
}
