package modelstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/internal/rawdb"
	"gorm.io/gorm"
)

// bulkBatch is how many rows one INSERT statement carries.
const bulkBatch = 5000

// Bulk runs fill in one transaction of s's writer, for benchmarks that load
// large data sets faster than the product's own writes could.
func Bulk(ctx context.Context, s *models.Store, fill func(b *BulkWriter) error) error {
	return s.InTx(ctx, func(tx *models.Tx) error {
		return fill(&BulkWriter{ctx: ctx, db: tx.Gorm(rawdb.Key{})})
	})
}

// BulkWriter inserts rows of literal values in multi-row INSERTs.
type BulkWriter struct {
	ctx context.Context
	db  *gorm.DB
	sb  strings.Builder
}

// Insert writes n rows into columns of table. row fills vals (one value per
// column) for row i; a value is an int, int64, string, bool, time.Time or
// nil (NULL).
func (b *BulkWriter) Insert(table string, columns []string, n int, row func(i int, vals []any)) error {
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	vals := make([]any, len(columns))
	for lo := 0; lo < n; lo += bulkBatch {
		b.sb.Reset()
		b.sb.WriteString(head)
		for i := lo; i < min(lo+bulkBatch, n); i++ {
			if i > lo {
				b.sb.WriteByte(',')
			}
			clear(vals)
			row(i, vals)
			b.sb.WriteByte('(')
			for j, v := range vals {
				if j > 0 {
					b.sb.WriteByte(',')
				}
				if err := b.literal(v); err != nil {
					return fmt.Errorf("%s row %d column %s: %w", table, i, columns[j], err)
				}
			}
			b.sb.WriteByte(')')
		}
		// The statement has no parameters: past gorm's parsing, straight
		// to the transaction.
		if _, err := b.db.Statement.ConnPool.ExecContext(b.ctx, b.sb.String()); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// literal writes v as an SQL literal both dialects read alike.
func (b *BulkWriter) literal(v any) error {
	switch v := v.(type) {
	case nil:
		b.sb.WriteString("NULL")
	case int:
		b.sb.WriteString(strconv.Itoa(v))
	case int64:
		b.sb.WriteString(strconv.FormatInt(v, 10))
	case bool:
		b.sb.WriteString(strings.ToUpper(strconv.FormatBool(v)))
	case string:
		b.sb.WriteByte('\'')
		b.sb.WriteString(strings.ReplaceAll(v, "'", "''"))
		b.sb.WriteByte('\'')
	case time.Time:
		b.sb.WriteString(v.UTC().Format("'2006-01-02 15:04:05.999999-07:00'"))
	default:
		return fmt.Errorf("no literal for %T", v)
	}
	return nil
}

// Analyze updates PostgreSQL's planner statistics after a bulk load; on
// SQLite it does nothing.
func Analyze(ctx context.Context, s *models.Store) error {
	if s.Dialect() != models.DialectPostgres {
		return nil
	}
	return s.InTx(ctx, func(tx *models.Tx) error {
		return tx.Gorm(rawdb.Key{}).WithContext(ctx).Exec("ANALYZE").Error
	})
}
