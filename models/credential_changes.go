package models

import "sync"

// credentialWatch calls, after a transaction commits, the functions that
// asked to hear when what a credential stands for changed: a token revoked,
// a user's name, language or work email (confirmed, withdrawn or pending).
// Servers that remember credentials for a moment (app.Tokens) forget those
// users at once; a change committed by another process or server reaches
// them when what they remember expires.
type credentialWatch struct {
	mu  sync.Mutex
	fns []func(users []int64)
}

// OnCredentialChange registers fn, called after every commit that changed
// the users' credentials or signed-in details; users is nil when the change
// may concern anyone.
func (s *Store) OnCredentialChange(fn func(users []int64)) {
	s.credentials.mu.Lock()
	defer s.credentials.mu.Unlock()
	s.credentials.fns = append(s.credentials.fns, fn)
}

// credentialsChanged tells the watchers, once tx commits, that the users'
// credentials changed (nil: anyone's).
func (tx *Tx) credentialsChanged(users ...int64) {
	w := &tx.store.credentials
	tx.OnCommit(func() {
		w.mu.Lock()
		fns := w.fns
		w.mu.Unlock()
		for _, fn := range fns {
			fn(users)
		}
	})
}
