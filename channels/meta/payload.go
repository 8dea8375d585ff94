package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// This file holds the webhook JSON as Meta sends it for Messenger (object
// "page") and Instagram Direct (object "instagram"). The types are unexported
// and never leave the package: webhook.go maps them to conversation.Inbound.
// Each carries only the fields Parse reads, so that a field we ignore can
// never make an event undecodable.

// hookBody is the whole webhook POST. Entries stay raw so that one malformed
// entry does not block the others.
type hookBody struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

// hookEntry is one entry of a batch. Messaging holds events for the app that
// owns the thread; Standby holds events seen while another app (Meta's own
// inbox, a handover partner) owns it. Its events are E: raw JSON, so that
// one malformed event does not block the others, or decoded (hookEvent).
type hookEntry[E any] struct {
	Messaging []E `json:"messaging"`
	Standby   []E `json:"standby"`
}

// eventList is one list of an entry's events, with its name.
type eventList[E any] struct {
	name   string
	events []E
}

// lists returns the entry's event lists, messaging first.
func (e hookEntry[E]) lists() [2]eventList[E] {
	return [2]eventList[E]{{"messaging", e.Messaging}, {"standby", e.Standby}}
}

// hookBodyDecoded is hookBody with its entries and their events decoded.
type hookBodyDecoded struct {
	Object string                 `json:"object"`
	Entry  []hookEntry[hookEvent] `json:"entry"`
}

// hookEvent is one messaging or standby event. At most one of the pointer
// fields is expected; an event with none of them (handover, optin, referral,
// account linking…) is of a kind Parse skips.
type hookEvent struct {
	Sender    hookParty     `json:"sender"`
	Recipient hookParty     `json:"recipient"`
	Timestamp flexTime      `json:"timestamp"`
	Message   *hookMessage  `json:"message"`
	Postback  *hookPostback `json:"postback"`
	Reaction  *hookReaction `json:"reaction"`
	Read      *hookRead     `json:"read"`
	Delivery  *hookDelivery `json:"delivery"`
}

type hookParty struct {
	ID flexID `json:"id"`
}

// hookMessage is a message the shopper sent, or, with IsEcho, one the page
// sent. Attachments stay raw: one we cannot decode becomes an "unknown"
// attachment instead of losing the message.
type hookMessage struct {
	MID           string            `json:"mid"`
	Text          string            `json:"text"`
	Attachments   []json.RawMessage `json:"attachments"`
	QuickReply    *hookQuickReply   `json:"quick_reply"`
	ReplyTo       *hookReplyTo      `json:"reply_to"`
	IsEcho        bool              `json:"is_echo"`
	IsDeleted     bool              `json:"is_deleted"`
	IsUnsupported bool              `json:"is_unsupported"`
	AppID         flexID            `json:"app_id"`
	Metadata      string            `json:"metadata"`
}

type hookQuickReply struct {
	Payload string `json:"payload"`
}

// hookReplyTo is what a message answers: an earlier message (MID) or, on
// Instagram, a story.
type hookReplyTo struct {
	MID   string     `json:"mid"`
	Story *hookStory `json:"story"`
}

type hookStory struct {
	ID  flexID `json:"id"`
	URL string `json:"url"`
}

// hookAttachment is one attachment. Messenger's fallback (a shared link)
// carries its URL and title beside the payload, spelled "url" or "URL"
// depending on the API version; both are kept so that neither relies on
// encoding/json's case-insensitive matching.
type hookAttachment struct {
	Type     string                 `json:"type"`
	Title    string                 `json:"title"`
	URL      string                 `json:"url"`
	URLUpper string                 `json:"URL"`
	Payload  *hookAttachmentPayload `json:"payload"`
}

type hookAttachmentPayload struct {
	URL         string           `json:"url"`
	Title       string           `json:"title"`
	StickerID   flexID           `json:"sticker_id"`
	Coordinates *hookCoordinates `json:"coordinates"`
}

type hookCoordinates struct {
	Lat  float64 `json:"lat"`
	Long float64 `json:"long"`
}

// hookPostback is a tap on a button. MID is absent in older payloads.
type hookPostback struct {
	MID     string `json:"mid"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// hookReaction is a reaction to the message MID. Action is "react" or
// "unreact"; Emoji may be absent on an unreact.
type hookReaction struct {
	MID      string `json:"mid"`
	Action   string `json:"action"`
	Emoji    string `json:"emoji"`
	Reaction string `json:"reaction"`
}

// hookRead is a read receipt: Messenger sends a Watermark, Instagram
// (messaging_seen) the MID of the last message seen.
type hookRead struct {
	Watermark flexTime `json:"watermark"`
	MID       string   `json:"mid"`
}

// hookDelivery is a delivery receipt.
type hookDelivery struct {
	MIDs      []string `json:"mids"`
	Watermark flexTime `json:"watermark"`
}

// flexID is a platform id sent as a JSON string or a JSON integer. Real Meta
// payloads send strings, but older payloads and many published samples send
// numbers, which are larger than float64 represents exactly: they are read
// as json.Number and kept digit for digit. null and absence give "".
type flexID string

// UnmarshalJSON accepts a string, a non-negative integer literal or null.
func (id *flexID) UnmarshalJSON(data []byte) error {
	switch {
	case bytes.Equal(data, []byte("null")):
		*id = ""
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*id = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number: %w", err)
	}
	if !isDigits(string(n)) {
		return fmt.Errorf("id %s is not an integer", n)
	}
	*id = flexID(n)
	return nil
}

// flexTime is a platform time: epoch milliseconds as a JSON number (what
// Meta sends), or a string holding either epoch milliseconds or an ISO-8601
// time (seen in fixtures derived from other projects' test factories).
// null, absence and 0 give the zero time. Times are in UTC.
type flexTime time.Time

// isoLayouts are the ISO-8601 forms flexTime accepts. The second covers
// offsets without a colon ("+0000"); both accept optional fractional seconds.
var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700"}

// UnmarshalJSON accepts an integer, a string or null.
func (t *flexTime) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*t = flexTime{}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		return t.parseString(s)
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("time is neither a string nor a number: %w", err)
	}
	ms, err := n.Int64()
	if err != nil {
		return fmt.Errorf("time %s is not integer milliseconds", n)
	}
	return t.setMillis(ms)
}

func (t *flexTime) parseString(s string) error {
	if s == "" {
		*t = flexTime{}
		return nil
	}
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("time %q: %w", s, err)
		}
		return t.setMillis(ms)
	}
	for _, layout := range isoLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			return t.set(parsed)
		}
	}
	return errors.New("time is neither epoch milliseconds nor ISO-8601")
}

// setMillis sets t from epoch milliseconds; 0 means "not sent".
func (t *flexTime) setMillis(ms int64) error {
	if ms == 0 {
		*t = flexTime{}
		return nil
	}
	return t.set(time.UnixMilli(ms))
}

// set sets t to tm in UTC. Times before the epoch or after year 9999 are
// refused: no platform event has one, and they cannot be encoded as JSON.
func (t *flexTime) set(tm time.Time) error {
	tm = tm.UTC()
	if tm.Before(time.Unix(0, 0)) || tm.Year() > 9999 {
		return fmt.Errorf("time %s out of range", tm.Format(time.RFC3339))
	}
	*t = flexTime(tm)
	return nil
}

// Time returns t as a time.Time.
func (t flexTime) Time() time.Time { return time.Time(t) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
