package models

import "time"

// Organization is a customer organisation.
type Organization struct {
	ID        int64
	Number    string // public customer number
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}
