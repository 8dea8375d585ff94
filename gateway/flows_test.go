package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/orders"
)

// These tests walk each flow end to end: signed webhooks in, the bot's
// decisions, order look-ups as effects in workers, replies out through the
// Graph stand-in — with the demo store's orders imported.

// shopper chats with the gateway as one Messenger user.
type shopper struct {
	t    *testing.T
	b    *testBundle
	psid string
	n    int
	seen int
}

func newShopper(t *testing.T, b *testBundle, psid string) *shopper {
	return &shopper{t: t, b: b, psid: psid}
}

func setupWithOrders(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	f, err := os.Open("../configs/demo-orders.jsonl")
	require.NoError(t, err)
	defer f.Close()
	_, err = orders.Import(context.Background(), b.pool, f, orders.FormatJSONL, time.Now())
	require.NoError(t, err)
	return b
}

// send posts one message (a tap when payload is set) and waits for a reply
// containing want, returning everything the bot said meanwhile.
func (s *shopper) send(text, payload, want string) string {
	s.n++
	body := meta.MessageWebhook(conversation.Messenger, pageID, s.psid, fmt.Sprintf("mid.%s.%d", s.psid, s.n), text, payload, time.Now())
	return s.post(body, want)
}

func (s *shopper) say(text, want string) string { return s.send(text, "", want) }

func (s *shopper) tap(payload, title, want string) string { return s.send(title, payload, want) }

// photo sends an image attachment.
func (s *shopper) photo(url, want string) string {
	s.n++
	body := fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":1,"messaging":[{"sender":{"id":"%s"},
		"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"mid.%s.%d","attachments":[{"type":"image","payload":{"url":%q}}]}}]}]}`,
		pageID, s.psid, pageID, time.Now().UnixMilli(), s.psid, s.n, url)
	return s.post([]byte(body), want)
}

func (s *shopper) post(body []byte, want string) string {
	s.t.Helper()
	require.Equal(s.t, http.StatusOK, post(s.t, s.b.url, body))
	var said []string
	require.Eventually(s.t, func() bool {
		sent := s.b.stub.SentTo(s.psid)
		for _, m := range sent[s.seen:] {
			said = append(said, m.Text)
		}
		s.seen = len(sent)
		return strings.Contains(strings.Join(said, "\n"), want)
	}, 15*time.Second, 5*time.Millisecond, "waiting for a reply containing %q", want)
	return strings.Join(said, "\n")
}

func TestTrackingEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupWithOrders(t)
	s := newShopper(t, b, "psid-track")
	s.say("hi, where is my order #1002?", "To keep your details private")
	reply := s.say("liam.chen@example.com", "is on its way")
	require.Contains(t, reply, "#1002")
	require.Contains(t, reply, "https://", "the tracking link")
	require.Equal(t, 1, count(t, b.pool, `SELECT count(*) FROM conversations WHERE status = 'bot' AND flow_state = 'reported'`))

	// Delivered, but the shopper says it never came: a person, at high priority.
	m := newShopper(t, b, "psid-missing")
	m.say("where is my order 1007", "To keep your details private")
	row := strings.Split(readDemoOrder(t, "1007"), "\"email\":\"")[1]
	m.say(strings.Split(row, "\"")[0], "delivered")
	m.say("it never arrived", "person")
	var reason string
	var priority int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT handoff_reason, priority FROM conversations c
		JOIN identities i ON i.id = c.identity_id WHERE i.external_id = 'psid-missing' AND c.status = 'queued'`).Scan(&reason, &priority))
	require.Equal(t, "missing shipment", reason)
	require.Equal(t, conversation.PriorityHigh, priority)
}

func TestReturnEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupWithOrders(t)
	s := newShopper(t, b, "psid-return")
	s.tap("MENU_RETURN", "Return an item", "order number")
	s.say("1001", "To keep your details private")
	s.say("ana.garcia@example.com", "Which item")
	s.tap("ITEM:JEANS-SLIM-32", "Slim jeans", "reason")
	s.tap("REASON:wrong_size", "Wrong size", "How would you like us to resolve it?")
	reply := s.tap("RESOLUTION:refund", "Refund", "RMA-1001-")
	require.Contains(t, reply, "https://labels.example.com/returns/1001.pdf")

	var skus []string
	var resolution string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT skus, resolution FROM returns WHERE order_number = '1001'`).
		Scan(&skus, &resolution))
	require.Equal(t, []string{"JEANS-SLIM-32"}, skus)
	require.Equal(t, "refund", resolution)

	// The final-sale socks cannot be returned: the policy in a sentence, and a person on offer.
	f := newShopper(t, b, "psid-final")
	f.say("I want to return something from order 1001", "To keep your details private")
	f.say("ana.garcia@example.com", "Which item")
	f.tap("ITEM:SOCKS-3PK", "Wool socks", "final sale")
}

func TestDamageEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupWithOrders(t)
	s := newShopper(t, b, "psid-damage")
	s.say("my t-shirt arrived damaged", "order number")
	s.say("order 1001", "To keep your details private")
	s.say("ana.garcia@example.com", "Which item")
	s.tap("ITEM:TEE-ORG-BLU-M", "T-shirt", "photo")
	s.photo("https://cdn.example.com/tee.jpg", "packaging")
	s.photo("https://cdn.example.com/box.jpg", "what's wrong")
	s.say("the collar is torn", "replacement or a refund")
	s.tap("DAMAGE:replacement", "Replacement", "approved a replacement")

	var evidence []string
	var status, resolution string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT evidence_urls, status, resolution FROM damage_cases`).
		Scan(&evidence, &status, &resolution))
	require.Equal(t, []string{"https://cdn.example.com/tee.jpg", "https://cdn.example.com/box.jpg"}, evidence)
	require.Equal(t, "approved", status)
	require.Equal(t, "replacement", resolution)
}

func TestHandoffFromAnyFlowCarriesASummary(t *testing.T) {
	t.Parallel()
	b := setupWithOrders(t)
	s := newShopper(t, b, "psid-agent")
	s.tap("MENU_RETURN", "Return an item", "order number")
	s.say("1001", "To keep your details private")
	s.say("can I talk to a real person?", "passing you to a person")

	var raw []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT handoff_summary FROM conversations WHERE status = 'queued'`).Scan(&raw))
	var summary conversation.HandoffSummary
	require.NoError(t, json.Unmarshal(raw, &summary))
	require.Equal(t, "1001", summary.Order)
	require.Equal(t, conversation.Messenger, summary.Channel)
	require.NotEmpty(t, summary.LastMessages)
	require.Equal(t, "can I talk to a real person?", summary.LastMessages[len(summary.LastMessages)-1].Text)
}

func readDemoOrder(t *testing.T, number string) string {
	t.Helper()
	b, err := os.ReadFile("../configs/demo-orders.jsonl")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"number":"`+number+`"`) {
			return line
		}
	}
	t.Fatalf("no demo order %s", number)
	return ""
}
