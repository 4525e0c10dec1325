// Package rawdb holds the key to a Store's gorm handles. Go lets only
// packages under models/ import it, so only they (the test fixtures in
// models/modelstest) can open the handles: everything else reaches the
// database through store methods.
package rawdb

// Key unlocks models.Store.Gorm and models.Tx.Gorm. Its blank field keeps
// other packages from writing a value of it (struct{ _ bool } elsewhere is
// another type).
type Key struct{ _ bool }
