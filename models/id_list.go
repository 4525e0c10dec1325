package models

import (
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// inlineIDs is the longest id list sent as "IN (?, ?, …)"; longer ones (an
// inheriting MBSA administrator's thousands of licences) travel as one
// array parameter, which no placeholder limit constrains.
const inlineIDs = 100

// whereIDIn narrows q to rows whose column is one of ids.
func (s *Store) whereIDIn(q *gorm.DB, column string, ids []int64) *gorm.DB {
	if len(ids) <= inlineIDs {
		return q.Where(column+" IN ?", ids)
	}
	if s.dialect == DialectPostgres {
		return q.Where(column+" = ANY(CAST(? AS bigint[]))", idArray(ids, "{", "}"))
	}
	return q.Where(column+" IN (SELECT value FROM json_each(?))", idArray(ids, "[", "]"))
}

// idArray writes ids as one array literal between open and end: "{…}" is
// a PostgreSQL array, "[…]" a JSON array that SQLite's json_each reads.
func idArray(ids []int64, open, end string) string {
	var b strings.Builder
	b.Grow(len(ids)*8 + 2)
	b.WriteString(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString(end)
	return b.String()
}
