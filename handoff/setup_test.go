package handoff_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/handoff/auth"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// password is every test agent's password.
const password = "correct horse battery"

// clock is a settable time source for the console under test.
type clock struct {
	mu sync.Mutex
	t  time.Time // zero: the real time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type testBundle struct {
	pool  *pgxpool.Pool
	dbURL string
	url   string // the console's base URL
	clock *clock
}

// setup serves a console on a fresh database, on a real listener, as the
// gateway will: Register on a Fiber app.
func setup(t *testing.T, configure ...func(*handoff.Deps)) *testBundle {
	t.Helper()
	pool, dbURL := storetest.NewDB(t)
	b := &testBundle{pool: pool, dbURL: dbURL, clock: &clock{}}
	b.serve(t, configure...)
	return b
}

// anotherProcess serves a second console on the same database, with its
// own pool, as another gateway process would.
func (b *testBundle) anotherProcess(t *testing.T) *testBundle {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), b.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	other := &testBundle{pool: pool, dbURL: b.dbURL, clock: b.clock}
	other.serve(t)
	return other
}

func (b *testBundle) serve(t *testing.T, configure ...func(*handoff.Deps)) {
	t.Helper()
	pool := b.pool
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert-only
	require.NoError(t, err)
	deps := handoff.Deps{Pool: pool, Jobs: jobs, Config: handoff.DefaultConfig(), Now: b.clock.Now}
	for _, f := range configure {
		f(&deps)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(log.WithContext(c.UserContext()))
		return c.Next()
	})
	handoff.Register(app, deps)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go app.Listener(ln) //nolint:errcheck // ends at shutdown
	t.Cleanup(func() { require.NoError(t, app.ShutdownWithTimeout(10*time.Second)) })
	b.url = "http://" + ln.Addr().String()
}

// agent creates an agent with the test password.
func (b *testBundle) agent(t *testing.T, name string, role handoff.Role) int64 {
	t.Helper()
	hash, err := auth.HashPassword(password)
	require.NoError(t, err)
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@shop.example"
	a, err := store.CreateAgent(context.Background(), b.pool, store.NewAgent{Email: email, Name: name, Role: string(role), PasswordHash: hash}, time.Now())
	require.NoError(t, err)
	return a.ID
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects, so tests see them.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (b *testBundle) anonymous(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, base: b.url, http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signIn signs the agent named name in and returns their client.
func (b *testBundle) signIn(t *testing.T, name string) *client {
	t.Helper()
	c := b.anonymous(t)
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@shop.example"
	resp := c.form("/console/login", url.Values{"email": {email}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.body), v), r.body)
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	return c.do(req)
}

// form posts a form as a same-origin page of the console would.
func (c *client) form(path string, values url.Values, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(values.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// api calls the JSON API; body may be nil.
func (c *client) api(method, path string, body any, headers ...string) response {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// handedOff describes a conversation to create.
type handedOff struct {
	customer    string
	customerID  int64 // add to this customer instead of a new one
	platform    string
	status      string // default queued
	reason      string
	priority    int
	order       string
	lastInbound time.Time // default: a minute ago
	handedOffAt time.Time // default: lastInbound
	messages    []string  // the shopper's, oldest first
}

var identitySeq struct {
	sync.Mutex
	n int
}

// conversation creates a customer (unless given), an identity and a
// conversation with the shopper's messages, directly in SQL, as the
// conversation service would have left them after a hand-off.
func (b *testBundle) conversation(t *testing.T, h handedOff) (conversationID, customerID int64) {
	t.Helper()
	ctx := context.Background()
	if h.platform == "" {
		h.platform = "messenger"
	}
	if h.status == "" {
		h.status = "queued"
	}
	if h.reason == "" {
		h.reason = "asked_for_person"
	}
	if h.lastInbound.IsZero() {
		h.lastInbound = b.clock.Now().Add(-time.Minute)
	}
	if h.handedOffAt.IsZero() {
		h.handedOffAt = h.lastInbound
	}
	identitySeq.Lock()
	identitySeq.n++
	psid := fmt.Sprintf("psid-%d-%d", time.Now().UnixNano(), identitySeq.n)
	identitySeq.Unlock()

	customerID = h.customerID
	if customerID == 0 {
		require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO customers (display_name) VALUES ($1) RETURNING id`, h.customer).Scan(&customerID))
	}
	var identityID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO identities (customer_id, platform, channel_id, external_id, display_name)
		VALUES ($1, $2, 'page-1', $3, $4) RETURNING id`, customerID, h.platform, psid, h.customer).Scan(&identityID))
	summary := map[string]any{"intent": "other", "customer": h.customer, "channel": h.platform}
	if h.order != "" {
		summary["order"] = h.order
	}
	var handed *time.Time
	if h.status != "bot" {
		handed = &h.handedOffAt
	}
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO conversations (customer_id, identity_id, status, handoff_reason, priority,
			last_inbound_at, handed_off_at, handoff_summary, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		customerID, identityID, h.status, h.reason, h.priority, h.lastInbound, handed, summary, h.lastInbound.Add(-time.Hour)).Scan(&conversationID))
	for i, text := range h.messages {
		at := h.lastInbound.Add(time.Duration(i-len(h.messages)+1) * time.Second)
		_, err := b.pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, kind, platform, platform_message_id, body, status, created_at)
			VALUES ($1, 'in', 'customer', 'message', $2, $3, $4, 'received', $5)`,
			conversationID, h.platform, fmt.Sprintf("mid-%s-%d", psid, i), text, at)
		require.NoError(t, err)
	}
	return conversationID, customerID
}

func (b *testBundle) notify(t *testing.T, typ string, conversationID int64) {
	t.Helper()
	require.NoError(t, store.NotifyConsole(context.Background(), b.pool, store.ConsoleEvent{Type: typ, ConversationID: conversationID}))
}

func (b *testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func (b *testBundle) status(t *testing.T, conversationID int64) (status string, assignee *int64) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, assignee_id FROM conversations WHERE id = $1`,
		conversationID).Scan(&status, &assignee))
	return status, assignee
}

// stream is an open server-sent event stream.
type stream struct {
	events chan map[string]any
	cancel context.CancelFunc
}

// events opens the live event stream with c's session and waits until it
// is listening.
func (c *client) events(path string) *stream {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	require.Contains(c.t, resp.Header.Get("Content-Type"), "text/event-stream")
	s := &stream{events: make(chan map[string]any, 100), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev map[string]any
			if json.Unmarshal([]byte(data), &ev) == nil {
				s.events <- ev
			}
		}
	}()
	c.t.Cleanup(cancel)
	s.next(c.t, func(ev map[string]any) bool { return ev["type"] == "ready" })
	return s
}

// next waits for an event that match accepts, skipping others.
func (s *stream) next(t *testing.T, match func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			require.True(t, ok, "the stream ended")
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no matching live event within 10s")
		}
	}
}

func about(typ string, conversationID int64) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		id, _ := ev["conversation_id"].(float64)
		return ev["type"] == typ && int64(id) == conversationID
	}
}
