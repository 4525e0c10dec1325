package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openlsc/openlsc/models"
	"gorm.io/gorm"
)

// notifyChannel is the PostgreSQL channel policy changes are announced on.
const notifyChannel = "openlsc_authz"

// maxPayload keeps NOTIFY payloads under PostgreSQL's 8000-byte limit; a
// larger change is announced as "reload everything".
const maxPayload = 7000

// Change names what a committed change touched, so that other instances
// re-read just that.
type Change struct {
	Origin     string  `json:"o"`
	Users      []int64 `json:"u,omitempty"`
	Agreements []int64 `json:"a,omitempty"`
	Reload     bool    `json:"r,omitempty"`
}

// publish announces c to the other instances, inside tx: PostgreSQL
// delivers a NOTIFY when the transaction commits and drops it on rollback.
// On SQLite there is only one instance and nothing to announce.
func publish(db *gorm.DB, dialect string, c Change) error {
	if dialect != models.DialectPostgres {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if len(b) > maxPayload {
		b, _ = json.Marshal(Change{Origin: c.Origin, Reload: true})
	}
	return db.Exec("SELECT pg_notify(?, ?)", notifyChannel, string(b)).Error
}

// AnnounceAgreements tells every instance that agreements were added or
// moved between MBSAs (after an import in another process, say).
func AnnounceAgreements(ctx context.Context, store *models.Store, agreements []int64) error {
	if len(agreements) == 0 {
		return nil
	}
	return publish(store.DB().WithContext(ctx), store.Dialect(), Change{Origin: "announce", Agreements: agreements})
}

// listener keeps a LISTEN connection and applies other instances' changes.
type listener struct {
	a      *Authorizer
	url    string
	origin string
	conn   *pgx.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

func newOrigin() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// connect opens the LISTEN connection.
func (l *listener) connect(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(l.url)
	if err != nil {
		return fmt.Errorf("authz: listen URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "openlsc-authz-" + l.origin
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("authz: listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("authz: listen: %w", err)
	}
	l.conn = conn
	return nil
}

// run applies notifications until ctx ends, reconnecting (with backoff)
// and reloading the whole policy once after each reconnection, since
// notifications sent while disconnected are lost.
func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	for {
		err := l.receive(ctx)
		if ctx.Err() != nil {
			if l.conn != nil {
				_ = l.conn.Close(context.Background())
			}
			return
		}
		l.a.logger.Warn("authz: policy listener disconnected; reconnecting", slog.Any("error", err))
		if l.conn != nil {
			_ = l.conn.Close(context.Background())
			l.conn = nil
		}
		for l.conn == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if err := l.connect(ctx); err != nil {
				backoff = min(backoff*2, 5*time.Second)
				l.a.logger.Warn("authz: reconnect failed", slog.Any("error", err), slog.Duration("retry_in", backoff))
				continue
			}
		}
		backoff = 100 * time.Millisecond
		err = l.a.Reload(ctx)
		l.a.applied(Change{Reload: true}, err)
		if err != nil {
			l.a.logger.Error("authz: reload after reconnecting", slog.Any("error", err))
		} else {
			l.a.logger.Info("authz: policy listener reconnected and reloaded")
		}
	}
}

// receive applies notifications until the connection fails.
func (l *listener) receive(ctx context.Context) error {
	for {
		n, err := l.conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var c Change
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil {
			l.a.logger.Error("authz: bad notification", slog.Any("error", err))
			continue
		}
		if c.Origin == l.origin {
			continue // applied on commit already
		}
		err = l.a.apply(ctx, c)
		l.a.applied(c, err)
		if err != nil {
			l.a.logger.Error("authz: apply a change from another instance; reloading", slog.Any("error", err))
			if err := l.a.Reload(ctx); err != nil {
				l.a.logger.Error("authz: reload", slog.Any("error", err))
			}
		}
	}
}

// apply re-reads what c names.
func (a *Authorizer) apply(ctx context.Context, c Change) error {
	db := a.store.DB().WithContext(ctx)
	if c.Reload {
		return a.Reload(ctx)
	}
	if len(c.Agreements) > 0 {
		if err := a.syncParents(db, c.Agreements); err != nil {
			return err
		}
	}
	if len(c.Users) > 0 {
		return a.syncUsers(db, c.Users)
	}
	return nil
}

func (a *Authorizer) applied(c Change, err error) {
	if a.onApply != nil {
		a.onApply(c, err)
	}
}

// Close stops listening for other instances' changes.
func (a *Authorizer) Close() error {
	if a.listener == nil {
		return nil
	}
	a.listener.cancel()
	<-a.listener.done
	return nil
}

var errNoListen = errors.New("authz: ListenURL is set but the store is not PostgreSQL")
