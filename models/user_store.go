package models

import (
	"context"
)

// UsersByID returns the users with the given ids (missing ones are left out).
func (s *Store) UsersByID(ctx context.Context, ids []int64) ([]User, error) {
	out := []User{}
	for _, chunk := range chunks(ids, importBatch) {
		var us []User
		if err := s.db.WithContext(ctx).Where("id IN ?", chunk).Find(&us).Error; err != nil {
			return nil, mapError(err)
		}
		out = append(out, us...)
	}
	return out, nil
}

// UserName is what a list of people shows of a user.
type UserName struct {
	ID          int64
	DisplayName string
	WorkEmail   string // "" when none
}

// UserNames returns the names and work emails of the users with ids
// (missing ones are left out), by one query whatever the number of ids,
// reading those columns only and scanning them without reflection: the
// users list of a large licence names hundreds, and reading whole users
// parsed four times each.
func (s *Store) UserNames(ctx context.Context, ids []int64) ([]UserName, error) {
	out := make([]UserName, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := s.db.WithContext(ctx).Table("users").Select("id, display_name, COALESCE(work_email, '')")
	rows, err := s.whereIDIn(q, "id", ids).Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u UserName
		if err := rows.Scan(&u.ID, &u.DisplayName, &u.WorkEmail); err != nil {
			return nil, mapError(err)
		}
		out = append(out, u)
	}
	return out, mapError(rows.Err())
}

// User returns the user with id, read in tx.
func (tx *Tx) User(id int64) (*User, error) {
	var u User
	if err := tx.db.Take(&u, id).Error; err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}

// VerifiedUsersWithEmail returns the users, other than except (0: none),
// whose confirmed work email is email.
func (tx *Tx) VerifiedUsersWithEmail(email string, except int64) ([]User, error) {
	var us []User
	err := tx.db.Where("work_email = ? AND work_email_verified_at IS NOT NULL AND id <> ?", email, except).
		Order("id").Find(&us).Error
	return us, mapError(err)
}

// LockWorkEmail serialises, until tx ends, the transactions that confirm
// email as someone's work email: at most one user holds it confirmed.
// SQLite transactions are serialised already.
func (tx *Tx) LockWorkEmail(email string) error {
	if tx.store.dialect != DialectPostgres {
		return nil
	}
	return tx.advisoryLock("work-email:"+email, 0)
}

// ConfirmWorkEmail makes email user's confirmed work email.
func (tx *Tx) ConfirmWorkEmail(user int64, email string) error {
	now := tx.Now()
	tx.credentialsChanged(user)
	return tx.db.Model(&User{}).Where("id = ?", user).
		Updates(map[string]any{"work_email": email, "work_email_verified_at": now, "updated_at": now}).Error
}

// UnconfirmWorkEmail withdraws the confirmation of user's work email (the
// email stays, to be confirmed again).
func (tx *Tx) UnconfirmWorkEmail(user int64) error {
	tx.credentialsChanged(user)
	return tx.db.Model(&User{}).Where("id = ?", user).
		Updates(map[string]any{"work_email_verified_at": nil, "updated_at": tx.Now()}).Error
}

// CreateEmailVerification records v and sets its id.
func (tx *Tx) CreateEmailVerification(v *EmailVerification) error {
	tx.credentialsChanged(v.UserID) // the pending work email
	return tx.db.Create(v).Error
}

// EmailVerificationForUpdate returns the verification whose token has the
// hash, locked until tx ends; a not-found Error when there is none.
func (tx *Tx) EmailVerificationForUpdate(tokenHash string) (*EmailVerification, error) {
	var v EmailVerification
	q := tx.forUpdate()
	if err := q.Where("token_hash = ?", tokenHash).Take(&v).Error; err != nil {
		return nil, mapError(err)
	}
	return &v, nil
}

// UseEmailVerification marks verification id used, and reports whether it
// was unused.
func (tx *Tx) UseEmailVerification(id int64) (bool, error) {
	res := tx.db.Model(&EmailVerification{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", tx.Now())
	tx.credentialsChanged() // someone's pending work email
	return res.RowsAffected > 0, res.Error
}
