package models

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// LicenceRow is what a licence listing shows of an agreement: its dates as
// written (YYYY-MM-DD, "" when unset), which compare as text.
type LicenceRow struct {
	ID       int64
	Number   string
	Program  Program
	Name     string
	ParentID *int64
	Starts   string
	Ends     string
}

// LicenceRows returns the listing rows of the agreements with ids, in no
// particular order, by one query whatever the number of ids, reading only
// the listed columns.
//
// The relationship summary of an administrator of a large MBSA lists
// thousands of rows. On SQLite, fetching them one by one (a cgo call and
// half a dozen allocations per row) was most of that request, so SQLite
// packs every row into one text value (see sqlitePackedLicenceRows) and
// the rows are cut out of it here, their strings sharing its memory, with
// the ids driving the join (a primary-key lookup each). PostgreSQL rows
// come through pgx without cgo, and packing them there costs the server
// more than it saves: they are scanned without reflection.
func (s *Store) LicenceRows(ctx context.Context, ids []int64) ([]LicenceRow, error) {
	if len(ids) == 0 {
		return []LicenceRow{}, nil
	}
	if s.dialect == DialectPostgres {
		return s.scannedLicenceRows(ctx, ids)
	}
	var packed *string
	if err := s.quickQueryRow(ctx, sqlitePackedLicenceRows, idArray(ids, "[", "]")).Scan(&packed); err != nil {
		return nil, mapError(err)
	}
	if packed == nil {
		return []LicenceRow{}, nil
	}
	return unpackLicenceRows(*packed, len(ids))
}

// sqlitePackedLicenceRows is the SQLite query of LicenceRows: the
// agreements whose ids the JSON array parameter lists, each written as
//
//	id,parent_id,program,starts,ends,<bytes of number>,<number><bytes of name>,<name>
//
// (parent_id and the dates empty when unset), all concatenated.
const sqlitePackedLicenceRows = `SELECT group_concat(printf('%d,%s,%s,%s,%s,%d,%s%d,%s', a.id, a.parent_id, a.program,
	a.starts, a.ends, length(CAST(a.number AS BLOB)), a.number, length(CAST(a.name AS BLOB)), a.name), '')
	FROM json_each(?) AS l CROSS JOIN agreements a ON a.id = l.value`

// scannedLicenceRows is LicenceRows on PostgreSQL.
func (s *Store) scannedLicenceRows(ctx context.Context, ids []int64) ([]LicenceRow, error) {
	q := s.db.WithContext(ctx).Table("agreements").Select(licenceRowColumns(s.dialect))
	return scanLicenceRows(s.whereIDIn(q, "id", ids), len(ids))
}

// licenceRowColumns are the columns of agreements that scanLicenceRows
// reads, the dates as YYYY-MM-DD text.
func licenceRowColumns(dialect string) string {
	dates := "COALESCE(starts, ''), COALESCE(ends, '')"
	if dialect == DialectPostgres {
		dates = "COALESCE(to_char(starts, 'YYYY-MM-DD'), ''), COALESCE(to_char(ends, 'YYYY-MM-DD'), '')"
	}
	return "id, number, program, name, parent_id, " + dates
}

// bytewise is column as compared and sorted byte by byte, as SQLite does
// by default and PostgreSQL with the C collation.
func bytewise(dialect, column string) string {
	if dialect == DialectPostgres {
		return column + ` COLLATE "C"`
	}
	return column
}

// scanLicenceRows runs q, which selects the columns of a LicenceRow in
// field order, and scans its rows without reflection.
func scanLicenceRows(q *gorm.DB, capacity int) ([]LicenceRow, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := make([]LicenceRow, 0, capacity)
	for rows.Next() {
		var r LicenceRow
		if err := rows.Scan(&r.ID, &r.Number, &r.Program, &r.Name, &r.ParentID, &r.Starts, &r.Ends); err != nil {
			return nil, mapError(err)
		}
		out = append(out, r)
	}
	return out, mapError(rows.Err())
}

var errPackedRow = errors.New("models: malformed packed licence row")

// unpackLicenceRows cuts the rows out of what packedLicenceRows returns.
func unpackLicenceRows(s string, capacity int) ([]LicenceRow, error) {
	out := make([]LicenceRow, 0, capacity)
	parents := make([]int64, 0, capacity) // backs every ParentID
	for s != "" {
		var f [6]string
		for i := range f {
			comma := strings.IndexByte(s, ',')
			if comma < 0 {
				return nil, errPackedRow
			}
			f[i], s = s[:comma], s[comma+1:]
		}
		r := LicenceRow{Program: Program(f[2]), Starts: f[3], Ends: f[4]}
		var err error
		if r.ID, err = strconv.ParseInt(f[0], 10, 64); err != nil {
			return nil, errPackedRow
		}
		if f[1] != "" {
			p, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return nil, errPackedRow
			}
			parents = append(parents, p)
			r.ParentID = &parents[len(parents)-1]
		}
		if r.Number, s, err = cutCounted(f[5], s); err != nil {
			return nil, err
		}
		comma := strings.IndexByte(s, ',')
		if comma < 0 {
			return nil, errPackedRow
		}
		if r.Name, s, err = cutCounted(s[:comma], s[comma+1:]); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// cutCounted returns the first n bytes of s, n written in decimal, and
// the rest.
func cutCounted(n, s string) (string, string, error) {
	size, err := strconv.Atoi(n)
	if err != nil || size < 0 || size > len(s) {
		return "", "", errPackedRow
	}
	return s[:size], s[size:], nil
}

// ChildRows returns at most limit listing rows of the agreements under
// parent whose number sorts after after ("" for the first), in number
// order (bytewise, on both databases), read by the index on
// (parent_id, number): what a page of an MBSA's licences shows, whatever
// the number of licences under it. Who may see them is not its concern.
func (s *Store) ChildRows(ctx context.Context, parent int64, after string, limit int) ([]LicenceRow, error) {
	number := bytewise(s.dialect, "number")
	q := s.db.WithContext(ctx).Table("agreements").Select(licenceRowColumns(s.dialect)).
		Where("parent_id = ? AND "+number+" > ?", parent, after).Order(number).Limit(limit)
	return scanLicenceRows(q, limit)
}
