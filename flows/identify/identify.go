// Package identify is the first part of every order flow: find the order
// the shopper means and make sure it is theirs before anything about it
// is revealed or changed. Its states and transitions are part of each
// order flow's machine.
package identify

import (
	"encoding/json"
	"strings"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
)

// States every order flow shares.
const (
	StateStart     = "start"      // the flow has not said anything yet
	StateAskOrder  = "ask_order"  // waiting for an order number
	StateLookingUp = "looking_up" // waiting for the lookup_order effect
	StateVerify    = "verify"     // waiting for the e-mail or phone digits
)

// Events of the identification.
const (
	EventAsk      = "ask_order"
	EventLookup   = "lookup"
	EventNotFound = "not_found"
	EventFound    = "found"
)

// EffectLookup looks an order up: Args {"order": number}; the result's
// Value is an orders.Order, or NotFound, or Err.
const EffectLookup = "lookup_order"

// NewMachine returns a flow's machine, built from events that include
// Events, in state (StateStart when empty).
func NewMachine(state string, events fsm.Events) *fsm.FSM {
	if state == "" {
		state = StateStart
	}
	return fsm.NewFSM(state, events, nil)
}

// Events are the identification's transitions. lookupFrom are the flow's
// own states in which the shopper may name another order to look up.
func Events(lookupFrom ...string) fsm.Events {
	return fsm.Events{
		{Name: EventAsk, Src: []string{StateStart}, Dst: StateAskOrder},
		{Name: EventLookup, Src: append([]string{StateStart, StateAskOrder, StateLookingUp, StateVerify}, lookupFrom...),
			Dst: StateLookingUp},
		{Name: EventNotFound, Src: []string{StateLookingUp}, Dst: StateAskOrder},
		{Name: EventFound, Src: []string{StateLookingUp}, Dst: StateVerify},
	}
}

// Outcome says what Step did.
type Outcome int

const (
	// Unhandled: not an identification state, a stale event, or a
	// message about another topic; the caller decides.
	Unhandled Outcome = iota
	// Handled: the step replied, asked, looked up or handed off.
	Handled
	// Verified: the order is known and the shopper owns it; the flow
	// goes on from the current state, with the order.
	Verified
)

// Begin starts identifying at the flow's start. It reuses the order the
// shopper already proved theirs earlier in the conversation, looks up an
// order number the message names, or asks for one; it returns true with
// the order when the flow can go on at once.
func Begin(t *turn.Turn) (turn.Order, bool) {
	num := t.Msg.OrderNumber(true)
	if num == "" || num == t.Data[turn.KeyOrder] {
		if o, ok := t.Order(); ok && t.Data[turn.KeyVerified] != "" {
			return o, true
		}
	}
	if num != "" {
		lookup(t, num)
		return turn.Order{}, false
	}
	claim(t)
	t.Fire(EventAsk)
	t.Say("ask_order")
	return turn.Order{}, false
}

// Step handles an event in one of the identification states.
func Step(t *turn.Turn) (Outcome, turn.Order) {
	switch t.State() {
	case StateAskOrder:
		if !t.IsMessage() {
			return Unhandled, turn.Order{}
		}
		if num := t.Msg.OrderNumber(true); num != "" {
			lookup(t, num)
			return Handled, turn.Order{}
		}
		claim(t)
		if t.WantsOtherTopic() {
			return Unhandled, turn.Order{}
		}
		if t.Fail("order") >= 2 {
			t.HandOff(turn.Handoff{Reason: "no order number", Priority: conversation.PriorityNormal, Ack: "handoff_no_order"})
		} else {
			t.Say("ask_order_retry")
		}
		return Handled, turn.Order{}
	case StateLookingUp:
		if t.IsMessage() {
			// Only an order named as one: a bare number now is more
			// likely the phone digits the next question asks for.
			if num := t.Msg.Order; num != "" && num != t.Data[turn.KeyOrder] {
				lookup(t, num)
				return Handled, turn.Order{}
			}
			claim(t)
			if c := phoneCandidates(t.Msg); t.Data[turn.KeyClaim] == "" && len(c) > 0 {
				t.Data[turn.KeyClaim] = c[0]
			}
			t.Say("still_checking")
			return Handled, turn.Order{}
		}
		return found(t)
	case StateVerify:
		if !t.IsMessage() {
			return Unhandled, turn.Order{}
		}
		if num := t.Msg.Order; num != "" && num != t.Data[turn.KeyOrder] {
			lookup(t, num)
			return Handled, turn.Order{}
		}
		o, _ := t.Order()
		candidates := phoneCandidates(t.Msg)
		if how := match(o, t.Msg.Email, candidates); how != "" {
			verified(t, o, how)
			t.Lead("verified")
			return Verified, o
		}
		if t.Msg.Email == "" && len(candidates) == 0 && t.WantsOtherTopic() {
			return Unhandled, turn.Order{}
		}
		if t.Fail("verify") >= 2 {
			t.HandOff(turn.Handoff{Reason: "verification failed", Priority: conversation.PriorityNormal, Ack: "handoff_verify_failed"})
		} else {
			t.Say("verify_failed")
		}
		return Handled, turn.Order{}
	}
	return Unhandled, turn.Order{}
}

// Lookup looks the conversation's order up again, for a flow that wants
// fresh data (a tracking follow-up). The result comes back to the flow.
func Lookup(t *turn.Turn) {
	t.Effect(EffectLookup, map[string]string{"order": t.Data[turn.KeyOrder]})
}

// Result returns the order in a lookup result for the conversation's
// order; ok is false for a stale event. A failed look-up returns err or
// notFound.
func Result(t *turn.Turn) (o turn.Order, notFound bool, err string, ok bool) {
	r := t.Result(EffectLookup, map[string]string{"order": t.Data[turn.KeyOrder]})
	if r == nil {
		return turn.Order{}, false, "", false
	}
	switch {
	case r.Err != "":
		return turn.Order{}, false, r.Err, true
	case r.NotFound:
		return turn.Order{}, true, "", true
	}
	if e := json.Unmarshal(r.Value, &o.Order); e != nil || o.Number == "" {
		return turn.Order{}, false, "unreadable order", true
	}
	return o, false, "", true
}

func lookup(t *turn.Turn, num string) {
	if num != t.Data[turn.KeyOrder] {
		t.ForgetOrder()
	}
	t.Data[turn.KeyOrder] = num
	claim(t)
	Lookup(t)
	t.Fire(EventLookup)
	t.Say("checking_order")
}

// found handles the lookup result.
func found(t *turn.Turn) (Outcome, turn.Order) {
	o, notFound, err, ok := Result(t)
	switch {
	case !ok:
		return Unhandled, turn.Order{}
	case err != "":
		t.HandOff(turn.Handoff{Reason: "order system unavailable", Priority: conversation.PriorityNormal,
			Trigger: "lookup_order: " + err, Ack: "handoff_order_system"})
		return Handled, turn.Order{}
	case notFound:
		if t.Fail("order") >= 2 {
			t.HandOff(turn.Handoff{Reason: "order not found", Priority: conversation.PriorityNormal,
				Trigger: "order #" + t.Data[turn.KeyOrder] + " not found twice", Ack: "handoff_not_found"})
			return Handled, turn.Order{}
		}
		t.Fire(EventNotFound)
		t.Say("order_not_found")
		delete(t.Data, turn.KeyOrder)
		return Handled, turn.Order{}
	}
	t.Passed("order")
	t.SetOrder(o)
	if how := autoVerify(t, o); how != "" {
		verified(t, o, how)
		return Verified, o
	}
	if o.Email == "" && o.Phone == "" {
		t.HandOff(turn.Handoff{Reason: "verification failed", Priority: conversation.PriorityNormal,
			Trigger: "the order has no e-mail or phone to verify against", Ack: "handoff_verify_failed"})
		return Handled, turn.Order{}
	}
	t.Fire(EventFound)
	t.Say("ask_verify")
	return Handled, turn.Order{}
}

// autoVerify verifies without a question: the channel's phone number is
// the order's, or the shopper gave the e-mail or phone before the look-up.
func autoVerify(t *turn.Turn, o turn.Order) string {
	if p := understand.Digits(t.Ev.Shopper.Phone); p != "" && p == understand.Digits(o.Phone) {
		return "channel phone"
	}
	c := t.Data[turn.KeyClaim]
	if strings.Contains(c, "@") {
		return match(o, c, nil)
	}
	if c != "" {
		return match(o, "", []string{c})
	}
	return ""
}

// match checks an e-mail and phone digits against the order's.
func match(o turn.Order, email string, digits []string) string {
	if email != "" && o.Email != "" && strings.EqualFold(strings.TrimSpace(email), strings.TrimSpace(o.Email)) {
		return "email"
	}
	phone := understand.Digits(o.Phone)
	for _, d := range digits {
		if len(d) >= 4 && phone != "" && strings.HasSuffix(phone, d) {
			return "phone digits"
		}
	}
	return ""
}

func phoneCandidates(m understand.Message) []string {
	var c []string
	if m.Phone != "" {
		c = append(c, m.Phone)
	}
	for _, n := range m.Numbers {
		if len(n) >= 4 {
			c = append(c, n)
		}
	}
	return c
}

// claim keeps an e-mail or phone number the shopper gave before the
// look-up, to verify them without asking.
func claim(t *turn.Turn) {
	switch {
	case t.Msg.Email != "":
		t.Data[turn.KeyClaim] = t.Msg.Email
	case t.Msg.Phone != "":
		t.Data[turn.KeyClaim] = t.Msg.Phone
	}
}

func verified(t *turn.Turn, o turn.Order, how string) {
	t.Data[turn.KeyVerified] = how
	delete(t.Data, turn.KeyClaim)
	t.Passed("verify")
	t.SetOrder(o)
}
