package models

import "gorm.io/gorm"

// DB returns the reader handle to the package's own tests.
func (s *Store) DB() *gorm.DB { return s.db }

// WriterDB returns the writer handle to the package's own tests.
func (s *Store) WriterDB() *gorm.DB { return s.w }

// DB returns the transaction's handle to the package's own tests.
func (tx *Tx) DB() *gorm.DB { return tx.db }
