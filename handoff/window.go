package handoff

import (
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/outbox"
)

// WindowState says whether the platform will take a reply now.
type WindowState string

const (
	// WindowOpen: within 24 hours of the shopper's last message (or a
	// platform without windows).
	WindowOpen WindowState = "open"
	// WindowHumanAgent: between 24 hours and 7 days on Messenger or
	// Instagram; a person's reply goes out with the HUMAN_AGENT tag.
	WindowHumanAgent WindowState = "human_agent"
	// WindowClosed: the platform would refuse a reply; the console refuses
	// it at once instead of letting it fail later.
	WindowClosed WindowState = "closed"
)

// Window is the messaging window of a conversation for a person's reply.
type Window struct {
	State WindowState `json:"state"`
	// ClosesAt is when the state changes for the worse; nil if never.
	ClosesAt *time.Time `json:"closes_at,omitempty"`
	// Message explains the state to the agent.
	Message string `json:"message"`
}

// replyWindow applies the platforms' rules to a person's reply, as the
// outbox applies them when it sends (outbox.SendWorker).
func replyWindow(platform string, lastInbound *time.Time, now time.Time, humanAgentTag bool) Window {
	switch conversation.Platform(platform) {
	case conversation.Messenger, conversation.Instagram:
	case conversation.WhatsApp:
		if lastInbound == nil || !now.Before(lastInbound.Add(outbox.ResponseWindow)) {
			return Window{State: WindowClosed, Message: "Window closed: WhatsApp takes free-form replies only within 24 hours " +
				"of the shopper's last message. Wait for the shopper to write again."}
		}
		end := lastInbound.Add(outbox.ResponseWindow)
		return Window{State: WindowOpen, ClosesAt: &end, Message: "Replies are open until " + clock(end) + "."}
	default:
		return Window{State: WindowOpen, Message: "Replies are open."}
	}
	if lastInbound == nil {
		return Window{State: WindowClosed, Message: "Window closed: the shopper has not written on this channel, " +
			"so the platform takes no reply."}
	}
	open := lastInbound.Add(outbox.ResponseWindow)
	if now.Before(open) {
		return Window{State: WindowOpen, ClosesAt: &open, Message: "Replies are open until " + clock(open) +
			" (24 hours after the shopper's last message)."}
	}
	tagged := lastInbound.Add(outbox.HumanAgentWindow)
	if !now.Before(tagged) {
		return Window{State: WindowClosed, Message: fmt.Sprintf("Window closed: %s accepts no reply more than 7 days after "+
			"the shopper's last message (%s). Wait for the shopper to write again.", platformName(platform), clock(*lastInbound))}
	}
	if !humanAgentTag {
		return Window{State: WindowClosed, Message: fmt.Sprintf("Window closed: it is more than 24 hours since the shopper's "+
			"last message, and this store does not use the HUMAN_AGENT tag that %s requires after that.", platformName(platform))}
	}
	return Window{State: WindowHumanAgent, ClosesAt: &tagged, Message: "More than 24 hours since the shopper's last message: " +
		"your reply will carry the HUMAN_AGENT tag. Replies close at " + clock(tagged) + " (7 days)."}
}

// botWindowOpen reports whether the platform takes a bot message now (the
// satisfaction question): only within 24 hours of the shopper's last
// message on Meta's platforms.
func botWindowOpen(platform string, lastInbound *time.Time, now time.Time) bool {
	switch conversation.Platform(platform) {
	case conversation.Messenger, conversation.Instagram, conversation.WhatsApp:
		return lastInbound != nil && now.Before(lastInbound.Add(outbox.ResponseWindow))
	}
	return true
}

func clock(t time.Time) string {
	return t.UTC().Format("Jan 2 15:04 MST")
}

func platformName(platform string) string {
	switch conversation.Platform(platform) {
	case conversation.Messenger:
		return "Messenger"
	case conversation.Instagram:
		return "Instagram"
	case conversation.WhatsApp:
		return "WhatsApp"
	}
	return platform
}
