package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
)

// ErrUnsupportedObject is returned (wrapped) by Adapter.Parse for a webhook
// whose "object" is neither "page" (Messenger) nor "instagram" (Instagram
// Direct), e.g. a WhatsApp or user webhook sent to the wrong endpoint. The
// body is well-formed, so the caller should log it and still answer 200, or
// Meta keeps redelivering it.
var ErrUnsupportedObject = errors.New("unsupported webhook object")

// objectPlatforms maps a webhook's "object" to the platform of its events.
var objectPlatforms = map[string]conversation.Platform{
	"page":      conversation.Messenger,
	"instagram": conversation.Instagram,
}

// Parse turns a verified webhook body into normalized events, in the order
// they appear: every entry of the batch, and within an entry its messaging
// events, then its standby events (those seen while another app owns the
// thread, parsed the same way).
//
// It returns an error only when the body is not JSON of a webhook's shape,
// or (wrapping ErrUnsupportedObject) when its object is not one this adapter
// serves. A malformed entry or event does not fail the others: Parse
// returns the readable events with a *channels.MalformedError naming the
// rest. Events of kinds Frontdesk does not use (handover, optins,
// referrals…) come as conversation.KindUnused. Parse does no I/O and does
// not keep body.
func (a *Adapter) Parse(body []byte) ([]conversation.Inbound, error) {
	events, skipped, err := parseWebhook(body)
	if err != nil || len(skipped) == 0 {
		return events, err
	}
	reasons := make([]string, len(skipped))
	for i, e := range skipped {
		reasons[i] = e.Error()
	}
	return events, &channels.MalformedError{Reasons: reasons}
}

// parseWebhook is Parse, returning why each skipped entry or event was
// malformed as a list.
func parseWebhook(body []byte) (events []conversation.Inbound, skipped []error, err error) {
	// Nearly every webhook decodes whole, which reads it once instead of
	// once per level; one that does not is read level by level, so that a
	// malformed entry or event skips only itself.
	if p, ok := parseWhole(body); ok {
		return p.events, p.skipped, nil
	}
	p, err := parseByLevel(body)
	return p.events, p.skipped, err
}

// parsed is what a webhook's events became: inbound events, and why each
// skipped one was malformed.
type parsed struct {
	events  []conversation.Inbound
	skipped []error
}

// add maps event j of list (messaging or standby) of entry i, unless
// decoding it failed with decodeErr.
func (p *parsed) add(platform conversation.Platform, i int, list string, j int, ev *hookEvent, decodeErr error) {
	var in conversation.Inbound
	err := decodeErr
	if err == nil {
		in, err = mapEvent(platform, ev)
	}
	if err != nil {
		p.skipped = append(p.skipped, fmt.Errorf("entry %d: %s %d: %w", i, list, j, err))
		return
	}
	in.Standby = list == "standby"
	p.events = append(p.events, in)
}

// parseWhole parses a webhook decoded in one go; ok is false when it does
// not decode so, or its object is not one this adapter serves.
func parseWhole(body []byte) (p parsed, ok bool) {
	var hook hookBodyDecoded
	if json.Unmarshal(body, &hook) != nil {
		return p, false
	}
	platform, ok := objectPlatforms[hook.Object]
	if !ok {
		return p, false
	}
	for i, entry := range hook.Entry {
		for _, list := range entry.lists() {
			for j := range list.events {
				p.add(platform, i, list.name, j, &list.events[j], nil)
			}
		}
	}
	return p, true
}

// parseByLevel parses a webhook entry by entry and event by event.
func parseByLevel(body []byte) (p parsed, err error) {
	var hook hookBody
	if err := json.Unmarshal(body, &hook); err != nil {
		return p, fmt.Errorf("failed to decode meta webhook: %w", err)
	}
	platform, ok := objectPlatforms[hook.Object]
	if !ok {
		return p, fmt.Errorf("%w: %q", ErrUnsupportedObject, hook.Object)
	}
	for i, rawEntry := range hook.Entry {
		var entry hookEntry[json.RawMessage]
		if err := json.Unmarshal(rawEntry, &entry); err != nil {
			p.skipped = append(p.skipped, fmt.Errorf("entry %d: %w", i, err))
			continue
		}
		for _, list := range entry.lists() {
			for j, raw := range list.events {
				var ev hookEvent
				p.add(platform, i, list.name, j, &ev, json.Unmarshal(raw, &ev))
			}
		}
	}
	return p, nil
}

// mapEvent maps one messaging or standby event. An event of a kind
// Frontdesk does not use becomes one of conversation.KindUnused.
func mapEvent(platform conversation.Platform, ev *hookEvent) (in conversation.Inbound, err error) {
	if ev.Sender.ID == "" || ev.Recipient.ID == "" {
		return in, errors.New("event without sender or recipient id")
	}
	in = conversation.Inbound{
		Platform:  platform,
		ChannelID: string(ev.Recipient.ID),
		SenderID:  string(ev.Sender.ID),
		Timestamp: ev.Timestamp.Time(),
	}
	switch {
	case ev.Message != nil:
		err = mapMessage(&in, ev.Message)
	case ev.Postback != nil:
		mapPostback(&in, ev.Postback)
	case ev.Reaction != nil:
		err = mapReaction(&in, ev.Reaction)
	case ev.Read != nil:
		mapRead(&in, ev.Read)
	case ev.Delivery != nil:
		mapDelivery(&in, ev.Delivery)
	default:
		in.Kind = conversation.KindUnused
	}
	return in, err
}

// mapMessage fills in from a message, an echo or an unsend. An echo was sent
// by the page, so its sender is the channel and its recipient the shopper.
func mapMessage(in *conversation.Inbound, msg *hookMessage) error {
	if msg.MID == "" {
		return errors.New("message without mid")
	}
	in.PlatformMessageID = msg.MID
	if msg.IsEcho {
		in.ChannelID, in.SenderID = in.SenderID, in.ChannelID
	}
	switch {
	case msg.IsDeleted:
		in.Kind = conversation.KindDeleted
		return nil
	case msg.IsEcho:
		in.Kind = conversation.KindEcho
		in.AppID = string(msg.AppID)
		in.Metadata = msg.Metadata
	default:
		in.Kind = conversation.KindMessage
	}
	in.Text = msg.Text
	if msg.QuickReply != nil {
		in.Payload = msg.QuickReply.Payload
	}
	if msg.ReplyTo != nil {
		if story := msg.ReplyTo.Story; story != nil {
			// A story reply answers a story, not a message: the story
			// becomes an attachment so agents see what was answered.
			in.Attachments = append(in.Attachments, conversation.Attachment{Type: "story_reply", URL: story.URL})
		} else {
			in.ReplyTo = msg.ReplyTo.MID
		}
	}
	for _, raw := range msg.Attachments {
		in.Attachments = append(in.Attachments, mapAttachment(raw))
	}
	// A message with nothing we can show is kept, marked unknown, so that
	// the shopper is never silently ignored.
	if msg.IsUnsupported || (in.Text == "" && in.Payload == "" && len(in.Attachments) == 0) {
		in.Attachments = append(in.Attachments, conversation.Attachment{Type: "unknown"})
	}
	return nil
}

// mapAttachment converts one attachment. It never fails: an attachment that
// cannot be decoded or is of an unknown type becomes Type "unknown".
func mapAttachment(raw json.RawMessage) conversation.Attachment {
	var att hookAttachment
	if err := json.Unmarshal(raw, &att); err != nil {
		return conversation.Attachment{Type: "unknown"}
	}
	var p hookAttachmentPayload
	if att.Payload != nil {
		p = *att.Payload
	}
	switch att.Type {
	case "image":
		if p.StickerID != "" {
			return conversation.Attachment{Type: "sticker", URL: p.URL, StickerID: string(p.StickerID)}
		}
		return conversation.Attachment{Type: "image", URL: p.URL}
	case "video", "audio", "file", "story_mention", "share":
		return conversation.Attachment{Type: att.Type, URL: p.URL}
	case "ig_reel", "reel":
		return conversation.Attachment{Type: "reel", URL: p.URL, Title: p.Title}
	case "location":
		return locationAttachment(p)
	case "fallback":
		return conversation.Attachment{
			Type:  "fallback",
			URL:   firstNonEmpty(att.URL, att.URLUpper, p.URL),
			Title: firstNonEmpty(att.Title, p.Title),
		}
	default:
		return conversation.Attachment{Type: "unknown", URL: firstNonEmpty(p.URL, att.URL, att.URLUpper)}
	}
}

func locationAttachment(p hookAttachmentPayload) conversation.Attachment {
	att := conversation.Attachment{Type: "location", URL: p.URL, Title: p.Title}
	if c := p.Coordinates; c != nil {
		att.Lat, att.Long = &c.Lat, &c.Long
	}
	return att
}

// mapPostback fills in from a button tap. Older payloads carry no mid; one
// is made from the sender and time so that redeliveries still dedupe.
func mapPostback(in *conversation.Inbound, pb *hookPostback) {
	in.Kind = conversation.KindPostback
	in.Payload = pb.Payload
	in.Text = pb.Title
	in.PlatformMessageID = pb.MID
	if in.PlatformMessageID == "" {
		in.PlatformMessageID = "postback:" + in.SenderID + ":" + millis(in.Timestamp)
	}
}

// mapReaction fills in from a reaction. Reactions have no mid of their own;
// the one made here is stable across redeliveries of the same event.
func mapReaction(in *conversation.Inbound, r *hookReaction) error {
	if r.MID == "" {
		return errors.New("reaction without mid")
	}
	in.Kind = conversation.KindReaction
	in.ReplyTo = r.MID
	in.Reaction = firstNonEmpty(r.Emoji, r.Reaction)
	in.ReactionRemoved = r.Action == "unreact"
	in.PlatformMessageID = "reaction:" + r.MID + ":" + in.SenderID + ":" + r.Action + ":" + millis(in.Timestamp)
	return nil
}

// mapRead fills in from a read receipt. Instagram names the last message
// seen (ReplyTo) and the event time is its watermark; Messenger sends a
// watermark.
func mapRead(in *conversation.Inbound, r *hookRead) {
	in.Kind = conversation.KindRead
	if r.MID != "" {
		in.ReplyTo = r.MID
		in.Watermark = in.Timestamp
		return
	}
	in.Watermark = r.Watermark.Time()
}

func mapDelivery(in *conversation.Inbound, d *hookDelivery) {
	in.Kind = conversation.KindDelivery
	in.DeliveredIDs = d.MIDs
	in.Watermark = d.Watermark.Time()
}

// millis formats t as epoch milliseconds, "0" for the zero time.
func millis(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
