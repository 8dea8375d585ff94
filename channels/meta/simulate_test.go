package meta

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
)

func TestSimulateRoundTrip(t *testing.T) {
	t.Parallel()

	at := time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	const (
		page    = "106385492278361"
		igAcct  = "17841452691600098"
		shopper = "5614879045272581"
	)

	tests := []struct {
		name string
		body []byte
		want conversation.Inbound
	}{
		{
			name: "messenger text",
			body: MessageWebhook(conversation.Messenger, page, shopper, "m_1", "Where is my order?", "", at),
			want: conversation.Inbound{
				Kind: conversation.KindMessage, Platform: conversation.Messenger, ChannelID: page, SenderID: shopper,
				PlatformMessageID: "m_1", Text: "Where is my order?", Timestamp: at,
			},
		},
		{
			name: "instagram quick reply",
			body: MessageWebhook(conversation.Instagram, igAcct, shopper, "aWdfZAG1", "Track order", "TRACK", at),
			want: conversation.Inbound{
				Kind: conversation.KindMessage, Platform: conversation.Instagram, ChannelID: igAcct, SenderID: shopper,
				PlatformMessageID: "aWdfZAG1", Text: "Track order", Payload: "TRACK", Timestamp: at,
			},
		},
		{
			name: "messenger postback",
			body: PostbackWebhook(conversation.Messenger, page, shopper, "m_pb", "Get started", "GET_STARTED", at),
			want: conversation.Inbound{
				Kind: conversation.KindPostback, Platform: conversation.Messenger, ChannelID: page, SenderID: shopper,
				PlatformMessageID: "m_pb", Text: "Get started", Payload: "GET_STARTED", Timestamp: at,
			},
		},
		{
			name: "instagram postback",
			body: PostbackWebhook(conversation.Instagram, igAcct, shopper, "ig_pb", "Returns", "RETURNS", at),
			want: conversation.Inbound{
				Kind: conversation.KindPostback, Platform: conversation.Instagram, ChannelID: igAcct, SenderID: shopper,
				PlatformMessageID: "ig_pb", Text: "Returns", Payload: "RETURNS", Timestamp: at,
			},
		},
		{
			name: "messenger read",
			body: ReadWebhook(conversation.Messenger, page, shopper, at),
			want: conversation.Inbound{
				Kind: conversation.KindRead, Platform: conversation.Messenger, ChannelID: page, SenderID: shopper,
				Watermark: at, Timestamp: at,
			},
		},
		{
			name: "instagram read",
			body: ReadWebhook(conversation.Instagram, igAcct, shopper, at),
			want: conversation.Inbound{
				Kind: conversation.KindRead, Platform: conversation.Instagram, ChannelID: igAcct, SenderID: shopper,
				Watermark: at, Timestamp: at,
			},
		},
		{
			name: "messenger delivery",
			body: DeliveryWebhook(conversation.Messenger, page, shopper, []string{"m_a", "m_b"}, at),
			want: conversation.Inbound{
				Kind: conversation.KindDelivery, Platform: conversation.Messenger, ChannelID: page, SenderID: shopper,
				DeliveredIDs: []string{"m_a", "m_b"}, Watermark: at, Timestamp: at,
			},
		},
		{
			name: "instagram delivery without mids",
			body: DeliveryWebhook(conversation.Instagram, igAcct, shopper, nil, at),
			want: conversation.Inbound{
				Kind: conversation.KindDelivery, Platform: conversation.Instagram, ChannelID: igAcct, SenderID: shopper,
				DeliveredIDs: []string{}, Watermark: at, Timestamp: at,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			events, skipped, err := parseWebhook(tt.body)
			require.NoError(t, err)
			require.Empty(t, skipped)
			require.Equal(t, []conversation.Inbound{tt.want}, events)

			// The exported entry point agrees.
			viaParse, err := New(Config{}).Parse(tt.body)
			require.NoError(t, err)
			require.Equal(t, events, viaParse)
		})
	}
}

// TestSimulateShape checks the JSON itself: string ids and epoch
// milliseconds, as Meta sends them, and no quick_reply when there is none.
func TestSimulateShape(t *testing.T) {
	t.Parallel()

	at := time.UnixMilli(1668022333735)
	require.JSONEq(t, `{
		"object": "page",
		"entry": [{
			"id": "111", "time": 1668022333735,
			"messaging": [{
				"sender": {"id": "222"}, "recipient": {"id": "111"}, "timestamp": 1668022333735,
				"message": {"mid": "m_x", "text": "hi"}
			}]
		}]
	}`, string(MessageWebhook(conversation.Messenger, "111", "222", "m_x", "hi", "", at)))

	require.JSONEq(t, `{
		"object": "instagram",
		"entry": [{
			"id": "111", "time": 1668022333735,
			"messaging": [{
				"sender": {"id": "222"}, "recipient": {"id": "111"}, "timestamp": 1668022333735,
				"message": {"mid": "m_x", "text": "Yes", "quick_reply": {"payload": "YES"}}
			}]
		}]
	}`, string(MessageWebhook(conversation.Instagram, "111", "222", "m_x", "Yes", "YES", at)))

	require.JSONEq(t, `{
		"object": "page",
		"entry": [{
			"id": "111", "time": 1668022333735,
			"messaging": [{
				"sender": {"id": "222"}, "recipient": {"id": "111"}, "timestamp": 1668022333735,
				"read": {"watermark": 1668022333735}
			}]
		}]
	}`, string(ReadWebhook(conversation.Messenger, "111", "222", at)))
}

func TestSimulateUnsupportedPlatformPanics(t *testing.T) {
	t.Parallel()

	require.PanicsWithValue(t, `meta: no webhook object for platform "whatsapp"`, func() {
		MessageWebhook(conversation.WhatsApp, "1", "2", "m", "hi", "", time.Now())
	})
}
