// Package flows holds the bot: intent routing and the state machines that
// answer shoppers. Decisions are pure — (state, event) in, (next state,
// replies, hand-off) out — so they run inside the transaction that holds a
// conversation's lock and are tested without a network or a database.
package flows

import (
	"context"
	"errors"
	"strings"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
)

// Quick-reply and postback payloads of the main menu.
const (
	PayloadTrack  = "MENU_TRACK"
	PayloadReturn = "MENU_RETURN"
	PayloadDamage = "MENU_DAMAGE"
	PayloadPerson = "MENU_PERSON"
)

// The menu machine's states and events.
const (
	FlowMenu = "menu"

	StateNew       = "new"
	StateMenu      = "menu"
	StateHandedOff = "handed_off"

	eventGreet   = "greet"
	eventRetry   = "retry"
	eventHandoff = "handoff"
)

// menuEvents is the menu machine. A hand-off is accepted in every state.
var menuEvents = fsm.Events{
	{Name: eventGreet, Src: []string{StateNew}, Dst: StateMenu},
	{Name: eventRetry, Src: []string{StateMenu}, Dst: StateMenu},
	{Name: eventHandoff, Src: []string{StateNew, StateMenu, StateHandedOff}, Dst: StateHandedOff},
}

// NewMenuMachine returns the menu machine in state (StateNew when empty).
func NewMenuMachine(state string) *fsm.FSM {
	if state == "" {
		state = StateNew
	}
	return fsm.NewFSM(state, menuEvents, nil)
}

// Bot is the first-contact bot: it greets, says it is automated, offers the
// menu, and hands off to a person on request or for topics it cannot yet
// resolve itself.
type Bot struct {
	texts Texts
	menu  []conversation.QuickReply
}

// NewBot returns a bot speaking for the store named storeName.
func NewBot(storeName string, texts Texts) *Bot {
	t := texts.withDefaults(storeName)
	return &Bot{texts: t, menu: []conversation.QuickReply{
		{Title: t.MenuTrack, Payload: PayloadTrack},
		{Title: t.MenuReturn, Payload: PayloadReturn},
		{Title: t.MenuDamage, Payload: PayloadDamage},
		{Title: t.MenuPerson, Payload: PayloadPerson},
	}}
}

var _ conversation.Bot = (*Bot)(nil)

// Decide implements conversation.Bot.
func (b *Bot) Decide(state conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
	if state.Flow != FlowMenu {
		state = conversation.FlowState{Flow: FlowMenu}
	}
	machine := NewMenuMachine(state.State)
	d := conversation.Decision{Next: conversation.FlowState{Flow: FlowMenu, Data: state.Data}}

	topic := topicOf(ev)
	switch {
	case topic == PayloadPerson:
		d.Replies = []conversation.Reply{{Text: b.texts.HandoffAck}}
		d.Handoff = &conversation.Handoff{Reason: "asked for a person", Priority: 1}
		transition(machine, eventHandoff)
	case topic != "":
		d.Replies = []conversation.Reply{{Text: b.texts.TopicAck}}
		d.Handoff = &conversation.Handoff{Reason: topicReasons[topic]}
		transition(machine, eventHandoff)
	case machine.Is(StateNew):
		d.Replies = []conversation.Reply{{Text: b.texts.Greeting, QuickReplies: b.menu}}
		transition(machine, eventGreet)
	default:
		d.Replies = []conversation.Reply{{Text: b.texts.Fallback, QuickReplies: b.menu}}
		transition(machine, eventRetry)
	}
	d.Next.State = machine.Current()
	return d
}

var topicReasons = map[string]string{
	PayloadTrack:  "order tracking",
	PayloadReturn: "return request",
	PayloadDamage: "damaged item",
}

// topicWords route free text to a menu topic.
var topicWords = map[string]string{
	"track": PayloadTrack, "tracking": PayloadTrack, "where": PayloadTrack, "shipping": PayloadTrack,
	"return": PayloadReturn, "refund": PayloadReturn, "devolver": PayloadReturn, "devolución": PayloadReturn,
	"damaged": PayloadDamage, "broken": PayloadDamage, "roto": PayloadDamage, "dañado": PayloadDamage,
}

// topicOf returns the menu payload an event asks for, or "".
func topicOf(ev conversation.BotEvent) string {
	switch ev.Payload {
	case PayloadTrack, PayloadReturn, PayloadDamage, PayloadPerson:
		return ev.Payload
	}
	if asksForPerson(ev.Text) {
		return PayloadPerson
	}
	for _, w := range words(ev.Text) {
		if p, ok := topicWords[w]; ok {
			return p
		}
	}
	return ""
}

// transition fires event; staying in the same state is not an error here.
func transition(machine *fsm.FSM, event string) {
	err := machine.Event(context.Background(), event)
	var noTransition fsm.NoTransitionError
	if err != nil && !errors.As(err, &noTransition) {
		// The events above are defined for every state they are fired
		// from; reaching this is a programming error caught by the tests.
		panic("flows: menu machine: " + strings.TrimSpace(err.Error()))
	}
}
