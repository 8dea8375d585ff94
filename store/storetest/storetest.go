// Package storetest gives tests a real, migrated PostgreSQL database of
// their own. The server comes from DATABASE_URL (default: the local one on
// 127.0.0.1:5432). Migrations run once into a template database named after
// their content; each test database is a cheap copy of it.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/migrations"
)

// DefaultURL is used when DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the PostgreSQL server tests use.
func ServerURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDB creates a fresh migrated database, returns its URL and a pool on
// it, and drops it when the test ends. Use it for tests that commit.
func NewDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := adminConn(ctx, t)
	defer admin.Close(context.Background())

	template := ensureTemplate(ctx, t, admin)
	name := "fdtest_" + randomSuffix(t)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	url := store.WithDatabase(ServerURL(), name)
	pool, err := store.Open(ctx, url, 10)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := adminConn(ctx, t)
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	return pool, url
}

// Tx returns a transaction on a fresh database, rolled back when the test ends.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	pool, _ := NewDB(t)
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatalf("storetest: begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

func adminConn(ctx context.Context, t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v (is PostgreSQL running? set DATABASE_URL)", redact(ServerURL()), err)
	}
	return conn
}

// ensureTemplate creates the migrated template database once per set of
// migrations; concurrent test processes serialize on an advisory lock.
func ensureTemplate(ctx context.Context, t testing.TB, admin *pgx.Conn) string {
	t.Helper()
	name := "fdtmpl_" + migrationsHash(t)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7261001)"); err != nil {
		t.Fatalf("storetest: lock: %v", err)
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(7261001)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("storetest: look up template: %v", err)
	}
	if exists {
		return name
	}
	// Build under a temporary name and rename, so a half-built template
	// left by a crash is never used.
	building := name + "_b"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatalf("storetest: create template: %v", err)
	}
	pool, err := store.Open(ctx, store.WithDatabase(ServerURL(), building), 4)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	err = store.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		t.Fatalf("storetest: migrate template: %v", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatalf("storetest: finish template: %v", err)
	}
	return name
}

// migrationsHash names the schema: our migration files plus River's version.
func migrationsHash(t testing.TB) string {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatalf("storetest: read migrations: %v", err)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if strings.HasPrefix(dep.Path, "github.com/riverqueue/river") {
				h.Write([]byte(dep.Path + dep.Version))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return hex.EncodeToString(b)
}

func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "DATABASE_URL"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// OpenConversation opens a Messenger conversation with a new shopper psid
// on page "page".
func OpenConversation(t testing.TB, db store.DBTX, psid string) store.Conversation {
	t.Helper()
	ctx := context.Background()
	ident, _, err := store.EnsureIdentity(ctx, db, "messenger", "page", psid)
	if err != nil {
		t.Fatalf("open conversation: %v", err)
	}
	conv, err := store.LockOpenConversation(ctx, db, ident.ID, ident.CustomerID)
	if err != nil {
		t.Fatalf("open conversation: %v", err)
	}
	return conv
}
