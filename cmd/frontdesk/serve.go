package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/gateway"
)

func serve(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("serve", flag.ExitOnError)
	configPath := flags.String("config", "configs/example.yaml", "configuration file")
	listen := flags.String("listen", "", "address to listen on (overrides the config's listen)")
	flags.Parse(args) //nolint:errcheck // ExitOnError

	cfg, err := gateway.Load(*configPath)
	if err != nil {
		return err
	}
	if *listen != "" {
		// A public URL that only named the old address follows it.
		if cfg.PublicURL == "http://"+cfg.Listen {
			cfg.PublicURL = "http://" + *listen
		}
		cfg.Listen = *listen
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	ctx = log.WithContext(ctx)

	pool, err := openMigrated(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	gw, err := gateway.New(ctx, cfg, pool)
	if err != nil {
		return err
	}
	if err := gw.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()

	fmt.Fprintf(os.Stderr, "Frontdesk is running (store %q)\n", cfg.StoreName)
	fmt.Fprintf(os.Stderr, "  webhooks:  %s/webhooks/meta\n", cfg.PublicURL)
	if cfg.Demo {
		fmt.Fprintf(os.Stderr, "  sandbox:   %s/sandbox   (chat as a shopper on Messenger or Instagram)\n", cfg.PublicURL)
	}
	fmt.Fprintf(os.Stderr, "  console:   %s/console\n", cfg.PublicURL)
	if cfg.Demo {
		fmt.Fprintf(os.Stderr, "             (demo sign-in: %s / %s)\n", gateway.DemoAgentEmail, gateway.DemoAgentPassword)
	}
	fmt.Fprintf(os.Stderr, "  health:    %s/healthz\n", cfg.PublicURL)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("Shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return gw.Shutdown(shutdownCtx)
}

func newLogger(level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log_level: %w", err)
	}
	return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger(), nil
}
