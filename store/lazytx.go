package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LazyTx is a transaction that saves round trips: its BEGIN travels with
// its first statement, and CommitBatch sends its last statements with the
// COMMIT. A webhook's transaction is a handful of statements, and on a
// small machine each round trip to the server — a write, a wake-up on
// each side — costs more than those statements do.
//
// It is a pgx.Tx for code that takes one (River's inserts among them), but
// has no savepoints (Begin) and no large objects.
type LazyTx struct {
	conn  *pgx.Conn
	begun bool
}

// NewLazyTx starts a transaction on conn; nothing is sent until its first
// statement. Roll it back when done, as with pgx.Tx: after a commit that
// does nothing.
func NewLazyTx(conn *pgx.Conn) *LazyTx { return &LazyTx{conn: conn} }

var errNoSavepoints = errors.New("store.LazyTx has no savepoints")

// Begin is not supported: LazyTx has no savepoints.
func (t *LazyTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNoSavepoints }

// Conn returns the connection the transaction runs on.
func (t *LazyTx) Conn() *pgx.Conn { return t.conn }

// LargeObjects is not supported.
func (t *LazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Prepare prepares a statement on the transaction's connection.
func (t *LazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

// SendBatch sends b, preceded by BEGIN when b is the first statement.
func (t *LazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	withBegin := &pgx.Batch{}
	withBegin.Queue("begin")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, withBegin)
	// BEGIN's result; had it failed, so would everything after it, and the
	// caller reads that from br.
	br.Exec() //nolint:errcheck
	return br
}

// sendFirst sends the transaction's first statement, with BEGIN.
func (t *LazyTx) sendFirst(ctx context.Context, sql string, args []any) pgx.BatchResults {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return t.SendBatch(ctx, b)
}

// Exec runs a statement.
func (t *LazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.sendFirst(ctx, sql, args)
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return tag, err
}

// Query runs a query.
func (t *LazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	br := t.sendFirst(ctx, sql, args)
	rows, err := br.Query()
	if err != nil {
		br.Close() //nolint:errcheck // err says what went wrong
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs a query that returns at most one row.
func (t *LazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return oneRow{rows: rows, err: err}
}

// CopyFrom copies rows into a table.
func (t *LazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if !t.begun {
		// COPY cannot go in a batch: send the BEGIN on its own.
		if err := t.SendBatch(ctx, &pgx.Batch{}).Close(); err != nil {
			return 0, err
		}
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

// Commit commits what the transaction has sent.
func (t *LazyTx) Commit(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "commit")
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// CommitBatch sends b and the COMMIT in one round trip. If a statement of b
// fails, the COMMIT is not run, and the transaction waits for Rollback.
func (t *LazyTx) CommitBatch(ctx context.Context, b *pgx.Batch) error {
	b.Queue("commit").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	return t.SendBatch(ctx, b).Close()
}

// Rollback ends the transaction unless it has committed or failed at its
// COMMIT, which ended it already.
func (t *LazyTx) Rollback(ctx context.Context) error {
	if !t.begun || t.conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "rollback"); err != nil {
		// A connection stuck in a transaction must not go back to a pool.
		t.conn.Close(ctx) //nolint:errcheck
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// batchRows are a query's rows read from a batch, which they close with
// themselves.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closeErr error
	closed   bool
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.closeErr = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// oneRow is QueryRow's row over Query's rows.
type oneRow struct {
	rows pgx.Rows
	err  error
}

func (r oneRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
