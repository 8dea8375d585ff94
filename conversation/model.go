// Package conversation holds Frontdesk's normalized model — customers, their
// channel identities, conversations and messages — and the service that
// accepts inbound messages and records outbound ones. Nothing outside the
// channel adapters sees a platform payload: adapters turn webhooks into
// Inbound values and Outbound values into platform calls.
package conversation

import (
	"strconv"
	"strings"
	"time"
)

// Platform names a messaging platform. It is stored in the database, so the
// values never change.
type Platform string

const (
	Messenger Platform = "messenger"
	Instagram Platform = "instagram"
	WhatsApp  Platform = "whatsapp"
)

// Typed ids keep a message id from being passed where a conversation id is
// expected. They are PostgreSQL bigserials.
type (
	CustomerID     int64
	IdentityID     int64
	ConversationID int64
	MessageID      int64
)

func (id CustomerID) String() string     { return strconv.FormatInt(int64(id), 10) }
func (id IdentityID) String() string     { return strconv.FormatInt(int64(id), 10) }
func (id ConversationID) String() string { return strconv.FormatInt(int64(id), 10) }
func (id MessageID) String() string      { return strconv.FormatInt(int64(id), 10) }

// Status is where a conversation stands between the bot and the people.
type Status string

const (
	StatusBot      Status = "bot"      // the bot answers
	StatusQueued   Status = "queued"   // handed off, waiting for an agent
	StatusAssigned Status = "assigned" // an agent owns it
	StatusResolved Status = "resolved" // closed; a new message reopens it
)

// InboundKind says what a platform event means to Frontdesk.
type InboundKind string

const (
	// KindMessage is something the shopper wrote or sent: text, attachments,
	// a quick-reply tap. It is stored and handed to the bot.
	KindMessage InboundKind = "message"
	// KindPostback is a tap on a button the bot sent; Payload carries its payload.
	KindPostback InboundKind = "postback"
	// KindReaction is an emoji reaction to an earlier message (ReplyTo).
	KindReaction InboundKind = "reaction"
	// KindRead says the shopper has read everything the page sent up to Watermark.
	KindRead InboundKind = "read"
	// KindDelivery says messages (DeliveredIDs, or all up to Watermark) reached the shopper.
	KindDelivery InboundKind = "delivery"
	// KindEcho is a message the page itself sent: from Frontdesk (Metadata
	// carries our outbound id) or from a person in Meta's own inbox.
	KindEcho InboundKind = "echo"
	// KindDeleted says the shopper unsent the message PlatformMessageID.
	KindDeleted InboundKind = "deleted"
	// KindUnused is an event of a kind Frontdesk does not use (a handover,
	// an opt-in, a referral…). The service logs it at debug and skips it.
	KindUnused InboundKind = "unused"
)

// Direction of a stored message.
type Direction string

const (
	In  Direction = "in"
	Out Direction = "out"
)

// Author of a stored message.
type Author string

const (
	AuthorCustomer Author = "customer"
	AuthorBot      Author = "bot"
	AuthorAgent    Author = "agent"
	AuthorSystem   Author = "system"
)

// MessageStatus is the delivery state of a message. Outbound messages only
// ever move forward: queued → sent → delivered → read, or → failed.
type MessageStatus string

const (
	MessageReceived  MessageStatus = "received" // inbound, stored
	MessageDeleted   MessageStatus = "deleted"  // inbound, unsent by the shopper
	MessageQueued    MessageStatus = "queued"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageRead      MessageStatus = "read"
	MessageFailed    MessageStatus = "failed"
)

// Attachment is a file, place or link carried by a message.
type Attachment struct {
	// Type is one of image, video, audio, file, location, fallback (a shared
	// link), sticker, story_reply, story_mention, share, reel, unknown.
	Type  string   `json:"type"`
	URL   string   `json:"url,omitempty"`
	Title string   `json:"title,omitempty"`
	Lat   *float64 `json:"lat,omitempty"`
	Long  *float64 `json:"long,omitempty"`
	// StickerID is set for Messenger stickers (the thumbs-up is one).
	StickerID string `json:"sticker_id,omitempty"`
}

// The attachment types an Outbound may carry: files sent by link.
const (
	AttachmentImage = "image"
	AttachmentVideo = "video"
	AttachmentAudio = "audio"
	AttachmentFile  = "file"
)

// Inbound is one normalized platform event. Adapters produce it; the
// conversation service consumes it.
type Inbound struct {
	Kind     InboundKind `json:"kind"`
	Platform Platform    `json:"platform"`
	// ChannelID is the platform id of the store's account that received the
	// event: the Facebook Page id or the Instagram professional account id.
	ChannelID string `json:"channel_id"`
	// SenderID is the shopper's channel-scoped id (PSID, IGSID). For echoes
	// it is the shopper the page wrote to.
	SenderID string `json:"sender_id"`
	// PlatformMessageID is the platform's id for the message (mid). Empty
	// for read and delivery receipts.
	PlatformMessageID string       `json:"platform_message_id,omitempty"`
	Text              string       `json:"text,omitempty"`
	Attachments       []Attachment `json:"attachments,omitempty"`
	// Payload is a quick-reply or postback payload.
	Payload string `json:"payload,omitempty"`
	// ReplyTo is the mid this message replies or reacts to.
	ReplyTo string `json:"reply_to,omitempty"`
	// Reaction is the emoji; ReactionRemoved is true for an "unreact".
	Reaction        string `json:"reaction,omitempty"`
	ReactionRemoved bool   `json:"reaction_removed,omitempty"`
	// DeliveredIDs are the mids a delivery receipt names.
	DeliveredIDs []string `json:"delivered_ids,omitempty"`
	// Watermark: everything sent before it was delivered or read.
	Watermark time.Time `json:"watermark,omitzero"`
	// AppID and Metadata are set on echoes.
	AppID    string `json:"app_id,omitempty"`
	Metadata string `json:"metadata,omitempty"`
	// Timestamp is when the platform says the event happened.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Standby says the event came while another app owns the thread (a
	// person in Meta's own inbox, a handover partner): it is history, and
	// the bot does not answer it.
	Standby bool `json:"standby,omitempty"`
}

// QuickReply is a button offered under a message.
type QuickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// Outbound is one message to deliver to a shopper, as the outbox worker
// hands it to a channel's sender.
type Outbound struct {
	MessageID MessageID
	Platform  Platform
	// ChannelID is the store's account (Page id, Instagram account id).
	ChannelID string
	// RecipientID is the shopper's channel-scoped id.
	RecipientID string
	// Text may be empty when the message has attachments.
	Text string
	// Attachments are files sent by link, after the text: the platform
	// fetches each URL itself, so it must be a public http(s) URL. Type is
	// AttachmentImage, AttachmentVideo, AttachmentAudio or AttachmentFile;
	// Title and the other fields of Attachment are not sent.
	Attachments  []Attachment
	QuickReplies []QuickReply
	Author       Author
	// HumanAgentTag asks for the HUMAN_AGENT message tag (a person replying
	// after the 24-hour window). Bot messages never set it.
	HumanAgentTag bool
	// FromPart is how many of the platform messages delivering this one
	// (a long text is split) an earlier try sent; Send sends the rest.
	FromPart int
}

// outboundMetadataPrefix starts the metadata Frontdesk attaches to every
// platform message it sends. Meta echoes it back, which is how an echo of
// our own message is told from a person writing in Meta's inbox, even when
// the echo arrives before the send call has returned.
const outboundMetadataPrefix = "frontdesk:"

// OutboundMetadata is the metadata of part (counted from 1) of the parts
// platform messages that deliver outbound message id: "frontdesk:<id>" on
// the last, "frontdesk:<id>/<part>" on those before it, whose echoes do
// not mean the whole message went out.
func OutboundMetadata(id MessageID, part, parts int) string {
	if part >= parts {
		return outboundMetadataPrefix + id.String()
	}
	return outboundMetadataPrefix + id.String() + "/" + strconv.Itoa(part)
}

// ParseOutboundMetadata reads OutboundMetadata. ok says the metadata is
// Frontdesk's; last, that it came with the last part of message id.
func ParseOutboundMetadata(metadata string) (id int64, last, ok bool) {
	rest, ours := strings.CutPrefix(metadata, outboundMetadataPrefix)
	if !ours {
		return 0, false, false
	}
	rest, part, earlier := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, false, false
	}
	if earlier {
		if _, err := strconv.Atoi(part); err != nil {
			return 0, false, false
		}
	}
	return id, !earlier, true
}
