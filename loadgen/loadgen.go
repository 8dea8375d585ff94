// Package loadgen measures a Frontdesk gateway the way Meta loads it:
// signed Messenger webhooks from many shoppers, at a fixed rate or flat
// out, answered through the Graph API stand-in, which records every reply.
// It runs the gateways in-process on a fresh database so a run is
// repeatable and leaves nothing behind.
package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/gateway"
	"github.com/frontdesk/frontdesk/store"
)

// Options says what to run.
type Options struct {
	// ServerURL is the PostgreSQL server; a fresh database is created on it
	// and dropped afterwards.
	ServerURL string
	// Rate is the steady phase's messages per second; 0 skips the phase.
	Rate float64
	// FlatOut runs a phase sending as fast as Concurrency allows.
	FlatOut bool
	// Duration of each phase.
	Duration time.Duration
	// Warmup runs at Rate before the steady phase, unreported.
	Warmup time.Duration
	// Concurrency is the number of webhooks in flight in the flat-out phase.
	Concurrency int
	// Gateways is how many gateway processes share the database.
	Gateways int
	// HotSenders each send HotBurst messages all at once, for the
	// consistency check.
	HotSenders, HotBurst int
	// DrainTimeout is how long to wait for the last replies.
	DrainTimeout time.Duration
	// DBConns is each gateway's webhook connection pool (40), and
	// OutboxWorkers its sends in flight (100).
	DBConns, OutboxWorkers int
}

// PhaseReport is what one phase measured.
type PhaseReport struct {
	Name                   string
	Sent, Accepted         int
	Rejected               int
	Elapsed                time.Duration
	AckP50, AckP95, AckP99 time.Duration
	// SlowAcks counts acknowledgements over SlowAck, and SlowSeconds the
	// seconds of the phase they were sent in: a few seconds with many
	// mean stalls (a collection, a slow WAL flush), many seconds with one
	// or two a tail spread through the run.
	SlowAcks, SlowSeconds int
	ReplyP50, ReplyP99    time.Duration
	AnsweredOnce          int
	Missing, Duplicate    int
}

// AcceptedPerSecond is the phase's throughput.
func (p PhaseReport) AcceptedPerSecond() float64 {
	return float64(p.Accepted) / p.Elapsed.Seconds()
}

func (p PhaseReport) String() string {
	return fmt.Sprintf("%-8s sent %6d  accepted %6d (%7.1f/s)  rejected %d\n"+
		"         ack   p50 %8s  p95 %8s  p99 %8s  over %s: %d, sent in %d of %d seconds\n"+
		"         reply p50 %8s  p99 %8s\n"+
		"         answered exactly once %d, missing %d, duplicate %d",
		p.Name, p.Sent, p.Accepted, p.AcceptedPerSecond(), p.Rejected,
		round(p.AckP50), round(p.AckP95), round(p.AckP99), SlowAck, p.SlowAcks, p.SlowSeconds,
		int(p.Elapsed.Round(time.Second)/time.Second), round(p.ReplyP50), round(p.ReplyP99),
		p.AnsweredOnce, p.Missing, p.Duplicate)
}

// ConsistencyReport is what the hot-sender check found.
type ConsistencyReport struct {
	Conversations, Messages int
	// LostUpdates counts conversations whose applied-event count, sequence
	// numbers or replies differ from handling their messages one by one.
	LostUpdates int
	Missing     int
	Duplicate   int
	// Rejected counts webhooks not answered 200 (Meta would deliver them
	// again; the load generator does not), which also show as missing.
	Rejected int
}

func (c ConsistencyReport) String() string {
	return fmt.Sprintf("consistency: %d conversations × %d messages in flight at once: lost updates %d, missing replies %d, duplicate replies %d, rejected webhooks %d",
		c.Conversations, c.Messages, c.LostUpdates, c.Missing, c.Duplicate, c.Rejected)
}

// Report is a whole run.
type Report struct {
	Phases      []PhaseReport
	Consistency *ConsistencyReport
}

// Problems lists what the run found wrong: webhooks refused, messages
// unanswered or answered twice, conversations that did not end as if
// their messages were handled one by one. Timings are not judged: they
// depend on the machine.
func (r Report) Problems() []string {
	var out []string
	add := func(scope string, n int, what string) {
		if n > 0 {
			out = append(out, fmt.Sprintf("%s: %d %s", scope, n, what))
		}
	}
	for _, p := range r.Phases {
		add(p.Name, p.Rejected, "webhooks rejected")
		add(p.Name, p.Missing, "messages unanswered")
		add(p.Name, p.Duplicate, "replies duplicated")
	}
	if c := r.Consistency; c != nil {
		add("consistency", c.Rejected, "webhooks rejected")
		add("consistency", c.LostUpdates, "conversations with lost updates")
		add("consistency", c.Missing, "replies missing")
		add("consistency", c.Duplicate, "replies duplicated")
	}
	return out
}

const (
	appSecret = "loadgen-secret"
	pageID    = "900000000000001"
	pageToken = "loadgen-page-token"
)

// Run creates a database, starts the gateways and the Graph stand-in, runs
// the phases and checks, and tears everything down.
func Run(ctx context.Context, opts Options) (Report, error) {
	opts.defaults()
	dbURL, dropDB, err := createDatabase(ctx, opts.ServerURL)
	if err != nil {
		return Report{}, err
	}
	defer dropDB()

	r := &run{opts: opts, outstanding: map[string]time.Time{}}
	r.stub = graphstub.New(appSecret, map[string]string{pageID: pageToken}, "v23.0")
	r.stub.OnSend(r.onReply)
	graphURL := r.stub.Start()
	defer r.stub.Close()

	var urls []string
	for i := range opts.Gateways {
		url, stop, err := startGateway(ctx, dbURL, graphURL, opts.DBConns, opts.OutboxWorkers, i == 0)
		if err != nil {
			return Report{}, err
		}
		defer stop()
		urls = append(urls, url)
	}
	r.urls = urls
	r.client = &fasthttp.Client{MaxConnsPerHost: 1 << 16, MaxIdleConnDuration: time.Minute}

	var report Report
	if opts.Rate > 0 && opts.Warmup > 0 {
		// Not reported: new connections, first contacts, cold caches.
		r.phase(ctx, "warm-up", func(send func()) { r.paced(ctx, opts.Warmup, send) })
	}
	if opts.Rate > 0 {
		report.Phases = append(report.Phases, r.phase(ctx, "steady", func(send func()) { r.paced(ctx, opts.Duration, send) }))
	}
	if opts.FlatOut {
		report.Phases = append(report.Phases, r.phase(ctx, "flat-out", func(send func()) { r.flat(ctx, send) }))
	}
	if opts.HotSenders > 0 && opts.HotBurst > 0 {
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			return report, err
		}
		defer pool.Close()
		c, err := r.consistency(ctx, pool)
		if err != nil {
			return report, err
		}
		report.Consistency = &c
	}
	return report, nil
}

func (o *Options) defaults() {
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Concurrency == 0 {
		o.Concurrency = 64
	}
	if o.Gateways == 0 {
		o.Gateways = 1
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.DBConns == 0 {
		o.DBConns = 40
	}
	if o.OutboxWorkers == 0 {
		o.OutboxWorkers = 100
	}
}

// run is the state of one load run. Each shopper has at most one message
// in flight, so a reply to a shopper answers exactly that message.
type run struct {
	opts   Options
	urls   []string
	client *fasthttp.Client
	stub   *graphstub.Server

	mu          sync.Mutex
	outstanding map[string]time.Time // shopper → when their message was posted
	idle        []string             // shoppers with nothing in flight
	nextShopper int
	replyLat    []time.Duration
	answered    int
	duplicates  int
	expectHot   map[string]int // hot shopper → replies still expected
	hotDup      int

	seq atomic.Int64
}

// onReply runs in the stand-in for every accepted Send API call.
func (r *run) onReply(s graphstub.Sent) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if left, hot := r.expectHot[s.RecipientID]; hot {
		if left == 0 {
			r.hotDup++
		} else {
			r.expectHot[s.RecipientID] = left - 1
		}
		return
	}
	sentAt, ok := r.outstanding[s.RecipientID]
	if !ok {
		r.duplicates++
		return
	}
	delete(r.outstanding, s.RecipientID)
	r.replyLat = append(r.replyLat, now.Sub(sentAt))
	r.answered++
	r.idle = append(r.idle, s.RecipientID)
}

// shopper returns a shopper with no message in flight.
func (r *run) shopper() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.idle); n > 0 {
		s := r.idle[n-1]
		r.idle = r.idle[:n-1]
		return s
	}
	r.nextShopper++
	return "shopper-" + strconv.Itoa(r.nextShopper)
}

// phase runs drive, which calls send for every message, then waits for
// the replies and reports.
func (r *run) phase(ctx context.Context, name string, drive func(send func())) PhaseReport {
	r.mu.Lock()
	r.replyLat, r.answered, r.duplicates = nil, 0, 0
	r.mu.Unlock()

	var (
		acks               []time.Duration
		slowAt             []time.Duration // when, into the phase, each slow ack's webhook was sent
		acksMu             sync.Mutex
		sent, ok, rejected atomic.Int64
	)
	start := time.Now()
	drive(func() {
		shopper := r.shopper()
		n := r.seq.Add(1)
		body := meta.MessageWebhook(conversation.Messenger, pageID, shopper, "m_load_"+strconv.FormatInt(n, 10),
			"hi there, message "+strconv.FormatInt(n, 10), "", time.Now())
		r.mu.Lock()
		r.outstanding[shopper] = time.Now()
		r.mu.Unlock()
		sent.Add(1)
		at := time.Since(start)
		took, status := r.post(ctx, r.urls[int(n)%len(r.urls)], body)
		if status != http.StatusOK {
			rejected.Add(1)
			return
		}
		ok.Add(1)
		acksMu.Lock()
		acks = append(acks, took)
		if took > SlowAck {
			slowAt = append(slowAt, at)
		}
		acksMu.Unlock()
	})
	elapsed := time.Since(start)
	r.drain(func() bool { return len(r.outstanding) == 0 })

	r.mu.Lock()
	defer r.mu.Unlock()
	p := PhaseReport{
		Name: name, Sent: int(sent.Load()), Accepted: int(ok.Load()), Rejected: int(rejected.Load()),
		Elapsed: elapsed, AnsweredOnce: r.answered, Missing: len(r.outstanding), Duplicate: r.duplicates,
	}
	p.AckP50, p.AckP95, p.AckP99 = percentile(acks, 50), percentile(acks, 95), percentile(acks, 99)
	p.SlowAcks, p.SlowSeconds = len(slowAt), distinctSeconds(slowAt)
	p.ReplyP50, p.ReplyP99 = percentile(r.replyLat, 50), percentile(r.replyLat, 99)
	// Unanswered shoppers stay out of the idle list for later phases.
	clear(r.outstanding)
	return p
}

// paced sends at opts.Rate, open loop: a slow answer does not slow the
// sender. Each send goes to an idle sending goroutine, or to a new one
// when none is idle; they live until the phase ends. (A goroutine per
// send grew its stack anew each time, copying it, and that load
// generator's CPU was taken from the gateway it measures.)
func (r *run) paced(ctx context.Context, d time.Duration, send func()) {
	interval := time.Duration(float64(time.Second) / r.opts.Rate)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	sends := make(chan struct{})
	defer func() {
		close(sends)
		wg.Wait()
	}()
	next := time.Now()
	for next.Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Until(next))
		select {
		case sends <- struct{}{}:
		default:
			wg.Go(func() {
				send()
				for range sends {
					send()
				}
			})
		}
		next = next.Add(interval)
	}
}

// flat sends with opts.Concurrency webhooks always in flight.
func (r *run) flat(ctx context.Context, send func()) {
	deadline := time.Now().Add(r.opts.Duration)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				send()
			}
		})
	}
	wg.Wait()
}

// post sends one signed webhook. The client is fasthttp's, which the
// gateway's HTTP server already brings in: it serves a request on the
// calling goroutine, where net/http's client hands each one to a writer
// and a reader goroutine, and on a small machine the load generator's own
// CPU is taken from the gateway it measures.
func (r *run) post(ctx context.Context, url string, body []byte) (time.Duration, int) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url + "/webhooks/meta")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
	req.SetBodyRaw(body)
	deadline := time.Now().Add(postTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	start := time.Now()
	if err := r.client.DoDeadline(req, resp, deadline); err != nil {
		return time.Since(start), 0
	}
	return time.Since(start), resp.StatusCode()
}

const postTimeout = 30 * time.Second

// drain waits until done (checked under r.mu) or the drain timeout, then a
// little longer so late duplicates are counted.
func (r *run) drain(done func() bool) {
	deadline := time.Now().Add(r.opts.DrainTimeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		finished := done()
		r.mu.Unlock()
		if finished {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
}

// consistency sends HotBurst messages from each of HotSenders shoppers all
// at once and checks each conversation ends as if they were handled one by one.
func (r *run) consistency(ctx context.Context, pool *pgxpool.Pool) (ConsistencyReport, error) {
	o := r.opts
	r.mu.Lock()
	r.expectHot = map[string]int{}
	for i := range o.HotSenders {
		r.expectHot["hot-"+strconv.Itoa(i)] = o.HotBurst
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	var rejected atomic.Int64
	for i := range o.HotSenders {
		for j := range o.HotBurst {
			wg.Go(func() {
				shopper := "hot-" + strconv.Itoa(i)
				body := meta.MessageWebhook(conversation.Messenger, pageID, shopper,
					fmt.Sprintf("m_hot_%d_%d", i, j), "burst "+strconv.Itoa(j), "", time.Now())
				if _, status := r.post(ctx, r.urls[(i+j)%len(r.urls)], body); status != http.StatusOK {
					rejected.Add(1)
				}
			})
		}
	}
	wg.Wait()
	r.drain(func() bool {
		for _, left := range r.expectHot {
			if left > 0 {
				return false
			}
		}
		return true
	})

	c := ConsistencyReport{Conversations: o.HotSenders, Messages: o.HotBurst, Rejected: int(rejected.Load())}
	r.mu.Lock()
	for _, left := range r.expectHot {
		c.Missing += left
	}
	c.Duplicate = r.hotDup
	r.mu.Unlock()
	// One by one means: HotBurst events applied, sequence numbers 1..HotBurst
	// each used once, one reply per message, and only the first greeted.
	err := pool.QueryRow(ctx, `
		SELECT count(*) FROM conversations c JOIN identities i ON i.id = c.identity_id
		WHERE i.external_id LIKE 'hot-%' AND NOT (
			c.events_applied = $1
			AND (SELECT count(DISTINCT seq) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' AND m.seq BETWEEN 1 AND $1) = $1
			AND (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out') = $1
			AND (SELECT count(*) FROM messages o JOIN messages m ON m.id = o.in_reply_to
				WHERE m.conversation_id = c.id AND m.seq = 1 AND o.body LIKE 'Hi!%') = 1)`,
		o.HotBurst).Scan(&c.LostUpdates)
	if err != nil {
		return c, fmt.Errorf("check consistency: %w", err)
	}
	var conversations int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM identities WHERE external_id LIKE 'hot-%'`).Scan(&conversations); err != nil {
		return c, err
	}
	c.LostUpdates += o.HotSenders - conversations
	return c, nil
}

func startGateway(ctx context.Context, dbURL, graphURL string, dbConns, outboxWorkers int, migrate bool) (string, func(), error) {
	cfg, err := gateway.Parse([]byte(`
store_name: Loadgen Store
log_level: warn
bot:
  policies:
    # Load shoppers chat on; none is handed off for being misunderstood.
    handoff_after_misunderstood: 0
outbox:
  workers: `+strconv.Itoa(outboxWorkers)+`
meta:
  graph_url: `+graphURL+`
  channels:
    - {platform: messenger, id: "`+pageID+`", name: Loadgen Page, token_env: LOADGEN_PAGE_TOKEN}
`), func(name string) string {
		return map[string]string{"META_APP_SECRET": appSecret, "META_VERIFY_TOKEN": "loadgen",
			"LOADGEN_PAGE_TOKEN": pageToken}[name]
	})
	if err != nil {
		return "", nil, err
	}
	ctx = zerolog.Ctx(ctx).Level(zerolog.WarnLevel).WithContext(ctx)
	pool, err := store.Open(ctx, dbURL, int32(dbConns))
	if err != nil {
		return "", nil, err
	}
	if migrate {
		if err := store.Migrate(ctx, pool); err != nil {
			return "", nil, err
		}
	}
	gw, err := gateway.New(ctx, cfg, pool)
	if err != nil {
		return "", nil, err
	}
	if err := gw.Start(ctx); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go gw.Serve(ln) //nolint:errcheck // ends at Shutdown
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx) //nolint:errcheck // best effort at the end of a run
		pool.Close()
	}, nil
}

// createDatabase makes a fresh database on the server and returns its URL
// (the server URL's settings kept) and a function dropping it.
func createDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	name := fmt.Sprintf("frontdesk_loadgen_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	return store.WithDatabase(serverURL, name), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
		admin.Close(ctx)
	}, nil
}

// SlowAck is the acknowledgement time a phase counts as slow: the steady
// phase's target for the p99.
const SlowAck = 10 * time.Millisecond

// distinctSeconds counts the whole seconds that the offsets fall in.
func distinctSeconds(offsets []time.Duration) int {
	seen := map[time.Duration]bool{}
	for _, o := range offsets {
		seen[o.Truncate(time.Second)] = true
	}
	return len(seen)
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return strings.TrimSpace(d.Round(time.Microsecond).String())
}
