// Command frontdesk is the Frontdesk gateway: `frontdesk serve` runs it,
// `frontdesk migrate` prepares the database, `frontdesk loadgen` measures it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

const usage = `usage: frontdesk <command> [flags]

commands:
  serve     run the gateway (webhooks, outbox workers, sandbox in demo mode)
  migrate   apply database migrations and exit
  orders    import orders into the built-in order tables
  agent     manage the people who sign in to the console (add, passwd, list)
  loadgen   measure a gateway with signed Messenger webhooks

Run "frontdesk <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// In a container with a memory limit, the heap stays under 90% of it,
	// the floor below included; GOMEMLIMIT, when set, decides instead.
	memlimit.Set() //nolint:errcheck // without a limit to read, the heap is bounded as before
	if os.Getenv("GOGC") == "" {
		keepHeapFloor(heapFloor, gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "migrate":
		err = migrate(ctx, os.Args[2:])
	case "agent":
		err = runAgent(ctx, os.Args[2:])
	case "orders":
		err = runOrders(ctx, os.Args[2:])
	case "loadgen":
		err = runLoadgen(ctx, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "frontdesk: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "frontdesk:", err)
		os.Exit(1)
	}
}
