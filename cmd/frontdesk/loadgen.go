package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/loadgen"
)

func runLoadgen(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("loadgen", flag.ExitOnError)
	var o loadgen.Options
	flags.Float64Var(&o.Rate, "rate", 500, "steady phase: messages per second (0 skips the phase)")
	flags.BoolVar(&o.FlatOut, "flat-out", true, "run a phase sending as fast as the gateway answers")
	flags.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each phase")
	flags.DurationVar(&o.Warmup, "warmup", 3*time.Second, "unreported warm-up at --rate before the steady phase")
	flags.IntVar(&o.Concurrency, "concurrency", 64, "flat-out phase: webhooks in flight")
	flags.IntVar(&o.Gateways, "gateways", 1, "gateway processes sharing the database")
	flags.IntVar(&o.HotSenders, "hot-senders", 20, "consistency check: shoppers sending a burst at once")
	flags.IntVar(&o.HotBurst, "hot-burst", 25, "consistency check: messages per hot shopper")
	cpuProfile := flags.String("cpuprofile", "", "write a CPU profile of the whole run (gateway included) to this file")
	memProfile := flags.String("memprofile", "", "write an allocation profile of the whole run (gateway included) to this file")
	flags.Parse(args) //nolint:errcheck // ExitOnError
	if *memProfile != "" {
		defer writeAllocProfile(ctx, *memProfile)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	o.ServerURL = os.Getenv("DATABASE_URL")
	if o.ServerURL == "" {
		return fmt.Errorf("DATABASE_URL is not set (make bench sets it)")
	}
	ctx = zerolog.New(os.Stderr).Level(zerolog.WarnLevel).WithContext(ctx)
	fmt.Printf("loadgen: %d gateway(s), phases of %s, one fresh database, Graph API stand-in on loopback\n",
		o.Gateways, o.Duration)
	report, err := loadgen.Run(ctx, o)
	for _, p := range report.Phases {
		fmt.Println(p)
	}
	if report.Consistency != nil {
		fmt.Println(report.Consistency)
	}
	if err != nil {
		return err
	}
	// A run that loses or repeats messages fails, so `make bench` says so
	// by its exit status, not only in its figures.
	if problems := report.Problems(); len(problems) > 0 {
		return fmt.Errorf("the run found %s", strings.Join(problems, "; "))
	}
	return nil
}

// writeAllocProfile writes the allocations made since the process started
// (go tool pprof -sample_index=alloc_space shows where the bytes went).
func writeAllocProfile(ctx context.Context, path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Could not write the allocation profile")
	}
}
