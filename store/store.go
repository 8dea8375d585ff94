// Package store is Frontdesk's PostgreSQL access: the pool, embedded
// migrations and one file of hand-written SQL per table. Row structs are
// its own; callers wrap them. It imports nothing of Frontdesk's.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/frontdesk/frontdesk/store/migrations"
)

// DBTX is what queries need: a pool or a transaction. Functions taking it
// run inside the caller's transaction when given one.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	// ErrNotFound is returned when a looked-up row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate is returned when a row would violate a unique key.
	ErrDuplicate = errors.New("duplicate")
	// ErrConversationChanged is returned when an event applied on a
	// conversation's remembered state (InboundEvent.Xmin) finds that the
	// conversation has changed since; the transaction has failed.
	ErrConversationChanged = errors.New("conversation changed since it was last read")
)

// WithDatabase names another database on the server of connString (a URL
// or keyword/value string), keeping its other settings: a Unix socket
// directory, sslmode, credentials.
func WithDatabase(connString, name string) string {
	if u, err := url.Parse(connString); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return connString + " dbname=" + name // a later keyword wins
}

// interpret translates pgx errors into the store's sentinels.
func interpret(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505":
		return fmt.Errorf("%w: %s", ErrDuplicate, pgErr.ConstraintName)
	case "FD001": // migration 00010
		return fmt.Errorf("%w: %s", ErrConversationChanged, pgErr.Message)
	}
	return err
}

// IsDeadlock reports whether err is PostgreSQL aborting a transaction to
// break a cycle of lock waits. Running the transaction again is safe and
// usually succeeds: the other transaction of the cycle has gone on.
func IsDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

// Open connects a pool to url and checks that the database answers. The
// pool holds up to maxConns connections unless url sets pool_max_conns.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 && !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// migrationLockKey is an arbitrary constant naming Frontdesk's migration lock.
const migrationLockKey int64 = 0x66726f6e7464

// Migrate applies River's migrations and then Frontdesk's. Both are
// forward-only. Several processes may start at once: an advisory lock lets
// one migrate while the others wait.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection for migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey) //nolint:errcheck // the session ends with the connection anyway
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("prepare river migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("prepare migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}
