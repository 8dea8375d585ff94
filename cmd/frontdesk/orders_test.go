package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// TestOrdersImport runs `frontdesk orders import` against its own
// database. It sets DATABASE_URL, so it does not run in parallel.
func TestOrdersImport(t *testing.T) {
	pool, url := storetest.NewDB(t)
	t.Setenv("DATABASE_URL", url)
	ctx := context.Background()
	run := func(stdin string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := ordersCommand(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
		return stdout.String(), err
	}
	count := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n))
		return n
	}

	out, err := run("", "import", "../../configs/demo-orders.jsonl")
	require.NoError(t, err)
	require.Equal(t, "imported 7 orders\n", out)
	require.Equal(t, 7, count())
	o, err := orders.NewPostgres(pool).Order(ctx, "1006")
	require.NoError(t, err)
	require.Equal(t, orders.Money(85000), o.Total)

	// Again: the same orders, replaced.
	out, err = run("", "import", "../../configs/demo-orders.jsonl")
	require.NoError(t, err)
	require.Equal(t, "imported 7 orders\n", out)
	require.Equal(t, 7, count())

	dir := t.TempDir()
	csvPath := filepath.Join(dir, "orders.txt")
	require.NoError(t, os.WriteFile(csvPath, []byte("number,currency,total,placed_at,status,sku,quantity,price\n"+
		"2001,EUR,10.00,now-1d,open,A,1,10.00\n"), 0o600))
	_, err = run("", "import", csvPath)
	require.ErrorContains(t, err, "cannot tell the format")
	out, err = run("", "import", csvPath, "--format", "csv") // flags after FILE
	require.NoError(t, err)
	require.Equal(t, "imported 1 orders\n", out)
	require.Equal(t, 8, count())

	// From standard input, checked only.
	out, err = run(`{"number":"3001","currency":"USD","total":1,"placed_at":"now","status":"open"}`, "import", "--dry-run", "--format=jsonl", "-")
	require.NoError(t, err)
	require.Equal(t, "1 orders are valid; nothing imported (dry run)\n", out)
	require.Equal(t, 8, count())

	// A file with a problem imports nothing, not even its good orders.
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"number":"3001","currency":"USD","total":1,"placed_at":"now","status":"open"}`+"\n"+
		`{"number":"3002","currency":"USD","total":1,"placed_at":"now","status":"open","items":[{"sku":"A","quantity":"two"}]}`+"\n"), 0o600))
	_, err = run("", "import", bad)
	require.EqualError(t, err, "orders import: nothing imported; "+bad+" has problems:\nline 2: items[0].quantity: \"two\" is not a whole number")
	require.Equal(t, 8, count())

	_, err = run("", "import")
	require.EqualError(t, err, "orders import: exactly one FILE is required")
	_, err = run("", "import", "--format", "xml", bad)
	require.EqualError(t, err, `orders import: --format must be jsonl or csv, not "xml"`)
	_, err = run("", "export")
	require.EqualError(t, err, `orders: unknown command "export"`)
}
