package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/effects"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/outbox"
	"github.com/frontdesk/frontdesk/store"
)

// MaxWebhookBody caps a webhook body. Meta's are at most a few hundred
// kilobytes (batches of up to 1,000 events); anything over 4 MiB is not
// Meta and is refused with 413 before it is read whole.
const MaxWebhookBody = 4 << 20

// The queues a shopper waits on (replies, and the effects such as order
// look-ups that lead to replies) fetch within replyFetchCooldown of an
// insert notification, and poll every replyPollInterval (plus River's
// jitter of up to 10 ms) for jobs whose notification was rate-limited away.
const (
	replyFetchCooldown = 2 * time.Millisecond
	replyPollInterval  = 50 * time.Millisecond
)

// Gateway is one Frontdesk process: webhook endpoints, the conversation
// service and the outbox workers, sharing state only through PostgreSQL.
type Gateway struct {
	cfg  Config
	pool *pgxpool.Pool
	// servicePool serves the conversation service (webhooks, effect
	// results) and outboxPool the workers, so a burst of sends never
	// delays an ack. The console and the APIs use pool.
	servicePool, outboxPool *pgxpool.Pool
	jobs                    *river.Client[pgx.Tx]
	dispatcher              *outbox.Dispatcher // nil when the outbox is disabled
	app                     *fiber.App
	service                 *conversation.Service
	// stub is the built-in Graph API stand-in, when meta.graph_url is "builtin".
	stub *graphstub.Server
}

// New assembles a gateway on a migrated database.
func New(ctx context.Context, cfg Config, pool *pgxpool.Pool) (_ *Gateway, err error) {
	g := &Gateway{cfg: cfg, pool: pool}
	servicePool, err := ownPool(ctx, pool, serviceConns)
	if err != nil {
		return nil, fmt.Errorf("connect service pool: %w", err)
	}
	outboxPool, err := ownPool(ctx, pool, int32(min(max(cfg.Outbox.Workers/4, 4), 32)))
	if err != nil {
		servicePool.Close()
		return nil, fmt.Errorf("connect outbox pool: %w", err)
	}
	g.servicePool, g.outboxPool = servicePool, outboxPool
	defer func() {
		if err != nil {
			servicePool.Close()
			outboxPool.Close()
			if g.stub != nil {
				g.stub.Close()
			}
		}
	}()
	graphURL := cfg.Meta.GraphURL
	if graphURL == BuiltinGraph {
		g.stub = graphstub.New(cfg.Meta.AppSecret, cfg.Meta.Tokens(), cfg.Meta.GraphVersion)
		graphURL = g.stub.Start()
	}
	adapter := meta.New(meta.Config{
		AppSecret:    cfg.Meta.AppSecret,
		GraphURL:     graphURL,
		GraphVersion: cfg.Meta.GraphVersion,
		Tokens:       cfg.Meta.Tokens(),
	})

	workers := river.NewWorkers()
	sendWorker := &outbox.SendWorker{
		Pool:      outboxPool,
		Senders:   map[conversation.Platform]channels.Sender{conversation.Messenger: adapter, conversation.Instagram: adapter},
		RetryBase: cfg.Outbox.RetryBase,
	}
	river.AddWorker(workers, sendWorker)
	river.AddWorker(workers, &outbox.RescueWorker{Pool: outboxPool})
	river.AddWorker(workers, &outbox.ProfileWorker{
		Pool:     outboxPool,
		Fetchers: map[conversation.Platform]channels.ProfileFetcher{conversation.Messenger: adapter, conversation.Instagram: adapter},
	})
	orderSource := newOrderSource(cfg.Orders, outboxPool)
	// The effect worker needs the service, which needs the River client
	// the worker is registered on: it gets the service once both exist.
	effectWorker := &effects.Worker{Pool: outboxPool, Orders: orderSource}
	river.AddWorker(workers, effectWorker)
	riverCfg := &river.Config{
		Workers:              workers,
		JobTimeout:           cfg.Outbox.JobTimeout,
		RescueStuckJobsAfter: cfg.Outbox.RescueAfter,
		// River sends an insert NOTIFY at most once per FetchCooldown (per
		// queue), from inside the inserting transaction. PostgreSQL
		// serializes the commits of all notifying transactions on one lock
		// held through the WAL flush, so a notification per webhook would
		// cap throughput near one fsync per message; between notifications
		// the reply queues poll (replyPollInterval).
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		// Migration 00006 dropped River's GIN indexes on job args and
		// metadata; the nightly reindex covers the indexes that remain.
		ReindexerIndexNames: slices.DeleteFunc(river.ReindexerIndexNamesDefault(), func(name string) bool {
			return name == "river_job_args_index" || name == "river_job_metadata_index"
		}),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if !cfg.Outbox.Disabled {
		riverCfg.Queues = map[string]river.QueueConfig{
			store.QueueSend:     {MaxWorkers: cfg.Outbox.Workers, FetchCooldown: replyFetchCooldown, FetchPollInterval: replyPollInterval},
			store.QueueProfiles: {MaxWorkers: 5},
			store.QueueEffects:  {MaxWorkers: 10, FetchCooldown: replyFetchCooldown, FetchPollInterval: replyPollInterval},
		}
		riverCfg.PeriodicJobs = []*river.PeriodicJob{outbox.RescuePeriodicJob(rescueInterval(cfg.Outbox.RescueAfter))}
	}
	jobs, err := river.NewClient(riverpgxv5.New(outboxPool), riverCfg)
	if err != nil {
		return nil, fmt.Errorf("create job client: %w", err)
	}
	g.jobs = jobs
	botCfg := cfg.Bot
	botCfg.StoreName = cfg.StoreName
	bot, err := flows.NewBot(botCfg)
	if err != nil {
		return nil, fmt.Errorf("bot configuration: %w", err)
	}
	g.service = conversation.NewService(servicePool, jobs, bot)
	effectWorker.Events = g.service
	if !cfg.Outbox.Disabled {
		g.dispatcher = outbox.NewDispatcher(ctx, sendWorker, jobs, cfg.Outbox.Workers, cfg.Outbox.JobTimeout)
		g.service.DispatchReplies(g.dispatcher, cfg.Outbox.RescueAfter)
	}

	g.app = fiber.New(fiber.Config{
		BodyLimit:             MaxWebhookBody,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           2 * time.Minute,
	})
	log := zerolog.Ctx(ctx)
	g.app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(log.WithContext(c.UserContext()))
		return c.Next()
	})
	g.app.Get("/healthz", g.health)
	hooks := &channels.WebhookHandlers{
		Source:      "meta",
		Adapter:     adapter,
		VerifyToken: cfg.Meta.VerifyToken,
		Receiver:    g.service,
		Quarantine: func(ctx context.Context, source, reason string, body []byte) error {
			return store.SaveWebhookFailure(ctx, pool, source, reason, body)
		},
	}
	g.app.Post("/api/orders", orders.UpsertHandler(pool, cfg.Orders.APIToken))
	g.app.Get("/webhooks/meta", hooks.Verify)
	g.app.Post("/webhooks/meta", hooks.Receive)
	handoff.Register(g.app, handoff.Deps{
		Pool:          pool,
		Jobs:          jobs,
		Config:        cfg.Console,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"),
	})
	if cfg.Demo && g.stub != nil {
		g.registerSandbox()
	}
	return g, nil
}

// Start records the configured channels and starts the outbox workers.
func (g *Gateway) Start(ctx context.Context) error {
	for _, ch := range g.cfg.Meta.Channels {
		if err := store.UpsertChannel(ctx, g.pool, string(ch.Platform), ch.ID, ch.Name); err != nil {
			return err
		}
	}
	if g.cfg.Demo {
		if err := seedDemoAgent(ctx, g.pool); err != nil {
			return err
		}
	}
	if g.cfg.Outbox.Disabled {
		return nil
	}
	if err := g.jobs.Start(ctx); err != nil {
		return fmt.Errorf("start outbox workers: %w", err)
	}
	return nil
}

// Serve answers HTTP on ln until Shutdown.
func (g *Gateway) Serve(ln net.Listener) error {
	return g.app.Listener(ln)
}

// App is the HTTP application, for tests that call it directly.
func (g *Gateway) App() *fiber.App { return g.app }

// Service is the conversation service.
func (g *Gateway) Service() *conversation.Service { return g.service }

// GraphStub is the built-in Graph API stand-in, or nil.
func (g *Gateway) GraphStub() *graphstub.Server { return g.stub }

// Shutdown stops taking requests, lets running sends finish, and stops.
func (g *Gateway) Shutdown(ctx context.Context) error {
	errHTTP := g.app.ShutdownWithContext(ctx)
	var errDispatch, errJobs error
	if !g.cfg.Outbox.Disabled {
		errDispatch = g.dispatcher.Close(ctx)
		errJobs = g.jobs.Stop(ctx)
	}
	if g.stub != nil {
		g.stub.Close()
	}
	g.servicePool.Close()
	g.outboxPool.Close()
	return errors.Join(errHTTP, errDispatch, errJobs)
}

// rescueInterval is how often lapsed send claims are looked for: a
// quarter of the claim, within [1s, 30s].
func rescueInterval(claim time.Duration) time.Duration {
	return min(max(claim/4, time.Second), 30*time.Second)
}

// serviceConns bounds the conversation service's pool: webhooks use at
// most two connections at a time (conversation.Service shares their
// transactions), effect results one per effect worker.
const serviceConns = 16

// ownPool opens a pool like main, of at most maxConns connections.
//
// These pools keep PostgreSQL's default plan choice. Forcing generic plans
// (plan_cache_mode) saved the tenth of the CPU spent re-planning at 500
// messages/s, but 4 of 14 benchmark runs with it ran at about half speed,
// and none without it. The likely cause, not proven: a connection keeps
// the generic plan it made on first use, when a new database's tables are
// still empty.
func ownPool(ctx context.Context, main *pgxpool.Pool, maxConns int32) (*pgxpool.Pool, error) {
	cfg := main.Config().Copy()
	cfg.MaxConns = maxConns
	return pgxpool.NewWithConfig(ctx, cfg)
}

func (g *Gateway) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := g.pool.Ping(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	return c.SendString("ok")
}

// The demo's console sign-in: public, like the demo's secrets.
const (
	DemoAgentEmail    = "demo@frontdesk.test"
	DemoAgentPassword = "frontdesk-demo"
)

// seedDemoAgent gives a demo store with no agents one admin to sign in with.
func seedDemoAgent(ctx context.Context, pool *pgxpool.Pool) error {
	agents, err := store.ListAgents(ctx, pool)
	if err != nil || len(agents) > 0 {
		return err
	}
	_, err = handoff.CreateAgent(ctx, pool, handoff.AgentInput{
		Email: DemoAgentEmail, Name: "Demo Agent", Role: string(handoff.RoleAdmin), Password: DemoAgentPassword,
	})
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		return fmt.Errorf("seed the demo agent: %w", err)
	}
	return nil
}
