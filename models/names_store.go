package models

import "context"

// UserLabels returns, for each of the users that exists, how pages name
// them: "Display Name <work email>", or whichever of the two is set.
func (s *Store) UserLabels(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	for _, chunk := range chunks(ids, importBatch) {
		var us []User
		if err := s.db.WithContext(ctx).Select("id", "display_name", "work_email").Where("id IN ?", chunk).Find(&us).Error; err != nil {
			return nil, mapError(err)
		}
		for _, u := range us {
			label := u.DisplayName
			if u.WorkEmail != nil && *u.WorkEmail != "" {
				if label == "" {
					label = *u.WorkEmail
				} else {
					label += " <" + *u.WorkEmail + ">"
				}
			}
			if label != "" {
				out[u.ID] = label
			}
		}
	}
	return out, nil
}
