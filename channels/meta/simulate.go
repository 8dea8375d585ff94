package meta

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/conversation"
)

// This file builds webhook bodies as Meta sends them, for the sandbox, the
// load generator and tests: ids are JSON strings, times epoch milliseconds,
// and each body holds one entry with one messaging event. Sign a body with
// Sign to send it to POST /webhooks/meta.
//
// Every builder panics when platform is neither conversation.Messenger nor
// conversation.Instagram: that is a programming error, as no other platform
// arrives on Meta's messaging webhook. Times must be after 1970 (Parse
// refuses earlier ones); the zero time is not "now".

// MessageWebhook returns the webhook for a text message mid from senderID to
// channelID (a Page id for Messenger, an Instagram account id for
// Instagram), sent at at. A non-empty quickReplyPayload makes it the tap of
// a quick reply: Meta sends the reply's title as text and its payload in
// message.quick_reply.
func MessageWebhook(platform conversation.Platform, channelID, senderID, mid, text, quickReplyPayload string, at time.Time) []byte {
	msg := &simMessage{MID: mid, Text: text}
	if quickReplyPayload != "" {
		msg.QuickReply = &simQuickReply{Payload: quickReplyPayload}
	}
	return simWebhook(platform, channelID, at, simEvent{
		Sender:    simParty{ID: senderID},
		Recipient: simParty{ID: channelID},
		Timestamp: at.UnixMilli(),
		Message:   msg,
	})
}

// PostbackWebhook returns the webhook for a tap at at on a postback button
// titled title with payload, as message mid.
func PostbackWebhook(platform conversation.Platform, channelID, senderID, mid, title, payload string, at time.Time) []byte {
	return simWebhook(platform, channelID, at, simEvent{
		Sender:    simParty{ID: senderID},
		Recipient: simParty{ID: channelID},
		Timestamp: at.UnixMilli(),
		Postback:  &simPostback{MID: mid, Title: title, Payload: payload},
	})
}

// ReadWebhook returns the read receipt saying that senderID has read every
// message channelID sent up to watermark, which is also the event's time.
//
// Both platforms get Messenger's form, read.watermark. Instagram itself
// sends read.mid (the last message seen) instead; Parse reads either, and a
// watermark says what the sandbox means without knowing a mid.
func ReadWebhook(platform conversation.Platform, channelID, senderID string, watermark time.Time) []byte {
	return simWebhook(platform, channelID, watermark, simEvent{
		Sender:    simParty{ID: senderID},
		Recipient: simParty{ID: channelID},
		Timestamp: watermark.UnixMilli(),
		Read:      &simRead{Watermark: watermark.UnixMilli()},
	})
}

// DeliveryWebhook returns the delivery receipt saying that the messages mids
// (may be empty), and every message channelID sent before watermark, reached
// senderID. The event's time is watermark.
func DeliveryWebhook(platform conversation.Platform, channelID, senderID string, mids []string, watermark time.Time) []byte {
	if mids == nil {
		mids = []string{} // Meta sends an array, never null
	}
	return simWebhook(platform, channelID, watermark, simEvent{
		Sender:    simParty{ID: senderID},
		Recipient: simParty{ID: channelID},
		Timestamp: watermark.UnixMilli(),
		Delivery:  &simDelivery{MIDs: mids, Watermark: watermark.UnixMilli()},
	})
}

// The webhook JSON as Meta sends it. These types are separate from the
// hook* types Parse reads, which are lenient about ids and times: a builder
// must produce exactly one form, Meta's.
type (
	simBody struct {
		Object string     `json:"object"`
		Entry  []simEntry `json:"entry"`
	}
	simEntry struct {
		ID        string     `json:"id"`
		Time      int64      `json:"time"`
		Messaging []simEvent `json:"messaging"`
	}
	simEvent struct {
		Sender    simParty     `json:"sender"`
		Recipient simParty     `json:"recipient"`
		Timestamp int64        `json:"timestamp"`
		Message   *simMessage  `json:"message,omitempty"`
		Postback  *simPostback `json:"postback,omitempty"`
		Read      *simRead     `json:"read,omitempty"`
		Delivery  *simDelivery `json:"delivery,omitempty"`
	}
	simParty struct {
		ID string `json:"id"`
	}
	simMessage struct {
		MID        string         `json:"mid"`
		Text       string         `json:"text,omitempty"`
		QuickReply *simQuickReply `json:"quick_reply,omitempty"`
	}
	simQuickReply struct {
		Payload string `json:"payload"`
	}
	simPostback struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	}
	simRead struct {
		Watermark int64 `json:"watermark"`
	}
	simDelivery struct {
		MIDs      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	}
)

// simObject returns the webhook object of platform, panicking for a
// platform Meta's messaging webhook does not carry.
func simObject(platform conversation.Platform) string {
	for object, p := range objectPlatforms {
		if p == platform {
			return object
		}
	}
	panic(fmt.Sprintf("meta: no webhook object for platform %q", platform))
}

func simWebhook(platform conversation.Platform, channelID string, at time.Time, ev simEvent) []byte {
	body, err := json.Marshal(simBody{
		Object: simObject(platform),
		Entry:  []simEntry{{ID: channelID, Time: at.UnixMilli(), Messaging: []simEvent{ev}}},
	})
	if err != nil {
		// Only strings, integers and slices of them: Marshal cannot fail.
		panic(fmt.Sprintf("meta: failed to encode webhook: %v", err))
	}
	return body
}
