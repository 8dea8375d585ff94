package storetest

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// RoundTrips is a pgx tracer (pgx.ConnConfig.Tracer) that counts what a
// connection sends: batches, and statements sent on their own. With their
// statements prepared, each is one round trip to the server. It also counts
// the statements the batches carried.
type RoundTrips struct{ batches, statements, batched atomic.Int64 }

// Batches is how many batches were sent since the last Reset.
func (r *RoundTrips) Batches() int64 { return r.batches.Load() }

// Statements is how many statements were sent on their own since the last Reset.
func (r *RoundTrips) Statements() int64 { return r.statements.Load() }

// Batched is how many statements the batches carried since the last Reset.
func (r *RoundTrips) Batched() int64 { return r.batched.Load() }

// Reset starts counting again.
func (r *RoundTrips) Reset() {
	r.batches.Store(0)
	r.statements.Store(0)
	r.batched.Store(0)
}

func (r *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.statements.Add(1)
	return ctx
}

func (r *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}

func (r *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	r.batched.Add(1)
}

func (r *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
