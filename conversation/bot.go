package conversation

import (
	"encoding/json"
	"time"
)

// FlowState is a conversation's persisted bot state: which flow runs, the
// state its machine is in, and the slots it has collected.
type FlowState struct {
	Flow  string
	State string
	Data  map[string]string
}

// Event kinds that do not come from a platform: they are produced inside
// Frontdesk and given to the bot like a message.
const (
	// KindEffectResult carries the result of an effect the bot asked for.
	KindEffectResult InboundKind = "effect_result"
	// KindTimer says a timer the bot set has fired.
	KindTimer InboundKind = "timer"
)

// BotEvent is what the bot is told: a shopper's message, the result of an
// effect, or a timer.
type BotEvent struct {
	Kind        InboundKind
	Platform    Platform
	Text        string
	Payload     string
	Attachments []Attachment
	// Now is the only clock the bot may read.
	Now time.Time
	// Shopper is what the channel knows about the sender.
	Shopper Shopper
	// Result is set for KindEffectResult.
	Result *EffectResult
	// Timer names the timer that fired, for KindTimer.
	Timer string
}

// Shopper is what Frontdesk knows of the person writing.
type Shopper struct {
	Name string
	// ChannelUserID is the sender's id on the channel (PSID, IGSID, or a
	// WhatsApp number in digits).
	ChannelUserID string
	// Phone is the sender's phone number in E.164 when the channel tells
	// it (WhatsApp); empty otherwise.
	Phone string
}

// Effect is slow work the bot asks for — an order look-up, creating a
// return — or a timer. Effects run in workers after the decision commits,
// and their results come back as KindEffectResult events.
type Effect struct {
	// Kind names the work; the effect runner knows each kind.
	Kind string `json:"kind"`
	// Args are its inputs.
	Args map[string]string `json:"args,omitempty"`
	// Delay postpones the effect; a timer is an effect of kind "timer"
	// with a delay and Args["name"].
	Delay time.Duration `json:"delay,omitempty"`
}

// EffectTimer is the effect kind of timers: it does nothing but come back,
// after its delay, as a KindTimer event named Args["name"].
const EffectTimer = "timer"

// EffectResult is what an effect produced.
type EffectResult struct {
	Kind string            `json:"kind"`
	Args map[string]string `json:"args,omitempty"`
	// Err is set when the effect failed for good (an order that does not
	// exist, an order system that refused); the bot turns it into words.
	Err string `json:"err,omitempty"`
	// NotFound is true when the looked-up thing does not exist.
	NotFound bool `json:"not_found,omitempty"`
	// Value is the effect's output, JSON (for example an orders.Order).
	Value json.RawMessage `json:"value,omitempty"`
}

// Reply is one message the bot wants sent.
type Reply struct {
	Text         string
	QuickReplies []QuickReply
}

// Hand-off priorities: higher is more urgent.
const (
	PriorityNormal   = 0
	PriorityElevated = 1 // the shopper asked for a person
	PriorityHigh     = 2 // money or trust at risk: missing shipment, chargeback, legal
)

// Handoff asks for a person.
type Handoff struct {
	Reason   string
	Priority int
	Summary  HandoffSummary
}

// HandoffSummary is what an agent reads first: enough to take over in ten
// seconds. The flow fills what it collected; the conversation service adds
// the customer, the channel and the last messages.
type HandoffSummary struct {
	Intent    string            `json:"intent,omitempty"`
	Order     string            `json:"order,omitempty"`
	Trigger   string            `json:"trigger,omitempty"`
	Collected map[string]string `json:"collected,omitempty"`
	Evidence  []string          `json:"evidence,omitempty"`
	// Filled by the conversation service.
	Customer     string         `json:"customer,omitempty"`
	Channel      Platform       `json:"channel,omitempty"`
	LastMessages []SummaryEntry `json:"last_messages,omitempty"`
}

// SummaryEntry is one message quoted in a hand-off summary.
type SummaryEntry struct {
	Author Author    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Decision is the bot's answer to one event: the state to persist, the
// replies to send, the effects to run, and whether to hand the
// conversation to a person.
type Decision struct {
	Next    FlowState
	Replies []Reply
	Effects []Effect
	Handoff *Handoff
}

// Bot decides what to do with an event. It must be pure and fast: it runs
// inside the transaction that holds the conversation's lock, so it does no
// I/O and reads the clock only from the event.
type Bot interface {
	Decide(state FlowState, ev BotEvent) Decision
}
