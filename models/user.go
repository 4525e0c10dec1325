package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// User is a person who has signed in at least once.
type User struct {
	ID                  int64
	DisplayName         string
	FirstName           string
	LastName            string
	Language            string // "en" or "ja"
	WorkEmail           *string
	WorkEmailVerifiedAt *time.Time
	LastSignInAt        *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Identity is a sign-in identity at an OpenID provider, (issuer, subject).
type Identity struct {
	ID         int64
	UserID     int64
	Issuer     string
	Subject    string
	Email      string // as reported by the provider; never trusted as the work email
	Name       string
	CreatedAt  time.Time
	LastSeenAt *time.Time
}

// EmailVerification is a pending proof of a work email. Only the hash of
// its token is stored.
type EmailVerification struct {
	ID         int64
	UserID     int64
	IdentityID int64
	Email      string
	TokenHash  string `json:"-"`
	ExpiresAt  time.Time
	UsedAt     *time.Time
	CreatedAt  time.Time
}

// IdentityClaims is what an OpenID provider says about a signed-in person.
type IdentityClaims struct {
	Issuer, Subject, Email, Name string
}

// SignIn finds the user of the identity (issuer, subject), creating both on
// first sign-in, and records the sign-in time. It returns the user, the
// identity, and the previous sign-in time (nil on first sign-in).
func (s *Store) SignIn(ctx context.Context, c IdentityClaims) (*User, *Identity, *time.Time, error) {
	var (
		user     User
		identity Identity
		previous *time.Time
	)
	now := s.now()
	err := s.InTx(ctx, func(tx *Tx) error {
		err := tx.db.Where("issuer = ? AND subject = ?", c.Issuer, c.Subject).Take(&identity).Error
		switch {
		case err == nil:
			if err := tx.db.Take(&user, identity.UserID).Error; err != nil {
				return err
			}
			previous = user.LastSignInAt
		case errors.Is(err, gorm.ErrRecordNotFound):
			user = User{DisplayName: c.Name, Language: "en", CreatedAt: now, UpdatedAt: now}
			if err := tx.db.Create(&user).Error; err != nil {
				return err
			}
			identity = Identity{UserID: user.ID, Issuer: c.Issuer, Subject: c.Subject, CreatedAt: now}
		default:
			return err
		}
		identity.Email, identity.Name, identity.LastSeenAt = c.Email, c.Name, &now
		if err := tx.db.Save(&identity).Error; err != nil {
			return err
		}
		user.LastSignInAt = &now
		if user.DisplayName == "" {
			user.DisplayName = c.Name
		}
		user.UpdatedAt = now
		tx.credentialsChanged(user.ID)
		return tx.db.Model(&user).Select("last_sign_in_at", "display_name", "updated_at").Updates(&user).Error
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return &user, &identity, previous, nil
}

// User returns the user with id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	// Most requests ask: one row, its columns named and scanned without
	// reflection.
	var r userRow
	err := s.db.WithContext(ctx).Raw("SELECT "+userColumns+" FROM users u WHERE u.id = ?", id).Row().Scan(r.dest()...)
	if err != nil {
		return nil, mapError(err)
	}
	return r.user(), nil
}

// SignedInUser is a user as a request's credential (a session or an API
// token) reads them, in the credential's own statement: the user, and the
// work email they asked to confirm with a link still unused and unexpired
// ("" when none).
type SignedInUser struct {
	User
	PendingWorkEmail string
}

// SignedInUser returns the user with id and their pending work email, in
// one statement, for a request that did not read them with its credential.
func (s *Store) SignedInUser(ctx context.Context, id int64) (*SignedInUser, error) {
	var r userRow
	err := s.quickQueryRow(ctx, "SELECT "+signedInColumns+" FROM users u WHERE u.id = ?", s.Now(), id).Scan(r.signedInDest()...)
	if err != nil {
		return nil, mapError(err)
	}
	return r.signedIn(), nil
}

// userColumns are the columns of users (aliased u) that userRow scans, so
// that a credential's query can read its user in the same statement.
const userColumns = "u.id, u.display_name, u.first_name, u.last_name, u.language, u.work_email, " +
	"u.work_email_verified_at, u.last_sign_in_at, u.created_at, u.updated_at"

// signedInColumns are userColumns and the user's pending work email: the
// email of their newest verification link unused and unexpired at the
// time given as the first argument.
const signedInColumns = userColumns + ", (SELECT ev.email FROM email_verifications ev " +
	"WHERE ev.user_id = u.id AND ev.used_at IS NULL AND ev.expires_at > ? ORDER BY ev.id DESC LIMIT 1)"

// boundText stands for a text parameter in the WHERE clause of a statement
// with a join. Given a bare ?, SQLite's planner looks at the bound value
// (the partial index on users is one reason, found in a debugger; a join
// with products does it too) and marks the statement to be prepared again
// whenever that parameter is rebound, which through the statement cache
// is every execution: three quarters of the credential statement's cost
// (BenchmarkAPITokenByHashWithUser). Behind CAST the planner does not
// look; PostgreSQL reads the same text.
const boundText = "CAST(? AS TEXT)"

// boundInt is boundText for an integer parameter.
const boundInt = "CAST(? AS BIGINT)"

// userRow scans userColumns or signedInColumns; all NULL when an outer
// join found no user.
type userRow struct {
	id                                             sql.NullInt64
	display, first, last, language, email, pending sql.NullString
	verified, lastSignedIn, created, update        sql.NullTime
}

func (r *userRow) dest() []any {
	return []any{&r.id, &r.display, &r.first, &r.last, &r.language, &r.email, &r.verified, &r.lastSignedIn, &r.created, &r.update}
}

func (r *userRow) signedInDest() []any { return append(r.dest(), &r.pending) }

// signedIn returns the user scanned with signedInColumns, or nil.
func (r *userRow) signedIn() *SignedInUser {
	u := r.user()
	if u == nil {
		return nil
	}
	return &SignedInUser{User: *u, PendingWorkEmail: r.pending.String}
}

// user returns the scanned user, or nil when there was none.
func (r *userRow) user() *User {
	if !r.id.Valid {
		return nil
	}
	u := &User{
		ID: r.id.Int64, DisplayName: r.display.String, FirstName: r.first.String, LastName: r.last.String, Language: r.language.String,
		WorkEmailVerifiedAt: timePtr(r.verified), LastSignInAt: timePtr(r.lastSignedIn), CreatedAt: r.created.Time, UpdatedAt: r.update.Time,
	}
	if r.email.Valid {
		u.WorkEmail = &r.email.String
	}
	return u
}

// timePtr is t's time, or nil when t is NULL.
func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}
