package models

import "context"

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
// particular order. It reads only the listed columns, by one query
// whatever the number of ids, and scans them without reflection: the
// relationship summary of an administrator of a large MBSA lists thousands.
func (s *Store) LicenceRows(ctx context.Context, ids []int64) ([]LicenceRow, error) {
	if len(ids) == 0 {
		return []LicenceRow{}, nil
	}
	dates := "COALESCE(starts, ''), COALESCE(ends, '')"
	if s.dialect == DialectPostgres {
		dates = "COALESCE(to_char(starts, 'YYYY-MM-DD'), ''), COALESCE(to_char(ends, 'YYYY-MM-DD'), '')"
	}
	q := s.db.WithContext(ctx).Table("agreements").Select("id, number, program, name, parent_id, " + dates)
	rows, err := s.whereIDIn(q, "id", ids).Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := make([]LicenceRow, 0, len(ids))
	for rows.Next() {
		var r LicenceRow
		if err := rows.Scan(&r.ID, &r.Number, &r.Program, &r.Name, &r.ParentID, &r.Starts, &r.Ends); err != nil {
			return nil, mapError(err)
		}
		out = append(out, r)
	}
	return out, mapError(rows.Err())
}
