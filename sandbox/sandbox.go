// Package sandbox is a web page where a person chats with the store's bot as
// a shopper on Messenger or Instagram, without a Meta app or phone.
//
// It goes through the real path: what the person types becomes a webhook
// body built as Meta builds it (meta.MessageWebhook…), signed with the app
// secret as Meta signs it, and POSTed to the gateway's own webhook endpoint.
// The gateway handles it like any other delivery and answers through the
// Graph Send API, which the demo configuration points at graphstub; the page
// follows the stub's accepted sends to the shopper as server-sent events.
//
// The sandbox sends whatever the page asks to the webhook endpoint with a
// valid signature, so it belongs only in demo deployments whose app secret
// is not a real Meta app's.
package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
)

// static holds the page and its script and style sheet. The page has no
// inline script or style, so it works under Content-Security-Policy
// default-src 'self'.
//
//go:embed static
var static embed.FS

// pageFile is the page served at /sandbox; it is not served under
// /sandbox/static/, where its relative links would not resolve.
const pageFile = "index.html"

// contentSecurityPolicy is set on the page: scripts, styles and connections
// (fetch, EventSource) only from this origin, nothing inline.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Limits on what the page may send. Meta's own limit on a shopper's text is
// larger; these keep a sandbox message within what a reply can quote.
const (
	textMax     = 2000 // runes
	payloadMax  = 1000 // runes
	senderIDMax = 64   // bytes
)

const (
	defaultHTTPTimeout = 10 * time.Second
	heartbeatInterval  = 15 * time.Second
	// gatewayBodyMax is how much of the gateway's answer is read (and
	// discarded) so that its connection can be reused.
	gatewayBodyMax = 64 << 10
)

// Channel is a store account the shopper can write to.
type Channel struct {
	// Platform is conversation.Messenger or conversation.Instagram.
	Platform conversation.Platform
	// ID is the Page id or Instagram account id, as in the gateway's
	// configuration and the stub's tokens.
	ID string
	// Name is shown in the channel switcher.
	Name string
}

// Config is what the sandbox needs.
type Config struct {
	// AppSecret signs webhooks as Meta does: it must be the gateway's.
	AppSecret string
	// WebhookURL is the gateway's own POST /webhooks/meta, e.g.
	// http://127.0.0.1:8080/webhooks/meta.
	WebhookURL string
	// Channels are the accounts the page offers, at most one per platform
	// (the page names a channel by its platform).
	Channels []Channel
	// Stub is where the gateway's Send API calls land; the page shows the
	// sends it accepts. Without it the page can send but shows no replies.
	Stub *graphstub.Server
	// HTTPClient posts webhooks; nil means a client with a 10 s timeout.
	HTTPClient *http.Client

	// heartbeat overrides heartbeatInterval, for tests.
	heartbeat time.Duration
}

// Validate reports the first problem that would keep the sandbox from
// working: a missing secret or webhook URL, no channels, a channel without
// an id or of a platform other than Messenger and Instagram, or two channels
// of one platform.
func (c Config) Validate() error {
	if c.AppSecret == "" {
		return errors.New("sandbox: AppSecret is empty: webhooks would be refused")
	}
	if c.WebhookURL == "" {
		return errors.New("sandbox: WebhookURL is empty")
	}
	if len(c.Channels) == 0 {
		return errors.New("sandbox: no channels")
	}
	seen := make(map[conversation.Platform]bool, len(c.Channels))
	for i, ch := range c.Channels {
		switch {
		case ch.Platform != conversation.Messenger && ch.Platform != conversation.Instagram:
			return fmt.Errorf("sandbox: channel %d: platform %q is not Messenger or Instagram", i, ch.Platform)
		case !validID(ch.ID):
			return fmt.Errorf("sandbox: channel %d: invalid id %q", i, ch.ID)
		case seen[ch.Platform]:
			return fmt.Errorf("sandbox: channel %d: a second %s channel", i, ch.Platform)
		}
		seen[ch.Platform] = true
	}
	return nil
}

// Register adds the sandbox routes to r:
//
//	GET  /sandbox                the page
//	GET  /sandbox/static/*       its script and style sheet
//	GET  /sandbox/api/channels   the channels, [{platform, id, name}]
//	POST /sandbox/api/send       {platform, sender_id, text, payload, kind} → a signed message or postback webhook
//	POST /sandbox/api/read       {platform, sender_id} → a signed read receipt up to now
//	GET  /sandbox/api/events     ?platform=&sender_id=: the stub's sends to the shopper as server-sent events
//
// It panics if cfg is invalid (see Config.Validate); callers that must
// handle the error call Validate first.
func Register(r fiber.Router, cfg Config) {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	newHandler(cfg).register(r)
}

type handler struct {
	cfg       Config
	client    *http.Client
	channels  map[conversation.Platform]Channel
	heartbeat time.Duration
	// streams counts open event streams; tests read it to see that a
	// stream ends when its client goes away.
	streams atomic.Int64
}

func newHandler(cfg Config) *handler {
	h := &handler{
		cfg:       cfg,
		client:    cfg.HTTPClient,
		channels:  make(map[conversation.Platform]Channel, len(cfg.Channels)),
		heartbeat: cfg.heartbeat,
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if h.heartbeat <= 0 {
		h.heartbeat = heartbeatInterval
	}
	for _, ch := range cfg.Channels {
		h.channels[ch.Platform] = ch
	}
	return h
}

func (h *handler) register(r fiber.Router) {
	r.Get("/sandbox", h.page)
	r.Get("/sandbox/static/*", h.staticFile)
	r.Get("/sandbox/api/channels", h.listChannels)
	r.Post("/sandbox/api/send", h.send)
	r.Post("/sandbox/api/read", h.read)
	r.Get("/sandbox/api/events", h.events)
}

func (h *handler) page(c *fiber.Ctx) error {
	// The page links its files relatively ("sandbox/static/…"), which
	// resolves only from ".../sandbox", so "/sandbox/" is redirected. A
	// relative target keeps a router prefix and cannot leave the host.
	if strings.HasSuffix(c.Path(), "/") {
		return c.Redirect("../sandbox", fiber.StatusMovedPermanently)
	}
	body, err := static.ReadFile("static/" + pageFile)
	if err != nil {
		return fmt.Errorf("read sandbox page: %w", err)
	}
	setSecurityHeaders(c)
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Type("html", "utf-8")
	return c.Send(body)
}

func (h *handler) staticFile(c *fiber.Ctx) error {
	name := c.Params("*")
	if name == pageFile || !fs.ValidPath(name) {
		return fiber.ErrNotFound
	}
	body, err := static.ReadFile("static/" + name)
	if err != nil {
		return fiber.ErrNotFound
	}
	setSecurityHeaders(c)
	ct, ok := staticTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ct)
	// The files change with the binary; revalidating each load is cheap
	// enough for a demo and never serves a stale script.
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(body)
}

// staticTypes are the Content-Types of the static files, fixed here rather
// than read from the system's MIME tables, which differ between machines.
var staticTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
}

func setSecurityHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
}

type channelJSON struct {
	Platform conversation.Platform `json:"platform"`
	ID       string                `json:"id"`
	Name     string                `json:"name"`
}

func (h *handler) listChannels(c *fiber.Ctx) error {
	out := make([]channelJSON, 0, len(h.cfg.Channels))
	for _, ch := range h.cfg.Channels {
		out = append(out, channelJSON{Platform: ch.Platform, ID: ch.ID, Name: ch.Name})
	}
	return c.JSON(out)
}

// sendRequest is the body of POST /sandbox/api/send. Kind is "message" (the
// default; Payload makes it a quick-reply tap) or "postback" (Text is the
// button's title).
type sendRequest struct {
	Platform conversation.Platform `json:"platform"`
	SenderID string                `json:"sender_id"`
	Text     string                `json:"text"`
	Payload  string                `json:"payload"`
	Kind     string                `json:"kind"`
}

// sendResponse reports the gateway's answer to the webhook: Status is its
// HTTP status, which the page shows as an error unless it is 200. At is the message's time in the webhook, by the server's clock, which
// also times the bot's replies.
type sendResponse struct {
	Status int       `json:"status"`
	MID    string    `json:"mid,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

type errorResponse struct {
	Error string `json:"error"`
}

func (h *handler) send(c *fiber.Ctx) error {
	var req sendRequest
	if ferr := decodeJSON(c, &req); ferr != nil {
		return replyError(c, ferr)
	}
	ch, ferr := h.shopperChannel(req.Platform, req.SenderID)
	if ferr != nil {
		return replyError(c, ferr)
	}
	if utf8.RuneCountInString(req.Text) > textMax {
		return replyError(c, badRequest(fmt.Sprintf("text is longer than %d characters", textMax)))
	}
	if utf8.RuneCountInString(req.Payload) > payloadMax {
		return replyError(c, badRequest(fmt.Sprintf("payload is longer than %d characters", payloadMax)))
	}

	mid := newMID()
	now := time.Now().UTC().Truncate(time.Millisecond) // as precise as the webhook
	var body []byte
	switch req.Kind {
	case "", "message":
		if strings.TrimSpace(req.Text) == "" {
			return replyError(c, badRequest("text is empty"))
		}
		body = meta.MessageWebhook(ch.Platform, ch.ID, req.SenderID, mid, req.Text, req.Payload, now)
	case "postback":
		if req.Payload == "" {
			return replyError(c, badRequest("a postback needs a payload"))
		}
		body = meta.PostbackWebhook(ch.Platform, ch.ID, req.SenderID, mid, req.Text, req.Payload, now)
	default:
		return replyError(c, badRequest(`kind must be "message" or "postback"`))
	}

	status, err := h.deliver(c.UserContext(), body)
	if err != nil {
		return h.deliverFailed(c, err)
	}
	return c.JSON(sendResponse{Status: status, MID: mid, At: now})
}

// readRequest is the body of POST /sandbox/api/read.
type readRequest struct {
	Platform conversation.Platform `json:"platform"`
	SenderID string                `json:"sender_id"`
}

func (h *handler) read(c *fiber.Ctx) error {
	var req readRequest
	if ferr := decodeJSON(c, &req); ferr != nil {
		return replyError(c, ferr)
	}
	ch, ferr := h.shopperChannel(req.Platform, req.SenderID)
	if ferr != nil {
		return replyError(c, ferr)
	}
	status, err := h.deliver(c.UserContext(), meta.ReadWebhook(ch.Platform, ch.ID, req.SenderID, time.Now()))
	if err != nil {
		return h.deliverFailed(c, err)
	}
	return c.JSON(sendResponse{Status: status})
}

// deliver signs body and POSTs it to the webhook endpoint, returning the
// endpoint's HTTP status. It fails only when no answer came.
func (h *handler) deliver(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", meta.Sign(h.cfg.AppSecret, body))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, gatewayBodyMax)) //nolint:errcheck // only drained for reuse
	if resp.StatusCode != http.StatusOK {
		zerolog.Ctx(ctx).Warn().Int("status", resp.StatusCode).Msg("Sandbox webhook not accepted")
	}
	return resp.StatusCode, nil
}

func (h *handler) deliverFailed(c *fiber.Ctx, err error) error {
	zerolog.Ctx(c.UserContext()).Warn().Err(err).Msg("Failed to deliver sandbox webhook")
	return c.Status(fiber.StatusBadGateway).JSON(errorResponse{Error: "the webhook endpoint did not answer: " + err.Error()})
}

// event is one send to the shopper, as the page receives it.
type event struct {
	Text string `json:"text"`
	// Attachment is set for a file sent by link, which has no text.
	Attachment   *graphstub.SentAttachment `json:"attachment,omitempty"`
	QuickReplies []quickReply              `json:"quick_replies"`
	MessageID    string                    `json:"message_id"`
	At           time.Time                 `json:"at"`
}

type quickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

func newEvent(s graphstub.Sent) event {
	qrs := make([]quickReply, 0, len(s.QuickReplies))
	for _, qr := range s.QuickReplies {
		qrs = append(qrs, quickReply{Title: qr.Title, Payload: qr.Payload})
	}
	return event{Text: s.Text, Attachment: s.Attachment, QuickReplies: qrs, MessageID: s.MessageID, At: s.At}
}

// events streams the stub's sends from the platform's channel to the
// shopper: first those already made, then each new one, with a comment line
// every heartbeat so that a vanished client is noticed (a failed write ends
// the stream and its subscription). The stream also ends when the server
// shuts down or the stub closes; EventSource then reconnects, and the page
// drops the backlog events it has already shown, by id.
func (h *handler) events(c *fiber.Ctx) error {
	ch, ferr := h.shopperChannel(conversation.Platform(c.Query("platform")), c.Query("sender_id"))
	if ferr != nil {
		return replyError(c, ferr)
	}
	if h.cfg.Stub == nil {
		return replyError(c, fiber.NewError(fiber.StatusServiceUnavailable, "no Graph API stand-in configured: replies go to Meta"))
	}
	// Query values live in fasthttp's buffers, reused once the handler
	// returns; the stream outlives it.
	senderID := strings.Clone(c.Query("sender_id"))
	channelID := ch.ID
	done := c.Context().Done() // closed on server shutdown

	// Subscribe before reading the backlog so that nothing falls between;
	// a send seen in both is written once.
	live, cancel := h.cfg.Stub.Subscribe()
	backlog := h.cfg.Stub.SentTo(senderID)
	h.streams.Add(1)

	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no") // a proxy in front must not buffer
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.streams.Add(-1)
		defer cancel()
		h.stream(w, done, live, backlog, channelID, senderID)
	})
	return nil
}

func (h *handler) stream(w *bufio.Writer, done <-chan struct{}, live <-chan graphstub.Sent, backlog []graphstub.Sent, channelID, senderID string) {
	// Written without checking: a failure shows at the first Flush.
	w.WriteString("retry: 2000\n\n") //nolint:errcheck
	shown := make(map[string]bool, len(backlog))
	for _, s := range backlog {
		if s.ChannelID == channelID {
			shown[s.MessageID] = true
			writeEvent(w, newEvent(s))
		}
	}
	if w.Flush() != nil {
		return
	}

	ticker := time.NewTicker(h.heartbeat)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case s, ok := <-live:
			if !ok {
				return // the stub closed
			}
			if s.ChannelID != channelID || s.RecipientID != senderID || shown[s.MessageID] {
				continue
			}
			writeEvent(w, newEvent(s))
		case <-ticker.C:
			w.WriteString(": ping\n\n") //nolint:errcheck
		}
		if w.Flush() != nil {
			return // the client went away
		}
	}
}

// writeEvent writes ev as a server-sent event with its message id as the
// event id. JSON has no raw newlines, so it fits one data line; a message
// id from the stub ("m_<n>") has none either.
func writeEvent(w *bufio.Writer, ev event) {
	data, err := json.Marshal(ev)
	if err != nil {
		return // strings and a time in range: cannot happen
	}
	w.WriteString("id: " + ev.MessageID + "\ndata: ") //nolint:errcheck
	w.Write(data)                                     //nolint:errcheck
	w.WriteString("\n\n")                             //nolint:errcheck
}

// shopperChannel returns the channel of platform after checking senderID.
func (h *handler) shopperChannel(platform conversation.Platform, senderID string) (Channel, *fiber.Error) {
	ch, ok := h.channels[platform]
	if !ok {
		return Channel{}, badRequest(fmt.Sprintf("no sandbox channel for platform %q", platform))
	}
	if !validID(senderID) {
		return Channel{}, badRequest("sender_id must be 1 to 64 letters, digits, '_' or '-'")
	}
	return ch, nil
}

// validID reports whether id can be a shopper or channel id: what the Meta
// adapter accepts in a Graph URL path, at most 64 bytes.
func validID(id string) bool {
	return len(id) <= senderIDMax && meta.ValidPathID(id)
}

// decodeJSON decodes the request body into v. It insists on a JSON
// Content-Type: a cross-site form cannot send one without a CORS preflight,
// which this API never grants.
func decodeJSON(c *fiber.Ctx, v any) *fiber.Error {
	ct, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if ct != fiber.MIMEApplicationJSON {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	return nil
}

func badRequest(msg string) *fiber.Error {
	return fiber.NewError(fiber.StatusBadRequest, msg)
}

// replyError answers an API request with {"error": message} and the
// error's status, whatever the app's error handler would do: the page
// reads the message.
func replyError(c *fiber.Ctx, err *fiber.Error) error {
	return c.Status(err.Code).JSON(errorResponse{Error: err.Message})
}

// newMID returns a message id for a sandbox message, as unique as Meta's.
func newMID() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails.
	return "m_sandbox_" + hex.EncodeToString(b)
}
