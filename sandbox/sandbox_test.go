package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
)

const (
	testAppSecret = "sandbox-test-secret"
	testVersion   = "v23.0"
	pageID        = "100200300400"
	igID          = "17841400000000001"
	pageToken     = "page-token"
	igToken       = "ig-token"
	shopperID     = "5614879045272581"
)

// fakeGateway is the gateway's webhook endpoint as far as the sandbox can
// tell: it checks the signature and parses the body with the Meta adapter,
// records the events, and answers status.
type fakeGateway struct {
	url    string
	status atomic.Int32

	mu       sync.Mutex
	events   []conversation.Inbound
	failures []string
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	gw := &fakeGateway{}
	gw.status.Store(http.StatusOK)
	adapter := meta.New(meta.Config{AppSecret: testAppSecret})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, msg string) {
			gw.mu.Lock()
			gw.failures = append(gw.failures, msg)
			gw.mu.Unlock()
			http.Error(w, msg, status)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/webhooks/meta" {
			fail(http.StatusNotFound, r.Method+" "+r.URL.Path)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			fail(http.StatusUnsupportedMediaType, "Content-Type "+ct)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		if err := adapter.Verify(r.Header.Get("X-Hub-Signature-256"), body); err != nil {
			fail(http.StatusForbidden, err.Error())
			return
		}
		events, err := adapter.Parse(body)
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		gw.mu.Lock()
		gw.events = append(gw.events, events...)
		gw.mu.Unlock()
		w.WriteHeader(int(gw.status.Load()))
		io.WriteString(w, "EVENT_RECEIVED") //nolint:errcheck
	}))
	t.Cleanup(srv.Close)
	gw.url = srv.URL + "/webhooks/meta"
	return gw
}

func (gw *fakeGateway) received() ([]conversation.Inbound, []string) {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return append([]conversation.Inbound(nil), gw.events...), append([]string(nil), gw.failures...)
}

type testBundle struct {
	app     *fiber.App
	handler *handler
	gateway *fakeGateway
	stub    *graphstub.Server
	// graph sends through the stub as the gateway's adapter does.
	graph *meta.Adapter
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	gw := newFakeGateway(t)
	stub := graphstub.New(testAppSecret, map[string]string{pageID: pageToken, igID: igToken}, testVersion)
	stubURL := stub.Start()
	t.Cleanup(stub.Close)

	cfg := Config{
		AppSecret:  testAppSecret,
		WebhookURL: gw.url,
		Channels: []Channel{
			{Platform: conversation.Messenger, ID: pageID, Name: "Demo Store"},
			{Platform: conversation.Instagram, ID: igID, Name: "@demostore"},
		},
		Stub:      stub,
		heartbeat: 20 * time.Millisecond,
	}
	require.NoError(t, cfg.Validate())
	h := newHandler(cfg)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	h.register(app)

	return &testBundle{
		app:     app,
		handler: h,
		gateway: gw,
		stub:    stub,
		graph: meta.New(meta.Config{
			AppSecret:    testAppSecret,
			GraphURL:     stubURL,
			GraphVersion: testVersion,
			Tokens:       map[string]string{pageID: pageToken, igID: igToken},
		}),
	}
}

// postJSON POSTs body to path through app.Test and decodes the JSON answer.
func postJSON(t *testing.T, app *fiber.App, path string, body any) (int, map[string]any) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := app.Test(req, 10_000)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestSandboxSend(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		req  map[string]string
		want conversation.Inbound
	}{
		{
			name: "messenger text",
			req:  map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "Where is my order?", "kind": "message"},
			want: conversation.Inbound{
				Kind: conversation.KindMessage, Platform: conversation.Messenger, ChannelID: pageID,
				SenderID: shopperID, Text: "Where is my order?",
			},
		},
		{
			name: "instagram quick reply, kind defaulted",
			req:  map[string]string{"platform": "instagram", "sender_id": shopperID, "text": "Track order", "payload": "TRACK"},
			want: conversation.Inbound{
				Kind: conversation.KindMessage, Platform: conversation.Instagram, ChannelID: igID,
				SenderID: shopperID, Text: "Track order", Payload: "TRACK",
			},
		},
		{
			name: "messenger postback",
			req:  map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "Get started", "payload": "GET_STARTED", "kind": "postback"},
			want: conversation.Inbound{
				Kind: conversation.KindPostback, Platform: conversation.Messenger, ChannelID: pageID,
				SenderID: shopperID, Text: "Get started", Payload: "GET_STARTED",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			before := time.Now().Add(-time.Millisecond)
			status, out := postJSON(t, b.app, "/sandbox/api/send", tt.req)
			require.Equal(t, http.StatusOK, status)
			require.EqualValues(t, http.StatusOK, out["status"])
			mid, _ := out["mid"].(string)
			require.Regexp(t, `^m_sandbox_[0-9a-f]{32}$`, mid)

			events, failures := b.gateway.received()
			require.Empty(t, failures)
			require.Len(t, events, 1)
			got := events[0]
			require.WithinRange(t, got.Timestamp, before, time.Now())
			at, err := time.Parse(time.RFC3339Nano, out["at"].(string))
			require.NoError(t, err)
			require.True(t, at.Equal(got.Timestamp), "at %s, webhook timestamp %s", at, got.Timestamp)

			want := tt.want
			want.PlatformMessageID = mid
			want.Timestamp = got.Timestamp
			require.Equal(t, want, got)
		})
	}
}

func TestSandboxSendReportsGatewayStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.gateway.status.Store(http.StatusInternalServerError)

	status, out := postJSON(t, b.app, "/sandbox/api/send",
		map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "hello"})
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, http.StatusInternalServerError, out["status"])
	require.NotEmpty(t, out["mid"])
}

func TestSandboxSendGatewayUnreachable(t *testing.T) {
	t.Parallel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + ln.Addr().String() + "/webhooks/meta"
	require.NoError(t, ln.Close())

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	Register(app, Config{
		AppSecret:  testAppSecret,
		WebhookURL: closedURL,
		Channels:   []Channel{{Platform: conversation.Messenger, ID: pageID, Name: "Demo Store"}},
	})
	status, out := postJSON(t, app, "/sandbox/api/send",
		map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "hello"})
	require.Equal(t, http.StatusBadGateway, status)
	require.Contains(t, out["error"], "did not answer")
}

func TestSandboxSendRefusesBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, tt := range []struct {
		name string
		body map[string]string
	}{
		{"unknown platform", map[string]string{"platform": "whatsapp", "sender_id": shopperID, "text": "hi"}},
		{"sender id unfit for a Graph path", map[string]string{"platform": "messenger", "sender_id": "1/../me", "text": "hi"}},
		{"no sender id", map[string]string{"platform": "messenger", "text": "hi"}},
		{"empty text", map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "  "}},
		{"postback without payload", map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "Start", "kind": "postback"}},
		{"unknown kind", map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "hi", "kind": "reaction"}},
		{"unknown field", map[string]string{"platform": "messenger", "sender_id": shopperID, "text": "hi", "senderId": "1"}},
		{"text too long", map[string]string{"platform": "messenger", "sender_id": shopperID, "text": strings.Repeat("é", textMax+1)}},
	} {
		status, out := postJSON(t, b.app, "/sandbox/api/send", tt.body)
		require.Equal(t, http.StatusBadRequest, status, tt.name)
		require.NotEmpty(t, out["error"], tt.name)
	}

	// A cross-site form cannot send JSON.
	req := httptest.NewRequest(http.MethodPost, "/sandbox/api/send",
		strings.NewReader(`{"platform":"messenger","sender_id":"1","text":"hi"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := b.app.Test(req, 10_000)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)

	events, failures := b.gateway.received()
	require.Empty(t, events)
	require.Empty(t, failures)
}

func TestSandboxRead(t *testing.T) {
	t.Parallel()
	b := setup(t)

	before := time.Now().Add(-time.Millisecond)
	status, out := postJSON(t, b.app, "/sandbox/api/read", map[string]string{"platform": "instagram", "sender_id": shopperID})
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, http.StatusOK, out["status"])

	events, failures := b.gateway.received()
	require.Empty(t, failures)
	require.Len(t, events, 1)
	got := events[0]
	require.Equal(t, conversation.KindRead, got.Kind)
	require.Equal(t, conversation.Instagram, got.Platform)
	require.Equal(t, igID, got.ChannelID)
	require.Equal(t, shopperID, got.SenderID)
	require.WithinRange(t, got.Watermark, before, time.Now())
}

// sseEvent is one server-sent event; comments and events without data
// (the retry line) are skipped by readEvent.
type sseEvent struct {
	id   string
	data event
}

func readEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	var data string
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != "" {
				require.NoError(t, json.Unmarshal([]byte(data), &ev.data))
				return ev
			}
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (b *testBundle) sendAsBot(t *testing.T, platform conversation.Platform, channelID, recipientID, text string, qrs ...conversation.QuickReply) string {
	t.Helper()
	res, err := b.graph.Send(context.Background(), conversation.Outbound{
		MessageID:    1,
		Platform:     platform,
		ChannelID:    channelID,
		RecipientID:  recipientID,
		Text:         text,
		QuickReplies: qrs,
	})
	require.NoError(t, err)
	return res.PlatformMessageID
}

func TestSandboxEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go b.app.Listener(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { require.NoError(t, b.app.ShutdownWithTimeout(5*time.Second)) })

	// The backlog: one for this shopper on Messenger, and two the stream
	// must leave out (another channel, another shopper).
	greeting := b.sendAsBot(t, conversation.Messenger, pageID, shopperID, "Hi! How can I help?",
		conversation.QuickReply{Title: "Track order", Payload: "TRACK"},
		conversation.QuickReply{Title: "Returns", Payload: "RETURNS"})
	b.sendAsBot(t, conversation.Instagram, igID, shopperID, "Wrong channel")
	b.sendAsBot(t, conversation.Messenger, pageID, "999", "Wrong shopper")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := url.Values{"platform": {"messenger"}, "sender_id": {shopperID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/sandbox/api/events?"+q.Encode(), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)

	ev := readEvent(t, r)
	require.Equal(t, greeting, ev.id)
	require.Equal(t, greeting, ev.data.MessageID)
	require.Equal(t, "Hi! How can I help?", ev.data.Text)
	require.Equal(t, []quickReply{{Title: "Track order", Payload: "TRACK"}, {Title: "Returns", Payload: "RETURNS"}}, ev.data.QuickReplies)
	require.False(t, ev.data.At.IsZero())

	// Live: the sends the stream must leave out come first, so the next
	// event shows they were.
	b.sendAsBot(t, conversation.Instagram, igID, shopperID, "Wrong channel again")
	b.sendAsBot(t, conversation.Messenger, pageID, "999", "Wrong shopper again")
	reply := b.sendAsBot(t, conversation.Messenger, pageID, shopperID, "Your order ships tomorrow.")
	ev = readEvent(t, r)
	require.Equal(t, reply, ev.data.MessageID)
	require.Equal(t, "Your order ships tomorrow.", ev.data.Text)
	require.Equal(t, []quickReply{}, ev.data.QuickReplies)

	// The client goes away: a heartbeat write fails and the stream, with
	// its subscription, ends.
	require.EqualValues(t, 1, b.handler.streams.Load())
	cancel()
	resp.Body.Close()
	require.Eventually(t, func() bool { return b.handler.streams.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestSandboxEventsEndOnShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.handler.heartbeat = time.Hour // only the shutdown can end the stream

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go b.app.Listener(ln) //nolint:errcheck // ends with Shutdown

	q := url.Values{"platform": {"instagram"}, "sender_id": {shopperID}}
	resp, err := http.Get("http://" + ln.Addr().String() + "/sandbox/api/events?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Eventually(t, func() bool { return b.handler.streams.Load() == 1 }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, b.app.ShutdownWithTimeout(5*time.Second))
	require.EqualValues(t, 0, b.handler.streams.Load())
}

func TestSandboxEventsRefusesBadQuery(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, query := range []string{"platform=whatsapp&sender_id=1", "platform=messenger", "platform=messenger&sender_id=a%2Fb"} {
		resp, err := b.app.Test(httptest.NewRequest(http.MethodGet, "/sandbox/api/events?"+query, nil), 10_000)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, query)
	}
	require.EqualValues(t, 0, b.handler.streams.Load())
}

var (
	scriptTag     = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
)

func TestSandboxPage(t *testing.T) {
	t.Parallel()
	b := setup(t)

	resp, err := b.app.Test(httptest.NewRequest(http.MethodGet, "/sandbox", nil), 10_000)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	require.True(t, strings.HasPrefix(csp, "default-src 'self'"), csp)
	require.NotContains(t, csp, "unsafe-inline")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	page := string(body)

	// No inline script, handler or style: only files from /sandbox/static.
	scripts := scriptTag.FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, scripts)
	for _, m := range scripts {
		require.Contains(t, m[1], `src="sandbox/static/`)
		require.Empty(t, strings.TrimSpace(m[2]))
	}
	require.Equal(t, len(scripts), strings.Count(strings.ToLower(page), "<script"))
	require.NotContains(t, strings.ToLower(page), "<style")
	require.NotRegexp(t, inlineHandler, page)
	require.NotRegexp(t, styleAttr, page)
	require.Contains(t, page, "signed with the demo app secret")

	// The files it links are served, with the right types.
	for _, f := range []struct{ path, contentType string }{
		{"/sandbox/static/sandbox.js", "text/javascript; charset=utf-8"},
		{"/sandbox/static/sandbox.css", "text/css; charset=utf-8"},
	} {
		require.Contains(t, page, strings.TrimPrefix(f.path, "/"))
		resp, err := b.app.Test(httptest.NewRequest(http.MethodGet, f.path, nil), 10_000)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, f.path)
		require.Equal(t, f.contentType, resp.Header.Get("Content-Type"), f.path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		// Text goes in with textContent only.
		require.NotContains(t, string(data), "innerHTML")
		require.NotContains(t, string(data), "insertAdjacentHTML")
	}

	for _, path := range []string{"/sandbox/static/missing.js", "/sandbox/static/index.html"} {
		resp, err := b.app.Test(httptest.NewRequest(http.MethodGet, path, nil), 10_000)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}

	// "/sandbox/" would break the page's relative links.
	resp, err = b.app.Test(httptest.NewRequest(http.MethodGet, "/sandbox/", nil), 10_000)
	require.NoError(t, err)
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "../sandbox", resp.Header.Get("Location"))
}

func TestSandboxChannels(t *testing.T) {
	t.Parallel()
	b := setup(t)

	resp, err := b.app.Test(httptest.NewRequest(http.MethodGet, "/sandbox/api/channels", nil), 10_000)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got []channelJSON
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Equal(t, []channelJSON{
		{Platform: conversation.Messenger, ID: pageID, Name: "Demo Store"},
		{Platform: conversation.Instagram, ID: igID, Name: "@demostore"},
	}, got)
}

func TestSandboxConfigValidate(t *testing.T) {
	t.Parallel()

	valid := func() Config {
		return Config{
			AppSecret:  "s",
			WebhookURL: "http://127.0.0.1:8080/webhooks/meta",
			Channels:   []Channel{{Platform: conversation.Messenger, ID: "1"}, {Platform: conversation.Instagram, ID: "2"}},
		}
	}
	require.NoError(t, valid().Validate())

	for _, tt := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no secret", func(c *Config) { c.AppSecret = "" }, "AppSecret"},
		{"no webhook URL", func(c *Config) { c.WebhookURL = "" }, "WebhookURL"},
		{"no channels", func(c *Config) { c.Channels = nil }, "no channels"},
		{"whatsapp", func(c *Config) { c.Channels[1].Platform = conversation.WhatsApp }, "not Messenger or Instagram"},
		{"bad id", func(c *Config) { c.Channels[0].ID = "1?x" }, "invalid id"},
		{"two of a platform", func(c *Config) { c.Channels[1].Platform = conversation.Messenger }, "second messenger"},
	} {
		cfg := valid()
		tt.change(&cfg)
		require.ErrorContains(t, cfg.Validate(), tt.want, tt.name)
	}

	require.Panics(t, func() { Register(fiber.New(), Config{}) })
}
