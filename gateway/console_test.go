package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/handoff/browsertest"
)

// These tests take a hand-off over from the agent's side against a whole
// gateway: the bot hands a shopper off through a signed webhook, an agent
// works the conversation in the console (in headless Chromium) or through
// the JSON API, and every reply leaves through the outbox workers to the
// Graph stand-in.

// consolePassword is every console test agent's password.
const consolePassword = "correct horse battery"

// newConsoleAgent adds an agent to the gateway's database as `frontdesk
// agent add` would.
func newConsoleAgent(t *testing.T, b *testBundle, email, name string, role handoff.Role) handoff.AgentInfo {
	t.Helper()
	a, err := handoff.CreateAgent(context.Background(), b.pool, handoff.AgentInput{
		Email: email, Name: name, Role: string(role), Password: consolePassword,
	})
	require.NoError(t, err)
	return a
}

// handedOffConversation waits until the shopper's conversation is in the
// queue and returns its id.
func handedOffConversation(t *testing.T, b *testBundle, psid string) int64 {
	t.Helper()
	var id int64
	waitFor(t, "the conversation of "+psid+" is queued", func() bool {
		err := b.pool.QueryRow(context.Background(), `SELECT c.id FROM conversations c JOIN identities i ON i.id = c.identity_id
			WHERE i.external_id = $1 AND c.status = 'queued'`, psid).Scan(&id)
		return err == nil
	})
	return id
}

// sentWithText returns the sends to psid with exactly this text.
func sentWithText(stub *graphstub.Server, psid, text string) []graphstub.Sent {
	var out []graphstub.Sent
	for _, s := range stub.SentTo(psid) {
		if s.Text == text {
			out = append(out, s)
		}
	}
	return out
}

// requireCSATQuestion checks the satisfaction question the stand-in got.
func requireCSATQuestion(t *testing.T, q graphstub.Sent) {
	t.Helper()
	require.Equal(t, "RESPONSE", q.MessagingType)
	require.Empty(t, q.Tag)
	require.Equal(t, pageID, q.ChannelID)
	require.Len(t, q.QuickReplies, 5)
	for i, qr := range q.QuickReplies {
		require.Equal(t, "text", qr.ContentType)
		require.Equal(t, fmt.Sprint(i+1), qr.Title)
		require.Equal(t, fmt.Sprintf("CSAT_%d", i+1), qr.Payload)
	}
}

// --- The browser ---------------------------------------------------------

// consoleTab is one headless Chromium tab. Script exceptions and console
// errors (a Content-Security-Policy violation is one) are collected.
type consoleTab struct {
	t        *testing.T
	ctx      context.Context
	problems func() []string
}

// openConsoleTab starts a headless Chromium for the test, or skips the test
// when there is none. Call it before setup, so that the gateway shuts down
// before the browser goes.
func openConsoleTab(t *testing.T) *consoleTab {
	t.Helper()
	ctx, problems := browsertest.Start(t, 2*time.Minute)
	return &consoleTab{t: t, ctx: ctx, problems: problems}
}

// consoleStepTimeout bounds each group of browser steps: a selector that
// never appears fails the test instead of hanging it.
const consoleStepTimeout = 20 * time.Second

// do runs browser steps and fails the test on an error.
func (tab *consoleTab) do(steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, consoleStepTimeout)
	defer cancel()
	require.NoError(tab.t, chromedp.Do(ctx, steps...))
}

func (tab *consoleTab) text(sel string) string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, consoleStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, browsertest.Text(sel))
	require.NoError(tab.t, err, sel)
	return s
}

func (tab *consoleTab) title() string {
	tab.t.Helper()
	s, err := chromedp.Run(tab.ctx, chromedp.Title())
	require.NoError(tab.t, err)
	return s
}

func (tab *consoleTab) eval(expr string) bool {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](expr))
	require.NoError(tab.t, err, expr)
	return v
}

// until waits for a JavaScript condition to hold in the page.
func (tab *consoleTab) until(what, expr string) {
	tab.t.Helper()
	_, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(tab.t, err, what)
}

func (tab *consoleTab) seen() []string { return tab.problems() }

func shown(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func TestConsoleBrowserTakesOverAHandOff(t *testing.T) {
	t.Parallel()
	tab := openConsoleTab(t)
	b := setup(t)
	newConsoleAgent(t, b, "ana.lima@acme.example", "Ana Lima", handoff.RoleAdmin)

	// Sign in; the queue opens, empty, and goes live.
	tab.do(
		chromedp.Navigate(b.url+"/console/queue"),
		shown(`#email`),
		chromedp.SendKeys(chromedp.CSS(`#email`), "ana.lima@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`#password`), consolePassword),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
		shown(`#queue-live .empty`),
		shown(`body[data-live-state="on"]`),
	)
	require.Equal(t, "Queue · Frontdesk", tab.title())
	// A mark on this page's window: it is gone if the page reloads.
	require.True(t, tab.eval(`(window.stillThisPage = true)`))

	// A shopper asks for a person; the bot hands off while the page is open.
	const psid = "psid-console-browser"
	s := newShopper(t, b, psid)
	s.say("I want to talk to a person", "passing you to a person")
	id := handedOffConversation(t, b, psid)
	entry := fmt.Sprintf(`.entry[data-id="%d"]`, id)
	tab.do(shown(entry))
	require.True(t, tab.eval(`window.stillThisPage === true`), "the entry appeared without a reload")
	require.Contains(t, tab.text(entry+` .preview`), "I want to talk to a person")
	tab.until("the title counts one unclaimed", `document.title === '(1) Queue · Frontdesk'`)

	// j selects it, c claims it and opens the thread.
	tab.do(
		chromedp.KeyEvent("j"),
		shown(entry+`.selected`),
		chromedp.KeyEvent("c"),
		shown(`#thread-head[data-status="assigned"]`),
		shown(`body[data-live-state="on"]`),
	)
	require.Equal(t, "Assigned", tab.text(`#conversation-status`))
	history := tab.text(`#timeline`)
	require.Contains(t, history, "I want to talk to a person")
	require.Contains(t, history, "passing you to a person", "the bot's hand-off message")
	require.Contains(t, history, "Ana Lima claimed the conversation")
	var status string
	var assignee *int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, assignee_id FROM conversations WHERE id = $1`, id).Scan(&status, &assignee))
	require.Equal(t, "assigned", status)
	require.NotNil(t, assignee)

	// A reply goes out through the outbox to the Graph stand-in, within
	// the 24-hour window: messaging type RESPONSE, no tag.
	const reply = "Hi, Ana here from Acme. What can I do for you?"
	before := len(b.stub.SentTo(psid))
	tab.do(
		chromedp.SendKeys(chromedp.CSS(`#reply-text`), reply),
		chromedp.Click(chromedp.CSS(`#send`)),
		shown(`.flash.notice`),
		shown(`.msg.out.a-agent .delivery`),
	)
	require.True(t, tab.eval(`(window.stillThisPage = true)`))
	require.Equal(t, reply, tab.text(`.msg.out.a-agent .bubble`))
	waitFor(t, "the reply reaches the stand-in", func() bool { return len(sentWithText(b.stub, psid, reply)) == 1 })
	sent := sentWithText(b.stub, psid, reply)[0]
	require.Equal(t, "RESPONSE", sent.MessagingType)
	require.Empty(t, sent.Tag)
	require.Equal(t, pageID, sent.ChannelID)
	require.Empty(t, sent.QuickReplies)
	require.Len(t, b.stub.SentTo(psid), before+1, "the reply and nothing else")
	waitFor(t, "the reply is marked sent", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'agent'
			AND status = 'sent' AND platform_message_id = $2`, id, sent.MessageID) == 1
	})
	// The outbox announces the delivery state: the open thread shows
	// "sent" without a reload.
	tab.do(shown(`.msg.out.a-agent .delivery.d-sent`))
	require.True(t, tab.eval(`window.stillThisPage === true`), "the delivery state appeared without a reload")

	// An internal note: shown in the thread, never sent.
	const note = "Shopper sounds unsure about the size; offered an exchange"
	sends := len(b.stub.SentTo(psid))
	tab.do(
		chromedp.SendKeys(chromedp.CSS(`#note-text`), note),
		chromedp.Click(chromedp.CSS(`#add-note`)),
		shown(`.timeline .note`),
	)
	require.Equal(t, note, tab.text(`.timeline .note .bubble`))
	require.Contains(t, tab.text(`.timeline .note .author`), "Ana Lima")
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM notes WHERE conversation_id = $1`, id))
	require.Never(t, func() bool { return len(b.stub.SentTo(psid)) > sends }, 500*time.Millisecond, 20*time.Millisecond,
		"a note never reaches the shopper")
	for _, m := range b.stub.Sent() {
		require.NotContains(t, m.Text, "offered an exchange")
	}

	// Resolve: the thread shows it, the satisfaction question goes out.
	tab.do(
		shown(`body[data-live-state="on"]`),
		browsertest.Click(`#resolve`),
		shown(`#thread-head[data-status="resolved"]`),
		shown(`body[data-live-state="on"]`),
	)
	require.Equal(t, "Resolved", tab.text(`#conversation-status`))
	require.Contains(t, tab.text(`.flash.notice`), "satisfaction question")
	waitFor(t, "the satisfaction question reaches the stand-in", func() bool {
		return len(sentWithText(b.stub, psid, handoff.DefaultCSATQuestion)) == 1
	})
	requireCSATQuestion(t, sentWithText(b.stub, psid, handoff.DefaultCSATQuestion)[0])

	// The shopper taps 4: the score is kept, the shopper thanked, and the
	// open thread shows the rating without a reload.
	require.True(t, tab.eval(`(window.stillThisPage = true)`))
	s.tap("CSAT_4", "4", conversation.CSATThanks)
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM conversations WHERE id = $1 AND csat_score = 4 AND status = 'resolved'`, id))
	require.Len(t, sentWithText(b.stub, psid, conversation.CSATThanks), 1)
	tab.until("the thread shows the rating", `(document.querySelector('#thread-head .csat') || {}).textContent === 'Rated 4/5'`)
	require.True(t, tab.eval(`window.stillThisPage === true`), "the rating appeared without a reload")

	// Back on the queue, nobody is waiting.
	tab.do(
		chromedp.Navigate(b.url+"/console/queue"),
		shown(`#queue-live .empty`),
	)
	require.Empty(t, tab.seen(), "the pages ran without script errors or policy violations")
}

// --- The JSON API ----------------------------------------------------------

// consoleClient calls the console and its API as one agent: with a session
// cookie after signIn, or with a bearer token. It never follows redirects.
type consoleClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	bearer string
}

func newConsoleClient(t *testing.T, base string) *consoleClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &consoleClient{t: t, base: base, http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signIn posts the sign-in form, as the console's own page would.
func (c *consoleClient) signIn(email string) {
	c.t.Helper()
	status, body := c.form("/console/login", url.Values{"email": {email}, "password": {consolePassword}})
	require.Equal(c.t, http.StatusSeeOther, status, body)
}

func (c *consoleClient) do(req *http.Request, headers []string) (int, string) {
	c.t.Helper()
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(body)
}

// form posts a form; headers are name, value pairs.
func (c *consoleClient) form(path string, values url.Values, headers ...string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(values.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, headers)
}

func (c *consoleClient) get(path string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	return c.do(req, nil)
}

// api calls the JSON API; body may be nil, out too.
func (c *consoleClient) api(method, path string, body, out any, headers ...string) (int, string) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, r)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, resp := c.do(req, headers)
	if out != nil && status < 300 {
		require.NoError(c.t, json.Unmarshal([]byte(resp), out), resp)
	}
	return status, resp
}

// liveEvents opens the API's event stream and waits until it listens. The
// stream closes when the test ends, before the gateway shuts down.
func (c *consoleClient) liveEvents() <-chan map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/events", nil)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	events := make(chan map[string]any, 100)
	go func() {
		defer resp.Body.Close()
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev map[string]any
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev
				}
			}
		}
	}()
	nextEvent(c.t, events, func(ev map[string]any) bool { return ev["type"] == "ready" })
	return events
}

// nextEvent waits for an event that match accepts, skipping others.
func nextEvent(t *testing.T, events <-chan map[string]any, match func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the event stream ended")
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no matching live event within 15s")
		}
	}
}

// about matches the live event of type typ about conversation id.
func about(typ string, id int64) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		cid, _ := ev["conversation_id"].(float64)
		return ev["type"] == typ && int64(cid) == id
	}
}

// decodeAPIError reads the API's error body.
func decodeAPIError(t *testing.T, body string) handoff.Error {
	t.Helper()
	var e handoff.Error
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}

type apiConversation struct {
	Conversation handoff.ConversationInfo `json:"conversation"`
}

func TestConsoleAPITakesOverAHandOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	// An admin signs in and gives an integration a token acting as Ana.
	newConsoleAgent(t, b, "root@acme.example", "Root", handoff.RoleAdmin)
	admin := newConsoleClient(t, b.url)
	admin.signIn("root@acme.example")
	var ana handoff.AgentInfo
	status, body := admin.api(http.MethodPost, "/agents", handoff.AgentInput{
		Email: "ana@acme.example", Name: "Ana", Role: string(handoff.RoleAgent), Password: consolePassword,
	}, &ana)
	require.Equal(t, http.StatusCreated, status, body)
	var created struct {
		Token string            `json:"token"`
		Info  handoff.TokenInfo `json:"info"`
	}
	status, body = admin.api(http.MethodPost, "/tokens", handoff.TokenInput{Name: "Helpdesk sync", AgentID: ana.ID, ExpiresInDays: 30}, &created)
	require.Equal(t, http.StatusCreated, status, body)
	require.True(t, strings.HasPrefix(created.Token, "fda_"))
	api := newConsoleClient(t, b.url)
	api.bearer = created.Token
	var me handoff.Actor
	status, body = api.api(http.MethodGet, "/me", nil, &me)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, ana.ID, me.ID)

	// Bo, another agent, works the console in a browser session.
	newConsoleAgent(t, b, "bo@acme.example", "Bo", handoff.RoleAgent)
	boClient := newConsoleClient(t, b.url)
	boClient.signIn("bo@acme.example")

	// The hand-off arrives live on the event stream, then in the queue.
	events := api.liveEvents()
	const psid = "psid-console-api"
	s := newShopper(t, b, psid)
	s.say("I want to talk to a person", "passing you to a person")
	id := handedOffConversation(t, b, psid)
	nextEvent(t, events, about("handoff", id))
	var queue handoff.QueueView
	status, body = api.api(http.MethodGet, "/queue", nil, &queue)
	require.Equal(t, http.StatusOK, status, body)
	require.Len(t, queue.Entries, 1)
	require.Equal(t, id, queue.Entries[0].ConversationID)
	require.Equal(t, "queued", queue.Entries[0].Status)
	require.Equal(t, "messenger", queue.Entries[0].Channel)
	require.Contains(t, queue.Entries[0].Preview, "I want to talk to a person")
	require.Equal(t, 1, queue.Counts.Unassigned)

	// Ana claims it; Bo, a moment later, is told it is taken.
	var claimed apiConversation
	claim := fmt.Sprintf("/conversations/%d/claim", id)
	status, body = api.api(http.MethodPost, claim, nil, &claimed)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "assigned", claimed.Conversation.Status)
	require.NotNil(t, claimed.Conversation.Assignee)
	require.Equal(t, ana.ID, claimed.Conversation.Assignee.ID)
	nextEvent(t, events, about("assignment", id))
	status, body = boClient.api(http.MethodPost, claim, nil, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Equal(t, handoff.CodeAlreadyClaimed, decodeAPIError(t, body).Code)
	require.Contains(t, decodeAPIError(t, body).Message, "Ana")

	// Another site cannot make the admin's browser act, cookie or not.
	status, body = admin.api(http.MethodPost, fmt.Sprintf("/conversations/%d/notes", id), map[string]string{"text": "from evil"}, nil,
		"Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, status, body)
	require.Equal(t, handoff.CodeCrossOrigin, decodeAPIError(t, body).Code)
	status, _ = admin.form(fmt.Sprintf("/console/conversations/%d/notes", id), url.Values{"text": {"from evil"}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = boClient.form(fmt.Sprintf("/console/conversations/%d/unassign", id), nil,
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM notes`))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'assigned' AND assignee_id = $2`, id, ana.ID))

	// The shopper writes markup; the console shows it as text.
	s.n++
	require.Equal(t, http.StatusOK, post(t, b.url, message(psid, fmt.Sprintf("mid.%s.%d", psid, s.n), "<script>alert(1)</script> hello?")))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND body LIKE '<script>%'`, id))
	nextEvent(t, events, about("message", id))
	status, page := boClient.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Equal(t, http.StatusOK, status, page)
	require.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt; hello?")
	require.NotContains(t, page, "<script>alert(1)")
	require.Equal(t, 1, strings.Count(page, "<script"), "only the console's own script tag")

	// Ana's reply leaves through the outbox, within the 24-hour window.
	const reply = "Hi, this is Ana from Acme. How can I help?"
	var replied handoff.ReplyResult
	status, body = api.api(http.MethodPost, fmt.Sprintf("/conversations/%d/messages", id), map[string]string{"text": reply}, &replied)
	require.Equal(t, http.StatusCreated, status, body)
	require.False(t, replied.Claimed, "already hers")
	require.False(t, replied.HumanAgentTag)
	nextEvent(t, events, about("message", id))
	waitFor(t, "the reply reaches the stand-in", func() bool { return len(sentWithText(b.stub, psid, reply)) == 1 })
	sent := sentWithText(b.stub, psid, reply)[0]
	require.Equal(t, "RESPONSE", sent.MessagingType)
	require.Empty(t, sent.Tag)
	require.Equal(t, pageID, sent.ChannelID)
	thread := func() handoff.ThreadView {
		t.Helper()
		var v handoff.ThreadView
		status, body := api.api(http.MethodGet, fmt.Sprintf("/conversations/%d", id), nil, &v)
		require.Equal(t, http.StatusOK, status, body)
		return v
	}
	waitFor(t, "the thread shows the reply sent", func() bool {
		for _, e := range thread().Timeline {
			if e.MessageID == replied.MessageID {
				return e.Status == "sent" && e.Author == "agent" && e.Agent == "Ana" && e.Text == reply
			}
		}
		return false
	})
	// Bo may not answer a shopper Ana holds.
	status, body = boClient.api(http.MethodPost, fmt.Sprintf("/conversations/%d/messages", id), map[string]string{"text": "me too"}, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Equal(t, handoff.CodeHeldByOther, decodeAPIError(t, body).Code)

	// An internal note stays internal.
	const note = "Shopper asked twice; keep it short"
	sends := len(b.stub.SentTo(psid))
	var noted struct {
		NoteID int64 `json:"note_id"`
	}
	status, body = api.api(http.MethodPost, fmt.Sprintf("/conversations/%d/notes", id), map[string]string{"text": note}, &noted)
	require.Equal(t, http.StatusCreated, status, body)
	require.NotZero(t, noted.NoteID)
	nextEvent(t, events, about("message", id))
	var notes []handoff.TimelineEntry
	for _, e := range thread().Timeline {
		if e.Kind == "note" {
			notes = append(notes, e)
		}
	}
	require.Len(t, notes, 1)
	require.Equal(t, note, notes[0].Text)
	require.Equal(t, "Ana", notes[0].Agent)
	require.Never(t, func() bool { return len(b.stub.SentTo(psid)) > sends }, 500*time.Millisecond, 20*time.Millisecond,
		"a note never reaches the shopper")
	for _, m := range b.stub.Sent() {
		require.NotContains(t, m.Text, "keep it short")
	}

	// Resolve: the satisfaction question goes out.
	var resolved struct {
		Conversation handoff.ConversationInfo `json:"conversation"`
		Result       handoff.ResolveResult    `json:"result"`
	}
	status, body = api.api(http.MethodPost, fmt.Sprintf("/conversations/%d/resolve", id), nil, &resolved)
	require.Equal(t, http.StatusOK, status, body)
	require.True(t, resolved.Result.CSATQueued, body)
	require.Equal(t, "resolved", resolved.Conversation.Status)
	require.NotNil(t, resolved.Conversation.CSATRequestedAt)
	nextEvent(t, events, about("status", id))
	waitFor(t, "the satisfaction question reaches the stand-in", func() bool {
		return len(sentWithText(b.stub, psid, handoff.DefaultCSATQuestion)) == 1
	})
	requireCSATQuestion(t, sentWithText(b.stub, psid, handoff.DefaultCSATQuestion)[0])
	// Resolved is final for Bo too.
	status, body = boClient.api(http.MethodPost, claim, nil, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Equal(t, handoff.CodeNotHandedOff, decodeAPIError(t, body).Code)

	// The shopper taps 4: kept, thanked, and the stream says so.
	s.tap("CSAT_4", "4", conversation.CSATThanks)
	nextEvent(t, events, about("message", id))
	var score *int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT csat_score FROM conversations WHERE id = $1`, id).Scan(&score))
	require.NotNil(t, score)
	require.Equal(t, 4, *score)
	v := thread()
	require.Equal(t, "resolved", v.Conversation.Status)
	require.NotNil(t, v.Conversation.CSATScore)
	require.Equal(t, 4, *v.Conversation.CSATScore)
	require.Len(t, sentWithText(b.stub, psid, conversation.CSATThanks), 1)
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM conversations`), "the rating did not open a new conversation")
}
