package models

import "gorm.io/gorm"

// GormOf exposes the store's gorm handle to this package's external tests.
func GormOf(s *Store) *gorm.DB { return s.db }
