package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// lazyTxConn connects to a new database with a table t, its statements
// already prepared so that each batch is one round trip.
func lazyTxConn(t *testing.T) (*pgx.Conn, *storetest.RoundTrips, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	_, url := storetest.NewDB(t)
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	trips := &storetest.RoundTrips{}
	cfg.Tracer = trips
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) }) //nolint:errcheck
	other, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close(ctx) }) //nolint:errcheck
	_, err = conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)")
	require.NoError(t, err)
	for _, sql := range []string{"begin", "commit", "INSERT INTO t VALUES ($1)", "SELECT id FROM t WHERE id = $1"} {
		_, err := conn.Prepare(ctx, sql, sql)
		require.NoError(t, err)
	}
	trips.Reset()
	return conn, trips, other
}

func countRows(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n))
	return n
}

func TestLazyTxSendsBeginAndCommitWithItsStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, trips, other := lazyTxConn(t)

	tx := store.NewLazyTx(conn)
	_, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1)", 1)
	require.NoError(t, err)
	require.Equal(t, int64(1), trips.Batches(), "BEGIN goes with the first statement")
	require.Zero(t, trips.Statements())
	require.Zero(t, countRows(t, other), "the first statement runs inside the transaction")

	var b pgx.Batch
	b.Queue("INSERT INTO t VALUES ($1)", 2)
	require.NoError(t, tx.CommitBatch(ctx, &b))
	require.Equal(t, int64(2), trips.Batches(), "COMMIT goes with the last statements")
	require.Zero(t, trips.Statements())
	require.Equal(t, 2, countRows(t, other))
	require.Equal(t, byte('I'), conn.PgConn().TxStatus())
	require.NoError(t, tx.Rollback(ctx), "after the commit there is nothing to roll back")
	require.Equal(t, 2, countRows(t, other))
}

func TestLazyTxFailedCommitBatchCommitsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, _, other := lazyTxConn(t)

	tx := store.NewLazyTx(conn)
	var id int
	err := tx.QueryRow(ctx, "SELECT id FROM t WHERE id = $1", 1).Scan(&id)
	require.ErrorIs(t, err, pgx.ErrNoRows, "QueryRow on the first statement")
	_, err = tx.Exec(ctx, "INSERT INTO t VALUES ($1)", 1)
	require.NoError(t, err)

	var b pgx.Batch
	b.Queue("INSERT INTO t VALUES ($1)", 1) // duplicate key
	require.Error(t, tx.CommitBatch(ctx, &b))
	require.NoError(t, tx.Rollback(ctx))
	require.Zero(t, countRows(t, other), "neither insert was committed")
	require.Equal(t, byte('I'), conn.PgConn().TxStatus(), "the connection is out of the failed transaction")

	rows, err := store.NewLazyTx(conn).Query(ctx, "SELECT id FROM t WHERE id = $1", 1)
	require.NoError(t, err)
	n, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	require.Empty(t, n, "the connection serves the next transaction")
}

// TestLazyTxCopyFromFirst: a COPY as the transaction's first statement runs
// inside it, after one BEGIN (a second would draw PostgreSQL's warning).
func TestLazyTxCopyFromFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := storetest.NewDB(t)
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) }) //nolint:errcheck
	_, err = conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)")
	require.NoError(t, err)

	rows := pgx.CopyFromRows([][]any{{1}, {2}})
	tx := store.NewLazyTx(conn)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id"}, rows)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	require.NoError(t, tx.Rollback(ctx))
	require.Zero(t, countRows(t, conn), "rolled back with the transaction")

	tx = store.NewLazyTx(conn)
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id"}, pgx.CopyFromRows([][]any{{3}}))
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, 1, countRows(t, conn))
	require.Empty(t, notices)
}
