package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/orders"
)

const ordersUsage = `usage: frontdesk orders import [--format jsonl|csv] [--dry-run] FILE

Imports orders into Frontdesk's own order tables (orders.source: builtin),
replacing orders with the same number. FILE is JSONL (one order per line)
or CSV (one line item per row); "-" reads standard input. Every order is
checked first: if any has a problem, nothing is imported and the problems
are listed by line. Times may be relative to now ("now-6d"). The formats
are described in the orders package (go doc ./orders Parse).

Uses DATABASE_URL and applies pending migrations first.
`

// runOrders runs `frontdesk orders <command>`.
func runOrders(ctx context.Context, args []string) error {
	return ordersCommand(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

func ordersCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, ordersUsage)
		return errors.New("orders: a command is required")
	}
	switch args[0] {
	case "import":
		return importOrders(ctx, args[1:], stdin, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, ordersUsage)
		return nil
	default:
		fmt.Fprint(stderr, ordersUsage)
		return fmt.Errorf("orders: unknown command %q", args[0])
	}
}

func importOrders(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("orders import", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, ordersUsage+"\nflags:\n")
		flags.PrintDefaults()
	}
	format := flags.String("format", "", "jsonl or csv (default: from FILE's extension: .jsonl, .ndjson, .csv)")
	dryRun := flags.Bool("dry-run", false, "check the file and report; change nothing (needs no database)")
	// Flags may come before or after FILE.
	var files []string
	for rest := args; ; {
		if err := flags.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if flags.NArg() == 0 {
			break
		}
		files = append(files, flags.Arg(0))
		rest = flags.Args()[1:]
	}
	if len(files) != 1 {
		flags.Usage()
		return errors.New("orders import: exactly one FILE is required")
	}
	path := files[0]
	if *format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jsonl", ".ndjson":
			*format = orders.FormatJSONL
		case ".csv":
			*format = orders.FormatCSV
		default:
			return fmt.Errorf("orders import: cannot tell the format of %q from its extension: pass --format jsonl or --format csv", path)
		}
	}
	if *format != orders.FormatJSONL && *format != orders.FormatCSV {
		return fmt.Errorf("orders import: --format must be jsonl or csv, not %q", *format)
	}

	var in io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("orders import: %w", err)
		}
		defer f.Close()
		in = f
	}
	now := time.Now()
	problems := func(err error) error {
		if errors.Is(err, orders.ErrInvalid) {
			return fmt.Errorf("orders import: nothing imported; %s has problems:\n%w", path, err)
		}
		return fmt.Errorf("orders import: %w", err)
	}

	if *dryRun {
		parsed, err := orders.Parse(in, *format, now)
		if err != nil {
			return problems(err)
		}
		fmt.Fprintf(stdout, "%d orders are valid; nothing imported (dry run)\n", len(parsed))
		return nil
	}

	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	var n int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err = orders.Import(ctx, tx, in, *format, now)
		return err
	})
	if err != nil {
		return problems(err)
	}
	fmt.Fprintf(stdout, "imported %d orders\n", n)
	return nil
}
