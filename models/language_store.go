package models

import "context"

// SetUserLanguage stores the language user's mail is written in ("en" or
// "ja"; the caller checks).
func (s *Store) SetUserLanguage(ctx context.Context, user int64, lang string) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res := tx.db.Model(&User{}).Where("id = ?", user).Updates(map[string]any{"language": lang, "updated_at": tx.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return New(CodeNotFound, "err.user.not_found", "No such user.")
		}
		tx.credentialsChanged(user)
		return nil
	})
}

// UserLanguage returns the stored language of user, or "" when there is
// no such user.
func (tx *Tx) UserLanguage(user int64) (string, error) {
	var langs []string
	if err := tx.db.Model(&User{}).Where("id = ?", user).Limit(1).Pluck("language", &langs).Error; err != nil {
		return "", err
	}
	if len(langs) == 0 {
		return "", nil
	}
	return langs[0], nil
}
