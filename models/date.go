package models

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a calendar date without time zone, such as an agreement's start.
// The zero Date means "not set" and is stored as NULL.
type Date struct{ t time.Time }

const dateLayout = "2006-01-02"

// ParseDate parses a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return Date{t: t}, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String returns the date as YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dateLayout)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// Equal reports whether d and e are the same date (or both unset).
func (d Date) Equal(e Date) bool { return d.t.Equal(e.t) }

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return d.t }

// Value stores the date as YYYY-MM-DD text (a DATE column on PostgreSQL).
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a date stored as text or as a time.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = Date{t: time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)}
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("cannot scan %T into a Date", src)
}

func (d *Date) scanText(s string) error {
	if len(s) > len(dateLayout) {
		s = s[:len(dateLayout)]
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}
