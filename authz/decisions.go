package authz

import (
	"sync"
)

// maxDecisions bounds the remembered decisions (about 50 bytes each), and
// with them casbin's own memo of g() answers; when full, both are
// forgotten at once.
const maxDecisions = 1 << 18

// decisionKey is one question asked of Can.
type decisionKey struct {
	user, licence int64
	action        Action
}

// decisions remembers casbin's answers until the policy changes. Each
// policy change calls forget, which also advances the generation, so an
// answer computed before a change is never stored after it.
type decisions struct {
	mu    sync.RWMutex
	gen   uint64
	m     map[decisionKey]bool
	limit int // maxDecisions when 0
}

func (d *decisions) get(k decisionKey) (allowed, found bool) {
	d.mu.RLock()
	allowed, found = d.m[k]
	d.mu.RUnlock()
	return allowed, found
}

func (d *decisions) generation() uint64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.gen
}

// put stores an answer computed at generation gen, unless the policy has
// changed since. It reports when the store is full: the caller should then
// forget everything.
func (d *decisions) put(k decisionKey, allowed bool, gen uint64) (full bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen {
		return false
	}
	if d.m == nil {
		d.m = make(map[decisionKey]bool, 1024)
	}
	d.m[k] = allowed
	limit := d.limit
	if limit == 0 {
		limit = maxDecisions
	}
	return len(d.m) >= limit
}

// forget drops every answer; call it with every policy change.
func (d *decisions) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.m = nil
}
