package meta

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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

// Send API messaging types and the one tag Frontdesk uses.
const (
	messagingResponse   = "RESPONSE"
	messagingMessageTag = "MESSAGE_TAG"
	tagHumanAgent       = "HUMAN_AGENT"
)

// The Send API request body. huandu sends each top-level value as a form
// field, encoding nested values as JSON. A message carries text or one
// attachment, never both: Meta refuses that.
type (
	sendRecipient struct {
		ID string `json:"id"`
	}
	sendMessage struct {
		Text         string           `json:"text,omitempty"`
		Attachment   *sendAttachment  `json:"attachment,omitempty"`
		QuickReplies []sendQuickReply `json:"quick_replies,omitempty"`
		Metadata     string           `json:"metadata,omitempty"`
	}
	sendAttachment struct {
		Type    string                `json:"type"`
		Payload sendAttachmentPayload `json:"payload"`
	}
	sendAttachmentPayload struct {
		URL string `json:"url"`
		// IsReusable lets Meta keep the file it fetched for later sends.
		IsReusable bool `json:"is_reusable"`
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
// The text goes first. Text longer than the platform allows (Messenger
// 2000 characters, Instagram 1000 bytes) is split with SplitText and sent
// as several messages in order. Then each attachment is one more message
// ({type, payload: {url, is_reusable: true}}), in order; Meta fetches the
// URL. Every message carries the same metadata, and quick replies go with
// the last one. Quick replies beyond 13 are dropped and titles cut to 20
// characters. PlatformMessageID is the last message's id.
//
// A message without text (blank) and without attachments, and an
// attachment whose type is not image, video, audio or file or whose URL is
// not an absolute http(s) URL, are permanent errors; nothing is sent.
//
// Errors are classified as channels.Sender documents. When a later part
// fails, the earlier parts have been delivered and are not undone: the
// error names the part and is a *channels.PartlySentError, and a retry
// with out.FromPart set sends only the parts after those. Only the last
// part's echo confirms the message (conversation.OutboundMetadata).
func (a *Adapter) Send(ctx context.Context, out conversation.Outbound) (channels.SendResult, error) {
	parts, err := sendParts(out)
	if err != nil {
		return channels.SendResult{}, err
	}
	return a.sendCalls(ctx, out.ChannelID, parts, out.FromPart)
}

// sendCalls makes a message's Send API calls (sendParts) one by one, in
// order, as channelID, leaving out the first sent ones (an earlier try
// made them), and returns the last one's message id.
func (a *Adapter) sendCalls(ctx context.Context, channelID string, parts []facebook.Params, sent int) (channels.SendResult, error) {
	var mid string
	for i := unsentFrom(sent, len(parts)); i < len(parts); i++ {
		res, err := a.graphCall(ctx, channelID, facebook.POST, "/"+channelID+"/messages", parts[i])
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

// unsentFrom is the first of n parts to send when an earlier try sent
// sent of them: never past the last, which confirms the message.
func unsentFrom(sent, n int) int {
	return max(min(sent, n-1), 0)
}

// sendParts returns the Send API calls that deliver out, in order (see
// Send), or a permanent error when out cannot be sent.
func sendParts(out conversation.Outbound) ([]facebook.Params, error) {
	hasText := strings.TrimSpace(out.Text) != ""
	if !hasText && len(out.Attachments) == 0 {
		return nil, &channels.PermanentError{Reason: "message has no text and no attachment", Err: channels.ErrPermanent}
	}
	textMax, byBytes := messengerTextMax, false
	switch out.Platform {
	case conversation.Messenger:
	case conversation.Instagram:
		textMax, byBytes = instagramTextMax, true
	default:
		return nil, &channels.PermanentError{
			Reason: fmt.Sprintf("platform %q is not sent through the Meta adapter", out.Platform),
			Err:    channels.ErrPermanent,
		}
	}

	var messages []sendMessage
	if hasText {
		for _, text := range SplitText(out.Text, textMax, byBytes) {
			messages = append(messages, sendMessage{Text: text})
		}
	}
	for i, att := range out.Attachments {
		sa, err := sendAttachmentOf(att)
		if err != nil {
			return nil, &channels.PermanentError{
				Reason: fmt.Sprintf("attachment %d of %d: %s", i+1, len(out.Attachments), err),
				Err:    channels.ErrPermanent,
			}
		}
		messages = append(messages, sendMessage{Attachment: sa})
	}
	messages[len(messages)-1].QuickReplies = sendQuickReplies(out.QuickReplies)
	for i := range messages {
		messages[i].Metadata = conversation.OutboundMetadata(out.MessageID, i+1, len(messages))
	}

	messagingType, tag := messagingResponse, ""
	if out.HumanAgentTag {
		messagingType, tag = messagingMessageTag, tagHumanAgent
	}
	parts := make([]facebook.Params, len(messages))
	for i, msg := range messages {
		parts[i] = facebook.Params{
			"recipient":      sendRecipient{ID: out.RecipientID},
			"messaging_type": messagingType,
			"message":        msg,
		}
		if tag != "" {
			parts[i]["tag"] = tag
		}
	}
	return parts, nil
}

// sendAttachmentOf checks that att can be sent by link and returns it as
// the Send API wants it.
func sendAttachmentOf(att conversation.Attachment) (*sendAttachment, error) {
	switch att.Type {
	case conversation.AttachmentImage, conversation.AttachmentVideo, conversation.AttachmentAudio, conversation.AttachmentFile:
	default:
		return nil, fmt.Errorf("type %q cannot be sent (image, video, audio or file)", att.Type)
	}
	u, err := url.Parse(att.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("the link is not an absolute http(s) URL")
	}
	return &sendAttachment{Type: att.Type, Payload: sendAttachmentPayload{URL: att.URL, IsReusable: true}}, nil
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
// error's class, and, past the first, that i parts were sent.
func sendPartError(err error, i, n int) error {
	earlier := ""
	if i > 0 {
		earlier = " (earlier parts were sent)"
	}
	prefix := fmt.Sprintf("part %d of %d%s: ", i+1, n, earlier)
	var perm *channels.PermanentError
	var retry *channels.RetryAfterError
	switch {
	case errors.As(err, &perm):
		err = &channels.PermanentError{Reason: prefix + perm.Reason, Err: perm.Err}
	case errors.As(err, &retry):
		err = &channels.RetryAfterError{After: retry.After, Reason: prefix + retry.Reason}
	default:
		err = fmt.Errorf("%s%w", prefix, err)
	}
	if i > 0 {
		err = &channels.PartlySentError{Parts: i, Err: err}
	}
	return err
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
