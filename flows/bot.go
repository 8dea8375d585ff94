// Package flows is the bot: it understands a shopper's message, routes it
// to the flow that resolves it — tracking an order, a return, a damaged
// item — and hands off to a person on request, when the shopper is upset
// or money or trust is at risk, when it is stuck, and whenever a flow
// needs a decision it may not take, always with a summary of what it
// collected.
//
// Decisions are pure: (state, event) in, (next state, replies, effects,
// hand-off) out. They do no I/O and read the clock only from the event, so
// they run inside the transaction that holds a conversation's lock and
// are tested without a network or a database. Order look-ups and the
// records of returns and damage cases are effects that workers run after
// the decision commits; their results, and timers, come back as events.
//
// Each flow is a looplab/fsm machine in its own package (tracking,
// returns, damage) sharing the order identification of package identify
// and the per-decision toolkit of package turn; package understand reads
// messages.
package flows

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/damage"
	"github.com/frontdesk/frontdesk/flows/returns"
	"github.com/frontdesk/frontdesk/flows/tracking"
	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
)

// Quick-reply and postback payloads of the main menu. A tap on one starts
// its flow, or hands off, from any state.
const (
	PayloadTrack  = turn.PayloadTrack
	PayloadReturn = turn.PayloadReturn
	PayloadDamage = turn.PayloadDamage
	PayloadPerson = turn.PayloadPerson
)

// The menu machine: the router's own states, before and between flows.
const (
	FlowMenu = turn.FlowMenu

	StateNew       = "new"
	StateMenu      = "menu"
	StateHandedOff = turn.StateHandedOff

	eventGreet = "greet"
	eventRetry = "retry"
	eventBack  = "back" // a person handed the conversation back
)

var menuEvents = turn.WithHandoff(fsm.Events{
	{Name: eventGreet, Src: []string{StateNew}, Dst: StateMenu},
	{Name: eventRetry, Src: []string{StateMenu}, Dst: StateMenu},
	{Name: eventBack, Src: []string{StateHandedOff}, Dst: StateMenu},
})

// NewMenuMachine returns the menu machine in state (new when empty).
func NewMenuMachine(state string) *fsm.FSM {
	if state == "" {
		state = StateNew
	}
	return fsm.NewFSM(state, menuEvents, nil)
}

// MenuStates lists every state of the menu machine.
func MenuStates() []string { return turn.States(menuEvents) }

// A flow as the router sees it.
type flow struct {
	newMachine func(state string) *fsm.FSM
	// start begins the flow with the message that asked for it.
	start func(*turn.Turn)
	// step decides an event in one of the flow's states; false leaves a
	// message to the router and drops any other event as stale.
	step func(*turn.Turn) bool
}

var flowsByName = map[string]flow{
	tracking.Name: {tracking.NewMachine, tracking.Start, tracking.Step},
	returns.Name:  {returns.NewMachine, returns.Start, returns.Step},
	damage.Name:   {damage.NewMachine, damage.Start, damage.Step},
}

var payloadFlows = map[string]string{
	PayloadTrack:  tracking.Name,
	PayloadReturn: returns.Name,
	PayloadDamage: damage.Name,
}

// Machines returns a new machine of every flow, the menu included, by
// flow name: for diagrams and tests.
func Machines() map[string]*fsm.FSM {
	m := map[string]*fsm.FSM{FlowMenu: NewMenuMachine("")}
	for name, f := range flowsByName {
		m[name] = f.newMachine("")
	}
	return m
}

// Bot is Frontdesk's bot. It is safe for concurrent use.
type Bot struct {
	env *turn.Env
}

var _ conversation.Bot = (*Bot)(nil)

// NewBot returns the bot configured by cfg, or what is wrong with cfg.
func NewBot(cfg Config) (*Bot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env, err := cfg.env()
	if err != nil {
		return nil, err
	}
	return &Bot{env: env}, nil
}

// Decide implements conversation.Bot.
func (b *Bot) Decide(state conversation.FlowState, ev conversation.BotEvent) (d conversation.Decision) {
	defer func() {
		if r := recover(); r != nil {
			d = b.failed(state, ev, r)
		}
	}()
	t := turn.New(b.env, state, ev)
	f, inFlow := flowsByName[state.Flow]
	if inFlow {
		t.M = f.newMachine(state.State)
	} else {
		t.Flow, t.M = FlowMenu, NewMenuMachine(menuState(state))
	}

	if !t.IsMessage() {
		if inFlow && f.step(t) {
			return t.Decision()
		}
		return conversation.Decision{Next: state} // stale: nothing changes
	}

	first := t.Flow == FlowMenu && t.State() == StateNew
	if t.Data[turn.KeyHandedOff] == "1" {
		// A person handed the conversation back: start afresh, without
		// introducing the bot again.
		t.Reset(FlowMenu, NewMenuMachine(StateHandedOff))
		t.Fire(eventBack)
		inFlow = false
		if !b.escalate(t) && !b.startTopic(t, false) {
			t.Ask("welcome_back", menu(t))
		}
		return t.Decision()
	}
	if b.escalate(t) {
		return t.Decision()
	}
	if name, ok := payloadFlows[t.Payload]; ok {
		b.start(t, name, first)
		return t.Decision()
	}
	if inFlow && f.step(t) {
		delete(t.Data, turn.KeyMisunderstood)
		return t.Decision()
	}
	b.route(t, first)
	return t.Decision()
}

// menuState is the menu machine's state for a conversation the router
// holds: new on first contact.
func menuState(state conversation.FlowState) string {
	switch {
	case state.Flow == FlowMenu && (state.State == StateMenu || state.State == StateHandedOff):
		return state.State
	case state.Flow == "" && len(state.Data) == 0, state.Flow == FlowMenu && state.State == StateNew:
		return StateNew
	}
	return StateMenu // a flow this version does not know
}

// escalate hands off whatever a person must handle, in any state.
func (b *Bot) escalate(t *turn.Turn) bool {
	m := t.Msg
	h := turn.Handoff{Priority: conversation.PriorityNormal}
	switch {
	case m.Has(understand.IntentRisk):
		h.Reason, h.Priority, h.Ack = "chargeback or legal threat", conversation.PriorityHigh, "handoff_risk"
	case t.Payload == PayloadPerson || m.Has(understand.IntentPerson):
		h.Reason, h.Priority, h.Ack = "asked for a person", conversation.PriorityElevated, "handoff_person"
	case m.Has(understand.IntentFrustrated) || m.Shouting || m.Exclaiming:
		h.Reason, h.Priority, h.Ack = "frustrated shopper", conversation.PriorityElevated, "handoff_frustrated"
		switch {
		case m.Has(understand.IntentFrustrated):
		case m.Shouting:
			h.Trigger = "shouting in capitals: " + m.Text
		default:
			h.Trigger = "repeated exclamation marks: " + m.Text
		}
	case m.Has(understand.IntentCancelOrder):
		h.Reason, h.Ack = "cancel order", "handoff_cancel_order"
	case m.Has(understand.IntentChangeAddress):
		h.Reason, h.Ack = "change address", "handoff_change_address"
	default:
		return false
	}
	t.HandOff(h)
	return true
}

// startTopic starts the flow the message asks for, if any.
func (b *Bot) startTopic(t *turn.Turn, first bool) bool {
	if name, ok := payloadFlows[t.Payload]; ok {
		b.start(t, name, first)
		return true
	}
	topic := t.Topic()
	if topic == "" && (t.Msg.Has(understand.IntentNeverArrived) || t.Msg.Order != "") {
		topic = understand.IntentTrack // "#1001", "it never arrived"
	}
	if topic == "" {
		return false
	}
	b.start(t, turn.TopicFlows[topic], first)
	return true
}

func (b *Bot) start(t *turn.Turn, name string, first bool) {
	f := flowsByName[name]
	t.Switch(name, f.newMachine(""))
	if first {
		t.Lead("intro")
	}
	f.start(t)
}

// route answers a message no flow took: a topic starts its flow, small
// talk gets an answer, anything else the menu again — or a person, after
// too many misunderstandings.
func (b *Bot) route(t *turn.Turn, first bool) {
	if b.startTopic(t, first) {
		return
	}
	inMenu := t.Flow == FlowMenu
	switch {
	case first:
		t.Ask("greeting", menu(t))
		t.Fire(eventGreet)
	case t.Msg.Has(understand.IntentGreeting):
		t.Ask("menu_prompt", menu(t))
	case t.Msg.Has(understand.IntentThanks) || sticker(t.Ev):
		t.Say("thanks_reply")
	default:
		n, _ := strconv.Atoi(t.Data[turn.KeyMisunderstood])
		n++
		if limit := t.Env.Policy.HandoffAfterMisunderstood; limit > 0 && n >= limit {
			t.HandOff(turn.Handoff{Reason: "not understood", Priority: conversation.PriorityNormal,
				Trigger: strconv.Itoa(n) + " messages in a row not understood, the last: " + t.Msg.Text,
				Ack:     "handoff_not_understood"})
			return
		}
		t.Data[turn.KeyMisunderstood] = strconv.Itoa(n)
		t.Ask("fallback", menu(t))
		if inMenu {
			t.Fire(eventRetry)
		}
		return
	}
	delete(t.Data, turn.KeyMisunderstood)
}

// sticker reports a message that is only a sticker, such as the thumbs-up.
func sticker(ev conversation.BotEvent) bool {
	return ev.Text == "" && len(ev.Attachments) == 1 && (ev.Attachments[0].Type == "sticker" || ev.Attachments[0].StickerID != "")
}

// menu is the main menu, in the conversation's language.
func menu(t *turn.Turn) []turn.Option {
	return []turn.Option{
		{Title: t.T("menu_track"), Payload: PayloadTrack},
		{Title: t.T("menu_return"), Payload: PayloadReturn},
		{Title: t.T("menu_damage"), Payload: PayloadDamage},
		{Title: t.T("menu_person"), Payload: PayloadPerson},
	}
}

// failed turns a programming error into a hand-off, so a shopper is never
// left without an answer and the conversation lands with a person.
func (b *Bot) failed(state conversation.FlowState, ev conversation.BotEvent, cause any) conversation.Decision {
	data := maps.Clone(state.Data)
	if data == nil {
		data = map[string]string{}
	}
	data[turn.KeyHandedOff] = "1"
	t := turn.New(b.env, conversation.FlowState{Data: data}, conversation.BotEvent{Now: ev.Now, Shopper: ev.Shopper})
	return conversation.Decision{
		Next:    conversation.FlowState{Flow: FlowMenu, State: StateHandedOff, Data: t.Data},
		Replies: []conversation.Reply{{Text: t.T("handoff_error")}},
		Handoff: &conversation.Handoff{Reason: "bot error", Priority: conversation.PriorityNormal,
			Summary: conversation.HandoffSummary{Intent: state.Flow, Order: data[turn.KeyOrder],
				Trigger: fmt.Sprintf("%s/%s: %v", state.Flow, state.State, cause)}},
	}
}
