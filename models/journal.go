package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuthzNotifyChannel is the PostgreSQL channel on which a committed
// authorization change wakes the servers that follow the journal.
const AuthzNotifyChannel = "openlsc_authz"

// AuthzChange is one entry of the authorization change journal: what a
// committed change touched, so that every server re-reads just that.
type AuthzChange struct {
	ID         int64
	Origin     string  // the instance that made the change, which skips it
	Users      []int64 // users whose grants or inheritance choices changed
	Agreements []int64 // agreements added or moved between MBSAs
	Reload     bool    // re-read everything
}

// authzChangeRow is how an AuthzChange is stored.
type authzChangeRow struct {
	ID         int64
	Origin     string
	Users      string
	Agreements string
	Reload     bool
	CreatedAt  time.Time
}

func (authzChangeRow) TableName() string { return "authz_changes" }

// JournalAuthzChange records c in tx's journal; other servers see it once
// tx commits (and on PostgreSQL are woken then). It takes LockAuthz, so
// entries become visible in id order.
func (tx *Tx) JournalAuthzChange(c AuthzChange) error {
	if err := tx.LockAuthz(); err != nil {
		return err
	}
	users, err := json.Marshal(nonNil(c.Users))
	if err != nil {
		return err
	}
	ags, err := json.Marshal(nonNil(c.Agreements))
	if err != nil {
		return err
	}
	row := authzChangeRow{Origin: c.Origin, Users: string(users), Agreements: string(ags), Reload: c.Reload, CreatedAt: tx.Now()}
	if err := tx.db.Create(&row).Error; err != nil {
		return fmt.Errorf("journal an authorization change: %w", err)
	}
	if tx.store.dialect == DialectPostgres {
		// Delivered at commit, dropped on rollback; only a wake-up call.
		return tx.db.Exec("SELECT pg_notify(?, '')", AuthzNotifyChannel).Error
	}
	return nil
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// JournalAuthzChange records c in a transaction of its own.
func (s *Store) JournalAuthzChange(ctx context.Context, c AuthzChange) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.JournalAuthzChange(c) })
}

// LastAuthzChange returns the id of the newest journal entry, 0 when there
// is none.
func (s *Store) LastAuthzChange(ctx context.Context) (int64, error) {
	var id *int64
	if err := s.db.WithContext(ctx).Model(&authzChangeRow{}).Select("MAX(id)").Scan(&id).Error; err != nil {
		return 0, mapError(err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// AuthzChangesAfter returns up to limit journal entries after the entry
// with id after, oldest first.
func (s *Store) AuthzChangesAfter(ctx context.Context, after int64, limit int) ([]AuthzChange, error) {
	var rows []authzChangeRow
	err := s.db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]AuthzChange, len(rows))
	for i, r := range rows {
		out[i] = AuthzChange{ID: r.ID, Origin: r.Origin, Reload: r.Reload}
		if err := json.Unmarshal([]byte(r.Users), &out[i].Users); err != nil {
			return nil, fmt.Errorf("authorization journal entry %d: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(r.Agreements), &out[i].Agreements); err != nil {
			return nil, fmt.Errorf("authorization journal entry %d: %w", r.ID, err)
		}
	}
	return out, nil
}

// PruneAuthzChanges deletes the journal entries written before before,
// keeping the newest entry, and returns how many it deleted.
func (s *Store) PruneAuthzChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Tx) error {
		res := tx.db.Where("created_at < ? AND id < (SELECT MAX(id) FROM authz_changes)", before).Delete(&authzChangeRow{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// AuthzListener holds a PostgreSQL connection listening on
// AuthzNotifyChannel.
type AuthzListener struct {
	url, name string
	conn      *pgx.Conn
}

// ListenAuthz connects to the PostgreSQL database at url, as application
// name, and listens for authorization changes.
func ListenAuthz(ctx context.Context, url, name string) (*AuthzListener, error) {
	l := &AuthzListener{url: url, name: name}
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *AuthzListener) connect(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(l.url)
	if err != nil {
		return fmt.Errorf("listen URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = l.name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+AuthzNotifyChannel); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("listen: %w", err)
	}
	l.conn = conn
	return nil
}

// Run calls wake for every notification until ctx ends. When the
// connection fails it reports the error to lost, reconnects with backoff
// and calls wake once reconnected (notifications sent meanwhile are lost,
// but the journal keeps them). It closes the connection when it returns.
func (l *AuthzListener) Run(ctx context.Context, wake func(), lost func(error)) {
	backoff := 100 * time.Millisecond
	for {
		for l.conn != nil {
			_, err := l.conn.WaitForNotification(ctx)
			if err == nil {
				wake()
				continue
			}
			_ = l.conn.Close(context.Background())
			l.conn = nil
			if ctx.Err() != nil {
				return
			}
			lost(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if err := l.connect(ctx); err != nil {
			backoff = min(backoff*2, 5*time.Second)
			lost(err)
			continue
		}
		backoff = 100 * time.Millisecond
		wake()
	}
}

// Close closes the connection of a listener that is not running.
func (l *AuthzListener) Close(ctx context.Context) error {
	if l.conn == nil {
		return nil
	}
	return l.conn.Close(ctx)
}
