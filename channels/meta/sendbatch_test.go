package meta_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
)

// TestSendBatch: messages to several shoppers of one page go in one batch
// request, each call signed by the batch's token and proof, and each
// message gets its own message id. A long text still goes as its parts,
// in order, and another channel's message in a request of its own.
func TestSendBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)

	outs := []conversation.Outbound{
		messengerOut("psid-1", "one"),
		messengerOut("psid-2", "two"),
		messengerOut("psid-3", strings.Repeat("long ", 500)), // 2,500 characters: two parts
		messengerOut("psid-4", "four"),
		{MessageID: 43, Platform: conversation.Instagram, ChannelID: testIGID, RecipientID: "igsid-1", Text: "five", Author: conversation.AuthorBot},
	}
	outs[1].QuickReplies = []conversation.QuickReply{{Title: "Track my order", Payload: "TRACK"}}
	results, errs := b.adapter.SendBatch(t.Context(), outs)
	for i, err := range errs {
		require.NoError(t, err, "message %d", i)
	}

	var batches []graphRequest
	for _, r := range b.requests {
		if r.Path == "/"+testVersion+"/" {
			batches = append(batches, r)
		}
	}
	require.Len(t, batches, 1, "the page's three short messages in one request")
	require.Len(t, b.requests, 1+2+1, "and the long one's two parts and Instagram's message on their own")
	batch := batches[0]
	require.Equal(t, "Bearer "+testPageToken, batch.Authorization)
	require.Equal(t, proof(testAppSecret, testPageToken), batch.Form.Get("appsecret_proof"))
	var calls []map[string]string
	require.NoError(t, json.Unmarshal([]byte(batch.Form.Get("batch")), &calls))
	require.Len(t, calls, 3)
	for _, c := range calls {
		require.Equal(t, "POST", c["method"])
		require.Equal(t, testPageID+"/messages", c["relative_url"])
		require.NotContains(t, c["body"], testPageToken)
	}

	for i, out := range outs {
		sent := b.stub.SentTo(out.RecipientID)
		require.NotEmpty(t, sent, "message %d", i)
		require.Equal(t, sent[len(sent)-1].MessageID, results[i].PlatformMessageID, "message %d", i)
		require.Equal(t, "RESPONSE", sent[0].MessagingType)
		require.Equal(t, "frontdesk:"+out.MessageID.String(), sent[len(sent)-1].Metadata)
	}
	require.Len(t, b.stub.SentTo("psid-3"), 2)
	require.Equal(t, []graphstub.QuickReply{{ContentType: "text", Title: "Track my order", Payload: "TRACK"}},
		b.stub.SentTo("psid-2")[0].QuickReplies)
}

// TestSendBatchErrors: one call of a batch failing fails that message
// alone, classified as Send's error would be; the others are sent.
func TestSendBatchErrors(t *testing.T) {
	runSendErrorCases(t, func(t *testing.T, b *testBundle, tt sendErrorCase) {
		results, errs := b.adapter.SendBatch(t.Context(), []conversation.Outbound{
			messengerOut("psid-before", "hello"), messengerOut(testPSID, "hello"), messengerOut("psid-after", "hello"),
		})
		require.Len(t, b.requests, 1)
		require.NoError(t, errs[0])
		require.NoError(t, errs[2])
		require.NotEmpty(t, results[0].PlatformMessageID)
		require.NotEmpty(t, results[2].PlatformMessageID)
		require.Error(t, errs[1])
		require.NotContains(t, errs[1].Error(), testPageToken)
		require.Empty(t, b.stub.SentTo(testPSID))
		meta.RequireClass(t, errs[1], tt.want, tt.reason, tt.after)
	})
}

// TestSendBatchRefused: when the batch request itself is refused, every
// message of it has that error.
func TestSendBatchRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.cfg
	cfg.Tokens = map[string]string{testPageID: "EAAWrongToken"}
	var outs []conversation.Outbound
	for i := range 3 {
		outs = append(outs, messengerOut(fmt.Sprintf("psid-%d", i), "hello"))
	}
	_, errs := meta.New(cfg).SendBatch(t.Context(), outs)
	for _, err := range errs {
		require.ErrorIs(t, err, channels.ErrReauthorize)
		require.NotContains(t, err.Error(), "EAAWrongToken")
	}
	require.Empty(t, b.stub.Sent())
}
