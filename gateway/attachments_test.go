package gateway_test

import (
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

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/handoff"
)

// signInForFiles creates an agent and returns an HTTP client signed in to
// the console as them (the JSON API takes the session cookie too).
func signInForFiles(t *testing.T, b *testBundle) *http.Client {
	t.Helper()
	const email, password = "ana@shop.example", "correct horse battery"
	_, err := handoff.CreateAgent(context.Background(), b.pool, handoff.AgentInput{
		Email: email, Name: "Ana", Role: string(handoff.RoleAgent), Password: password,
	})
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.PostForm(b.url+"/console/login", url.Values{"email": {email}, "password": {password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return client
}

// postFileReply posts an agent's reply through the console's JSON API and
// returns the outbound message id.
func postFileReply(t *testing.T, client *http.Client, base string, conversationID int64, body map[string]any) int64 {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := client.Post(fmt.Sprintf("%s/api/v1/conversations/%d/messages", base, conversationID), "application/json", bytes.NewReader(data))
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(answer))
	var res handoff.ReplyResult
	require.NoError(t, json.Unmarshal(answer, &res))
	return res.MessageID
}

// TestAgentRepliesDeliverFilesByLink: an agent's reply with files, queued
// through the console API, goes out through the outbox as the text and
// then one Send API message per file, all tagged with the reply's id.
func TestAgentRepliesDeliverFilesByLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const psid = "psid-files"
	require.Equal(t, http.StatusOK, post(t, b.url, message(psid, "mid.files.1", "I want a HUMAN")))
	waitFor(t, "hand-off acknowledged", func() bool { return len(b.stub.SentTo(psid)) == 1 })
	var conversationID int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM conversations WHERE status = 'queued'`).Scan(&conversationID))
	client := signInForFiles(t, b)

	id := postFileReply(t, client, b.url, conversationID, map[string]any{
		"text": "Here is your return label, and how to pack the vase.",
		"attachments": []map[string]string{
			{"url": "https://shop.example/labels/RMA-7.pdf"},
			{"type": "image", "url": "https://cdn.example/packing"},
		},
	})
	waitFor(t, "text and files sent", func() bool { return len(b.stub.SentTo(psid)) == 4 })
	sent := b.stub.SentTo(psid)[1:]
	require.Equal(t, "Here is your return label, and how to pack the vase.", sent[0].Text)
	require.Nil(t, sent[0].Attachment)
	require.Equal(t, &graphstub.SentAttachment{Type: "file", URL: "https://shop.example/labels/RMA-7.pdf"}, sent[1].Attachment)
	require.Equal(t, &graphstub.SentAttachment{Type: "image", URL: "https://cdn.example/packing"}, sent[2].Attachment)
	for i, s := range sent {
		require.Equal(t, conversation.OutboundMetadata(conversation.MessageID(id), i+1, len(sent)), s.Metadata)
		require.Equal(t, "RESPONSE", s.MessagingType)
		require.Equal(t, pageID, s.ChannelID)
	}
	waitFor(t, "reply marked sent with the last message's id", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'sent' AND platform_message_id = $2`,
			id, sent[2].MessageID) == 1
	})

	// Files alone.
	id = postFileReply(t, client, b.url, conversationID, map[string]any{"attachments": []map[string]string{{"url": "https://cdn.example/unboxing.mp4"}}})
	waitFor(t, "file sent", func() bool { return len(b.stub.SentTo(psid)) == 5 })
	last := b.stub.SentTo(psid)[4]
	require.Empty(t, last.Text)
	require.Equal(t, &graphstub.SentAttachment{Type: "video", URL: "https://cdn.example/unboxing.mp4"}, last.Attachment)
	waitFor(t, "file-only reply marked sent", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'sent' AND platform_message_id = $2`,
			id, last.MessageID) == 1
	})

	// A file Meta cannot fetch fails the reply visibly, after the text went out.
	b.stub.Script(psid, graphstub.Response{}, graphstub.Response{Code: 100, Subcode: 2018008, Message: "(#100) Failed to fetch the file from the url"})
	id = postFileReply(t, client, b.url, conversationID, map[string]any{
		"text": "And the invoice.", "attachments": []map[string]string{{"url": "https://shop.example/gone.pdf"}},
	})
	waitFor(t, "reply failed", func() bool {
		return count(t, b.pool, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'failed'
			AND failure_reason LIKE 'part 2 of 2 (earlier parts were sent): 100/2018008%'`, id) == 1
	})
	require.Len(t, b.stub.SentTo(psid), 6)
	require.True(t, strings.HasPrefix(b.stub.SentTo(psid)[5].Text, "And the invoice."))
}
