package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/store"
)

func migrate(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("migrate", flag.ExitOnError)
	flags.String("config", "", "accepted for symmetry with serve; migrations need only DATABASE_URL")
	flags.Parse(args) //nolint:errcheck // ExitOnError
	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	pool.Close()
	fmt.Fprintln(os.Stderr, "migrations applied")
	return nil
}

// mainConns sizes the pool of the console, the APIs and migrations;
// webhooks and the outbox workers have pools of their own (gateway.New).
// It is larger than pgxpool's default (4 on two cores) so that agents'
// pages and API calls do not queue behind one another.
const mainConns = 40

func openDatabase(ctx context.Context) (*pgxpool.Pool, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return nil, errors.New("DATABASE_URL is not set (make run starts a local PostgreSQL and sets it)")
	}
	return store.Open(ctx, url, mainConns)
}

// openMigrated opens DATABASE_URL and applies the migrations: every
// command that touches the database starts with it.
func openMigrated(ctx context.Context) (*pgxpool.Pool, error) {
	pool, err := openDatabase(ctx)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
