package conversation

import "time"

// FlowState is a conversation's persisted bot state: which flow runs, the
// state its machine is in, and the slots it has collected.
type FlowState struct {
	Flow  string
	State string
	Data  map[string]string
}

// BotEvent is what the bot is told about one inbound message.
type BotEvent struct {
	Kind        InboundKind
	Platform    Platform
	Text        string
	Payload     string
	Attachments []Attachment
	Now         time.Time
}

// Reply is one message the bot wants sent.
type Reply struct {
	Text         string
	QuickReplies []QuickReply
}

// Handoff asks for a person.
type Handoff struct {
	Reason   string
	Priority int // higher is more urgent
}

// Decision is the bot's answer to one event: the state to persist, the
// replies to send, and whether to hand the conversation to a person.
type Decision struct {
	Next    FlowState
	Replies []Reply
	Handoff *Handoff
}

// Bot decides what to do with an event. It must be pure and fast: it runs
// inside the transaction that holds the conversation's lock, so it does no
// I/O and reads the clock only from the event.
type Bot interface {
	Decide(state FlowState, ev BotEvent) Decision
}
