package meta

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/huandu/facebook/v2"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
)

// Send API limits
// (https://developers.facebook.com/docs/messenger-platform/reference/send-api).
const (
	messengerTextMax   = 2000 // runes
	instagramTextMax   = 1000 // bytes of UTF-8
	quickRepliesMax    = 13
	quickReplyTitleMax = 20 // runes
)

// sendMetadataPrefix starts the metadata Send attaches to every message:
// "frontdesk:<outbound message id>". Meta returns it on the echo, which
// tells our own sends from those of people in Meta's inbox.
const sendMetadataPrefix = "frontdesk:"

// Send API messaging types and the one tag Frontdesk uses.
const (
	messagingResponse   = "RESPONSE"
	messagingMessageTag = "MESSAGE_TAG"
	tagHumanAgent       = "HUMAN_AGENT"
)

// The Send API request body. huandu sends each top-level value as a form
// field, encoding nested values as JSON.
type (
	sendRecipient struct {
		ID string `json:"id"`
	}
	sendMessage struct {
		Text         string           `json:"text"`
		QuickReplies []sendQuickReply `json:"quick_replies,omitempty"`
		Metadata     string           `json:"metadata,omitempty"`
	}
	sendQuickReply struct {
		ContentType string `json:"content_type"`
		Title       string `json:"title"`
		Payload     string `json:"payload"`
	}
)

// Send delivers out through the Send API (POST /{channel}/messages) with
// the channel's token, as messaging type RESPONSE, or MESSAGE_TAG with tag
// HUMAN_AGENT when out.HumanAgentTag is set.
//
// Text longer than the platform allows (Messenger 2000 characters,
// Instagram 1000 bytes) is split with SplitText and sent as several
// messages in order, all with the same metadata; quick replies go with the
// last one. Quick replies beyond 13 are dropped and titles cut to 20
// characters. PlatformMessageID is the last message's id.
//
// Errors are classified as channels.Sender documents. When a later part
// fails, the earlier parts have been delivered and are not undone; the error
// names the part, and a retry sends every part again.
func (a *Adapter) Send(ctx context.Context, out conversation.Outbound) (channels.SendResult, error) {
	if strings.TrimSpace(out.Text) == "" {
		return channels.SendResult{}, &channels.PermanentError{Reason: "message has no text", Err: channels.ErrPermanent}
	}
	var parts []string
	switch out.Platform {
	case conversation.Messenger:
		parts = SplitText(out.Text, messengerTextMax, false)
	case conversation.Instagram:
		parts = SplitText(out.Text, instagramTextMax, true)
	default:
		return channels.SendResult{}, &channels.PermanentError{
			Reason: fmt.Sprintf("platform %q is not sent through the Meta adapter", out.Platform),
			Err:    channels.ErrPermanent,
		}
	}

	messagingType, tag := messagingResponse, ""
	if out.HumanAgentTag {
		messagingType, tag = messagingMessageTag, tagHumanAgent
	}
	var mid string
	for i, text := range parts {
		msg := sendMessage{Text: text, Metadata: sendMetadataPrefix + out.MessageID.String()}
		if i == len(parts)-1 {
			msg.QuickReplies = sendQuickReplies(out.QuickReplies)
		}
		params := facebook.Params{
			"recipient":      sendRecipient{ID: out.RecipientID},
			"messaging_type": messagingType,
			"message":        msg,
		}
		if tag != "" {
			params["tag"] = tag
		}
		res, err := a.graphCall(ctx, out.ChannelID, facebook.POST, "/"+out.ChannelID+"/messages", params)
		if err == nil {
			mid, err = sendMessageID(res)
		}
		if err != nil {
			if len(parts) > 1 {
				err = sendPartError(err, i, len(parts))
			}
			return channels.SendResult{}, err
		}
	}
	return channels.SendResult{PlatformMessageID: mid}, nil
}

// sendMessageID reads the id of a sent message. A success without one is
// permanent: the message probably went out, and retrying would repeat it.
func sendMessageID(res facebook.Result) (string, error) {
	var mid string
	if err := res.DecodeField("message_id", &mid); err != nil || mid == "" {
		return "", &channels.PermanentError{
			Reason: "Graph API accepted the message but returned no message_id",
			Err:    channels.ErrPermanent,
		}
	}
	return mid, nil
}

// sendPartError says which part of a split message failed, keeping the
// error's class.
func sendPartError(err error, i, n int) error {
	prefix := fmt.Sprintf("part %d of %d (earlier parts were sent): ", i+1, n)
	var perm *channels.PermanentError
	var retry *channels.RetryAfterError
	switch {
	case errors.As(err, &perm):
		return &channels.PermanentError{Reason: prefix + perm.Reason, Err: perm.Err}
	case errors.As(err, &retry):
		return &channels.RetryAfterError{After: retry.After, Reason: prefix + retry.Reason}
	}
	return fmt.Errorf("%s%w", prefix, err)
}

func sendQuickReplies(qrs []conversation.QuickReply) []sendQuickReply {
	if len(qrs) == 0 {
		return nil
	}
	if len(qrs) > quickRepliesMax {
		qrs = qrs[:quickRepliesMax]
	}
	out := make([]sendQuickReply, len(qrs))
	for i, qr := range qrs {
		out[i] = sendQuickReply{ContentType: "text", Title: truncateRunes(qr.Title, quickReplyTitleMax), Payload: qr.Payload}
	}
	return out
}

// truncateRunes returns the first max runes of s.
func truncateRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
