package gateway_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/gateway"
	"github.com/frontdesk/frontdesk/store/storetest"
)

const (
	appSecret = "test-app-secret"
	pageID    = "1000001"
	igID      = "1784001"
)

func testConfig(graphURL string) gateway.Config {
	cfg, err := gateway.Parse([]byte(fmt.Sprintf(`
store_name: Acme
meta:
  graph_url: %s
  channels:
    - {platform: messenger, id: "%s", name: Acme Page, token_env: PAGE_TOKEN}
    - {platform: instagram, id: "%s", name: "@acme", token_env: IG_TOKEN}
bot:
  policies:
    # Every message gets an answer: the ordering test counts them.
    handoff_after_misunderstood: 0
outbox:
  workers: 8
  retry_base: 20ms
  job_timeout: 2s
  rescue_after: 3s
`, graphURL, pageID, igID)), func(name string) string {
		return map[string]string{
			"META_APP_SECRET": appSecret, "META_VERIFY_TOKEN": "verify-me",
			"PAGE_TOKEN": "page-token", "IG_TOKEN": "ig-token",
		}[name]
	})
	if err != nil {
		panic(err)
	}
	return cfg
}

// newStub starts a strict Graph API stand-in for the test config's channels.
func newStub(t *testing.T) (*graphstub.Server, string) {
	stub := graphstub.New(appSecret, map[string]string{pageID: "page-token", igID: "ig-token"}, "v23.0")
	url := stub.Start()
	t.Cleanup(stub.Close)
	return stub, url
}

// startGateway runs a gateway process (in-process, with its own pool and
// workers) on pool's database and returns its base URL.
func startGateway(t *testing.T, dbURL string, cfg gateway.Config) string {
	t.Helper()
	ctx := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).WithContext(context.Background())
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	gw, err := gateway.New(ctx, cfg, pool)
	require.NoError(t, err)
	require.NoError(t, gw.Start(ctx))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go gw.Serve(ln) //nolint:errcheck // ends at Shutdown
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, gw.Shutdown(ctx))
		pool.Close()
	})
	return "http://" + ln.Addr().String()
}

type testBundle struct {
	pool *pgxpool.Pool
	url  string
	stub *graphstub.Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, dbURL := storetest.NewDB(t)
	stub, graphURL := newStub(t)
	return &testBundle{pool: pool, stub: stub, url: startGateway(t, dbURL, testConfig(graphURL))}
}

// post sends a webhook body signed as Meta signs it and returns the status.
func post(t *testing.T, url string, body []byte) int {
	t.Helper()
	return postSigned(t, url, body, meta.Sign(appSecret, body))
}

func postSigned(t *testing.T, url string, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/meta", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	return resp.StatusCode
}

func message(sender, mid, text string) []byte {
	return meta.MessageWebhook(conversation.Messenger, pageID, sender, mid, text, "", time.Now())
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 5*time.Millisecond, what)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestWebhookVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := func(query string) (int, string) {
		resp, err := http.Get(b.url + "/webhooks/meta?" + query)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "1158201444", body)
	status, _ = get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = get("hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1")
	require.Equal(t, http.StatusForbidden, status)
}

func TestMessageIsAnsweredAndReceiptsMoveStatusForward(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, post(t, b.url, message("psid-1", "mid.1", "hello")))

	waitFor(t, "greeting sent", func() bool { return len(b.stub.SentTo("psid-1")) == 1 })
	sent := b.stub.SentTo("psid-1")[0]
	require.Contains(t, sent.Text, "automated assistant of Acme")
	require.Equal(t, "RESPONSE", sent.MessagingType)
	require.Len(t, sent.QuickReplies, 4)
	require.Equal(t, pageID, sent.ChannelID)

	waitFor(t, "reply marked sent", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent' AND platform_message_id = $1`, sent.MessageID) == 1
	})
	require.Equal(t, http.StatusOK, post(t, b.url, meta.DeliveryWebhook(conversation.Messenger, pageID, "psid-1", []string{sent.MessageID}, time.Now())))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE status = 'delivered'`))
	// Meta's watermark is its own time for the last message read: the
	// moment it accepted ours.
	require.Equal(t, http.StatusOK, post(t, b.url, meta.ReadWebhook(conversation.Messenger, pageID, "psid-1", sent.At)))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE status = 'read' AND read_at IS NOT NULL`))
	// A late delivery receipt never moves a read message back.
	require.Equal(t, http.StatusOK, post(t, b.url, meta.DeliveryWebhook(conversation.Messenger, pageID, "psid-1", []string{sent.MessageID}, time.Now())))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE status = 'read'`))

	waitFor(t, "profile fetched once", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM customers WHERE display_name LIKE 'Demo Shopper%'`) == 1
	})
}

func TestInstagramMessageIsAnsweredOnInstagram(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := meta.MessageWebhook(conversation.Instagram, igID, "igsid-1", "ig.mid.1", "I want a HUMAN", "", time.Now())
	require.Equal(t, http.StatusOK, post(t, b.url, body))
	waitFor(t, "hand-off acknowledged", func() bool { return len(b.stub.SentTo("igsid-1")) == 1 })
	require.Equal(t, igID, b.stub.SentTo("igsid-1")[0].ChannelID)
	require.Contains(t, b.stub.SentTo("igsid-1")[0].Text, "passing you to a person")
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM conversations WHERE status = 'queued' AND handoff_reason = 'asked for a person'`))

	// Handed off: the bot stays quiet, the message waits for an agent.
	require.Equal(t, http.StatusOK, post(t, b.url, meta.MessageWebhook(conversation.Instagram, igID, "igsid-1", "ig.mid.2", "hello?", "", time.Now())))
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Never(t, func() bool { return len(b.stub.SentTo("igsid-1")) > 1 }, 300*time.Millisecond, 20*time.Millisecond)
}

func TestSignatureIsRequired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := message("psid-1", "mid.1", "hello")
	require.Equal(t, http.StatusUnauthorized, postSigned(t, b.url, body, ""))
	require.Equal(t, http.StatusForbidden, postSigned(t, b.url, body, "sha1=0123456789abcdef0123456789abcdef01234567"))
	require.Equal(t, http.StatusForbidden, postSigned(t, b.url, body, meta.Sign("another secret", body)))
	require.Equal(t, http.StatusForbidden, postSigned(t, b.url, body, meta.Sign(appSecret, append(body, ' '))))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM messages`))
}

// The signature covers the body as sent. A compressed body is refused
// before anything inflates it: signed over its plain text it would
// otherwise pass, and a small one can inflate to gigabytes.
func TestCompressedBodyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := message("psid-1", "mid.1", "hello")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	for _, signed := range [][]byte{body, gz.Bytes()} {
		req, err := http.NewRequest(http.MethodPost, b.url+"/webhooks/meta", bytes.NewReader(gz.Bytes()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, signed))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	}
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM messages`))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM webhook_failures`))
}

func TestOversizedBodyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The gateway answers 413 on the declared length and closes the
	// connection without reading 10 MB, so the request is written by hand
	// and the answer read before the body is sent.
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	body := bytes.Repeat([]byte("x"), 10<<20)
	fmt.Fprintf(conn, "POST /webhooks/meta HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"+
		"X-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n", meta.Sign(appSecret, body), len(body))
	go conn.Write(body) //nolint:errcheck // the gateway may close before reading it
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM messages`))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM webhook_failures`))
}

// Events of kinds Frontdesk does not use are acknowledged and skipped:
// no conversation, no quarantine.
func TestUnusedEventIsSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	optin := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%[1]s","time":1,"messaging":[
		{"sender":{"id":"psid-1"},"recipient":{"id":"%[1]s"},"timestamp":1,"optin":{"ref":"spring-sale"}}]}]}`, pageID))
	require.Equal(t, http.StatusOK, post(t, b.url, optin))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM conversations`))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM webhook_failures`))
}

func TestUnreadableBodyIsKeptAndAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, post(t, b.url, []byte(`{"object":"page","entry":`)))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM webhook_failures WHERE source = 'meta'`))
	// One bad event does not hold back the good one next to it.
	mixed := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":1,"messaging":[
		{"sender":{"id":{"bad":1}},"recipient":{"id":"%s"},"timestamp":1,"message":{"mid":"mid.bad","text":"x"}},
		{"sender":{"id":"psid-mixed"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"mid.good","text":"hi"}}]}]}`,
		pageID, pageID, pageID, time.Now().UnixMilli()))
	require.Equal(t, http.StatusOK, post(t, b.url, mixed))
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM webhook_failures`))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE platform_message_id = 'mid.good'`))
	waitFor(t, "the good event is answered", func() bool { return len(b.stub.SentTo("psid-mixed")) == 1 })
	// Text that PostgreSQL would refuse is cleaned, not a poison pill.
	poison := message("psid-2", "mid.poison", "bad \x00 byte \xff here")
	require.Equal(t, http.StatusOK, post(t, b.url, poison))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE platform_message_id = 'mid.poison' AND body = 'bad  byte '||chr(65533)||' here'`))
}

func TestDuplicatesStoreOneMessageAndSendOneReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sequential := message("psid-seq", "mid.seq", "hello")
	for range 3 {
		require.Equal(t, http.StatusOK, post(t, b.url, sequential))
	}
	concurrent := message("psid-con", "mid.con", "hello")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { require.Equal(t, http.StatusOK, post(t, b.url, concurrent)) })
	}
	wg.Wait()

	for _, psid := range []string{"psid-seq", "psid-con"} {
		waitFor(t, "reply to "+psid, func() bool { return len(b.stub.SentTo(psid)) >= 1 })
	}
	require.Never(t, func() bool {
		return len(b.stub.SentTo("psid-seq")) > 1 || len(b.stub.SentTo("psid-con")) > 1
	}, 500*time.Millisecond, 20*time.Millisecond, "a duplicate was answered twice")
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'out'`))
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM customers`))
}

// TestOneConversationOneOrder posts 50 messages of one shopper at once to
// two gateway processes on one database: every message is stored and
// handled once, one at a time, so the result equals handling them one by
// one in commit order — the first is greeted, the other 49 get the menu again.
func TestOneConversationOneOrder(t *testing.T) {
	t.Parallel()
	pool, dbURL := storetest.NewDB(t)
	stub, graphURL := newStub(t)
	urls := []string{startGateway(t, dbURL, testConfig(graphURL)), startGateway(t, dbURL, testConfig(graphURL))}

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := message("psid-busy", fmt.Sprintf("mid.busy.%d", i), fmt.Sprintf("message %d", i))
			require.Equal(t, http.StatusOK, post(t, urls[i%2], body))
		})
	}
	wg.Wait()

	require.Equal(t, n, count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Equal(t, n, count(t, pool, `SELECT events_applied FROM conversations`))
	require.Equal(t, n, count(t, pool, `SELECT count(DISTINCT seq) FROM messages WHERE direction = 'in' AND seq BETWEEN 1 AND $1`, n))
	// Each inbound message has exactly one reply, written in the same transaction.
	require.Equal(t, 0, count(t, pool, `SELECT count(*) FROM messages i WHERE i.direction = 'in'
		AND (SELECT count(*) FROM messages o WHERE o.in_reply_to = i.id) <> 1`))
	// Handling was sequential: only the message applied first was greeted.
	var firstReply string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT o.body FROM messages o
		JOIN messages i ON i.id = o.in_reply_to WHERE i.seq = 1`).Scan(&firstReply))
	require.Contains(t, firstReply, "automated assistant")
	require.Equal(t, n-1, count(t, pool, `SELECT count(*) FROM messages o JOIN messages i ON i.id = o.in_reply_to
		WHERE i.seq > 1 AND o.body LIKE 'Sorry, I didn''t catch that%'`))

	waitFor(t, "all replies delivered", func() bool { return len(stub.SentTo("psid-busy")) >= n })
	require.Never(t, func() bool { return len(stub.SentTo("psid-busy")) > n }, 300*time.Millisecond, 20*time.Millisecond)
	require.Equal(t, n, count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'`))
}

func TestTransientGraphErrorsAreRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Script("psid-retry", graphstub.Response{Status: 500}, graphstub.Response{Status: 500})
	require.Equal(t, http.StatusOK, post(t, b.url, message("psid-retry", "mid.r", "hello")))
	waitFor(t, "reply delivered after two failures", func() bool { return len(b.stub.SentTo("psid-retry")) == 1 })
	waitFor(t, "reply marked sent", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'`) == 1
	})
	// The dispatcher's try failed, so did River's first; its second sent.
	require.Equal(t, 3, count(t, b.pool, `SELECT attempt + (args->>'tried')::int FROM river_job WHERE kind = 'send_messages'`))
	require.Never(t, func() bool { return len(b.stub.SentTo("psid-retry")) > 1 }, 300*time.Millisecond, 20*time.Millisecond)
}

// TestOneShopperFailingDoesNotHoldBackAnother sends one webhook carrying
// two shoppers' messages: their replies are dispatched together, and a
// failure to reach one shopper neither delays nor repeats the reply to the
// other.
func TestOneShopperFailingDoesNotHoldBackAnother(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Script("psid-flaky", graphstub.Response{Status: 500})
	body := sameDelivery(t, message("psid-flaky", "mid.flaky", "hello"), message("psid-fine", "mid.fine", "hello"))
	require.Equal(t, http.StatusOK, post(t, b.url, body))

	waitFor(t, "reply to the reachable shopper", func() bool { return len(b.stub.SentTo("psid-fine")) == 1 })
	waitFor(t, "reply to the other after a retry", func() bool { return len(b.stub.SentTo("psid-flaky")) == 1 })
	// Only the failed reply went to River, and its first attempt there sent it.
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))
	require.Equal(t, 1, count(t, b.pool, `SELECT jsonb_array_length(args->'message_ids') FROM river_job WHERE kind = 'send_messages'`))
	require.Equal(t, 2, count(t, b.pool, `SELECT attempt + (args->>'tried')::int FROM river_job WHERE kind = 'send_messages'`))
	require.Never(t, func() bool {
		return len(b.stub.SentTo("psid-fine")) > 1 || len(b.stub.SentTo("psid-flaky")) > 1
	}, 300*time.Millisecond, 20*time.Millisecond, "the retry sent again what had been sent")
}

// sameDelivery joins webhook bodies into one, as Meta batches the entries
// of one page.
func sameDelivery(t *testing.T, bodies ...[]byte) []byte {
	t.Helper()
	var joined struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	for _, body := range bodies {
		var w struct {
			Object string            `json:"object"`
			Entry  []json.RawMessage `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(body, &w))
		joined.Object = w.Object
		joined.Entry = append(joined.Entry, w.Entry...)
	}
	out, err := json.Marshal(joined)
	require.NoError(t, err)
	return out
}

func TestExpiredTokenFailsVisiblyWithoutRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Script("psid-190", graphstub.Response{Code: 190, Message: "Error validating access token: Session has expired"})
	require.Equal(t, http.StatusOK, post(t, b.url, message("psid-190", "mid.190", "hello")))
	waitFor(t, "reply failed", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'failed' AND failure_reason LIKE '%190%'`) == 1
	})
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM channels WHERE external_id = $1 AND needs_reauth`, pageID))
	require.Equal(t, 0, count(t, b.pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`), "no retry after 190")
	require.Empty(t, b.stub.SentTo("psid-190"))
}

func TestEchoesAreStoredNeverAnswered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, post(t, b.url, message("psid-echo", "mid.e1", "hello")))
	waitFor(t, "greeting", func() bool { return len(b.stub.SentTo("psid-echo")) == 1 })
	ours := b.stub.SentTo("psid-echo")[0]
	// Meta echoes our own reply, and a person answering in Meta's inbox.
	require.Equal(t, http.StatusOK, post(t, b.url, echo("psid-echo", ours.MessageID, ours.Text, ours.Metadata)))
	require.Equal(t, http.StatusOK, post(t, b.url, echo("psid-echo", "m_inbox_1", "Hi, Dana from Acme here", "")))
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM messages WHERE author = 'agent' AND body = 'Hi, Dana from Acme here' AND status = 'sent'`))
	require.Equal(t, 2, count(t, b.pool, `SELECT count(*) FROM messages WHERE direction = 'out'`), "our own echo is not stored twice")
	require.Never(t, func() bool { return len(b.stub.SentTo("psid-echo")) > 1 }, 300*time.Millisecond, 20*time.Millisecond)
}

func echo(recipient, mid, text, metadata string) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":1,"messaging":[{"sender":{"id":"%s"},
		"recipient":{"id":"%s"},"timestamp":%d,"message":{"is_echo":true,"app_id":1517776481860111,
		"metadata":%q,"mid":"%s","text":%q}}]}]}`, pageID, pageID, recipient, time.Now().UnixMilli(), metadata, mid, text))
}

// TestRepliesOfOneConversationKeepTheirOrder holds the Graph API's answer
// to a shopper's first reply: the reply to their second message, though
// committed and dispatched, waits for it, and they arrive in order.
func TestRepliesOfOneConversationKeepTheirOrder(t *testing.T) {
	t.Parallel()
	pool, dbURL := storetest.NewDB(t)
	stub, stubURL := newStub(t)
	graphURL, held, releaseSend := holdFirstSend(t, stubURL)
	url := startGateway(t, dbURL, testConfig(graphURL))

	require.Equal(t, http.StatusOK, post(t, url, message("psid-order", "mid.o1", "hello")))
	<-held
	require.Equal(t, http.StatusOK, post(t, url, message("psid-order", "mid.o2", "what?")))
	waitFor(t, "both replies written", func() bool {
		return count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`) == 2
	})
	require.Never(t, func() bool { return len(stub.SentTo("psid-order")) > 0 }, 300*time.Millisecond, 10*time.Millisecond,
		"the second reply overtook the first")
	releaseSend()
	waitFor(t, "both replies sent", func() bool { return len(stub.SentTo("psid-order")) == 2 })
	sent := stub.SentTo("psid-order")
	require.Contains(t, sent[0].Text, "automated assistant")
	require.NotContains(t, sent[1].Text, "automated assistant")
}

// holdFirstSend serves the Graph API stand-in at stubURL through a proxy
// that holds the first Send API call until release is called (or the test
// ends); held is closed once that call has arrived.
func holdFirstSend(t *testing.T, stubURL string) (graphURL string, held <-chan struct{}, release func()) {
	target, err := url.Parse(stubURL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	arrived, released := make(chan struct{}), make(chan struct{})
	var sends atomic.Int32
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && sends.Add(1) == 1 {
			close(arrived)
			<-released
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(graph.Close)
	var once sync.Once
	release = func() { once.Do(func() { close(released) }) }
	t.Cleanup(release) // runs before graph.Close, which waits for the held call
	return graph.URL, arrived, release
}

// TestLapsedClaimIsRescued writes a reply as a process that died before
// sending it would leave it: queued, its claim lapsed, no job. The rescue
// job hands it to River, which sends it once.
func TestLapsedClaimIsRescued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, post(t, b.url, message("psid-orphan", "mid.orphan", "hello")))
	waitFor(t, "greeting", func() bool { return len(b.stub.SentTo("psid-orphan")) == 1 })
	_, err := b.pool.Exec(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind,
			platform, body, status, rescue_at)
		SELECT conversation_id, 'out', 'bot', 'message', 'messenger', 'left behind', 'queued', now() - interval '1 second'
		FROM messages WHERE platform_message_id = 'mid.orphan'`)
	require.NoError(t, err)
	waitFor(t, "orphan sent", func() bool { return len(b.stub.SentTo("psid-orphan")) == 2 })
	require.Equal(t, "left behind", b.stub.SentTo("psid-orphan")[1].Text)
	require.Never(t, func() bool { return len(b.stub.SentTo("psid-orphan")) > 2 }, 1500*time.Millisecond, 20*time.Millisecond)
}

// TestRepliesOfOneCommitGoInOneBatch: a webhook bringing six shoppers'
// messages is applied in one transaction, and their replies reach the
// Graph API in one batch request.
func TestRepliesOfOneCommitGoInOneBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var bodies [][]byte
	for i := range 6 {
		bodies = append(bodies, message(fmt.Sprintf("psid-batch-%d", i), fmt.Sprintf("mid.batch-%d", i), "hello"))
	}
	require.Equal(t, http.StatusOK, post(t, b.url, sameDelivery(t, bodies...)))
	for i := range 6 {
		waitFor(t, "every shopper answered", func() bool { return len(b.stub.SentTo(fmt.Sprintf("psid-batch-%d", i))) == 1 })
	}
	require.Equal(t, []int{6}, b.stub.BatchSizes())
}

// TestBusySendersHandRepliesToRiver gives the dispatcher one sender (and a
// queue of four) and holds the Graph API's first answer while a webhook
// brings eight shoppers' messages: what the dispatcher cannot take goes to
// River at once, and every shopper gets one reply once the API answers.
func TestBusySendersHandRepliesToRiver(t *testing.T) {
	t.Parallel()
	pool, dbURL := storetest.NewDB(t)
	stub, stubURL := newStub(t)
	graphURL, held, releaseSend := holdFirstSend(t, stubURL)
	cfg := testConfig(graphURL)
	cfg.Outbox.Workers = 1
	url := startGateway(t, dbURL, cfg)

	require.Equal(t, http.StatusOK, post(t, url, message("psid-busy-0", "mid.busy-0", "hello")))
	<-held // the one sender is taken
	var bodies [][]byte
	for i := 1; i < 8; i++ {
		bodies = append(bodies, message(fmt.Sprintf("psid-busy-%d", i), fmt.Sprintf("mid.busy-%d", i), "hello"))
	}
	require.Equal(t, http.StatusOK, post(t, url, sameDelivery(t, bodies...)))
	// At once: well before any claim could lapse (rescue_after is 3s).
	require.Eventually(t, func() bool {
		return count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages' AND args->>'tried' IS NULL`) > 0
	}, time.Second, 10*time.Millisecond, "the replies the dispatcher could not take were not handed to River")
	releaseSend()
	for i := range 8 {
		waitFor(t, "every shopper answered", func() bool { return len(stub.SentTo(fmt.Sprintf("psid-busy-%d", i))) == 1 })
	}
	require.Never(t, func() bool {
		for i := range 8 {
			if len(stub.SentTo(fmt.Sprintf("psid-busy-%d", i))) > 1 {
				return true
			}
		}
		return false
	}, 500*time.Millisecond, 20*time.Millisecond, "a reply was sent twice")
}
