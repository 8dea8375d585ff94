// Package tracking answers "where is my order?": it identifies the order,
// verifies the shopper, and tells the status in plain words — not shipped
// yet, on its way with the carrier and a tracking link, delivered. A late
// or stuck shipment gets an apology, an expectation and a follow-up the
// bot keeps by itself; a delivered order that never arrived goes to a
// person with priority.
package tracking

import (
	"strconv"
	"strings"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/identify"
	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
	"github.com/frontdesk/frontdesk/orders"
)

// Name is the flow's name in FlowState.Flow.
const Name = turn.FlowTracking

// States of the tracking machine, besides identify's.
const (
	StateReported   = "reported"   // status told; listening for "it never arrived"
	StateStalled    = "stalled"    // late or stuck: apologized, follow-up timer set
	StateRechecking = "rechecking" // the follow-up look-up is running
)

const (
	eventReport  = "report"
	eventStall   = "stall"
	eventRecheck = "recheck"
)

// TimerFollowUp re-checks a stalled shipment and tells the shopper.
const TimerFollowUp = "tracking_followup"

// PayloadMissing is the "It didn't arrive" quick reply under a delivered order.
const PayloadMissing = "TRACK_MISSING"

var events = turn.WithHandoff(append(identify.Events(StateReported, StateStalled),
	fsm.EventDesc{Name: eventReport, Dst: StateReported, Src: []string{identify.StateStart, identify.StateLookingUp,
		identify.StateVerify, StateReported, StateStalled, StateRechecking}},
	fsm.EventDesc{Name: eventStall, Dst: StateStalled, Src: []string{identify.StateStart, identify.StateLookingUp,
		identify.StateVerify, StateReported, StateStalled}},
	fsm.EventDesc{Name: eventRecheck, Src: []string{StateStalled}, Dst: StateRechecking},
))

// NewMachine returns the tracking machine in state (start when empty).
func NewMachine(state string) *fsm.FSM {
	return identify.NewMachine(state, events)
}

// States lists every state of the machine.
func States() []string { return turn.States(events) }

// Start begins tracking with the message that asked for it.
func Start(t *turn.Turn) {
	if t.Msg.Has(understand.IntentNeverArrived) {
		t.Data[turn.KeyMissing] = "1"
	}
	if o, ok := identify.Begin(t); ok {
		report(t, o)
	}
}

// Step decides an event in a tracking state; false leaves it to the router.
func Step(t *turn.Turn) bool {
	switch t.State() {
	case identify.StateAskOrder, identify.StateLookingUp, identify.StateVerify:
		out, o := identify.Step(t)
		if out == identify.Verified {
			report(t, o)
		}
		return out != identify.Unhandled
	case StateReported, StateStalled:
		if t.State() == StateStalled && t.TimerFired(TimerFollowUp) {
			t.Fire(eventRecheck)
			identify.Lookup(t)
			return true
		}
		if !t.IsMessage() {
			return false
		}
		o, _ := t.Order()
		switch {
		case t.Msg.Order != "" && t.Msg.Order != o.Number:
			if o, ok := identify.Begin(t); ok {
				report(t, o)
			}
			return true
		case t.Payload == PayloadMissing || t.Msg.Has(understand.IntentNeverArrived):
			t.Data[turn.KeyMissing] = "1"
			report(t, o)
			return true
		case t.Payload == "" && t.Topic() == understand.IntentTrack:
			report(t, o)
			return true
		}
		return false
	case StateRechecking:
		if t.IsMessage() {
			t.Say("still_checking")
			return true
		}
		o, notFound, err, ok := identify.Result(t)
		switch {
		case !ok:
			return false
		case notFound || err != "":
			t.HandOff(turn.Handoff{Reason: "order system unavailable", Priority: conversation.PriorityNormal,
				Trigger: "follow-up lookup_order failed", Ack: "handoff_order_system"})
			return true
		}
		t.SetOrder(o)
		t.Lead("track_followup_intro")
		if _, stuck := stalled(t, o); stuck {
			t.HandOff(turn.Handoff{Reason: "shipment stalled", Priority: conversation.PriorityNormal,
				Trigger: "no progress at the follow-up", Ack: "handoff_stalled"})
			return true
		}
		report(t, o)
		return true
	}
	return false
}

// report tells the order's status, or hands off what the bot cannot fix.
func report(t *turn.Turn, o turn.Order) {
	_, delivered := o.DeliveredAt()
	if delivered && t.Data[turn.KeyMissing] == "1" {
		t.HandOff(turn.Handoff{Reason: "missing shipment", Priority: conversation.PriorityHigh, Ack: "handoff_missing"})
		return
	}
	delete(t.Data, turn.KeyMissing)
	if o.Status == "cancelled" {
		t.Say("track_cancelled")
		t.Fire(eventReport)
		return
	}
	for _, f := range o.Fulfillments {
		if f.Status == orders.FulfillmentFailed {
			t.HandOff(turn.Handoff{Reason: "delivery failed", Priority: conversation.PriorityNormal,
				Trigger: "carrier reports a failed delivery", Ack: "handoff_delivery_failed"})
			return
		}
	}
	if text, stuck := stalled(t, o); stuck {
		if d := t.Env.Policy.FollowUpAfter; d > 0 {
			text += " " + t.T("track_followup_promise", "followup", t.DayTime(t.Ev.Now.Add(d)))
			t.SetTimer(TimerFollowUp, d)
		}
		t.Reply(text+" "+t.T("track_offer_person"), t.PersonOption())
		t.Fire(eventStall)
		return
	}
	t.CancelTimer(TimerFollowUp)
	var lines []string
	for _, f := range o.Fulfillments {
		switch f.Status {
		case orders.FulfillmentDelivered:
			when := ""
			if f.DeliveredAt != nil {
				when = t.Day(*f.DeliveredAt)
			}
			lines = append(lines, t.T("track_delivered", "delivered", when))
		case orders.FulfillmentInTransit:
			lines = append(lines, inTransit(t, o, f))
		}
	}
	if len(lines) < len(o.Fulfillments) || len(lines) == 0 {
		lines = append(lines, notShipped(t, o))
	}
	if len(lines) > 1 {
		for i := range lines {
			lines[i] = t.T("track_shipment_n", "n", strconv.Itoa(i+1)) + " " + lines[i]
		}
	}
	text := strings.Join(lines, "\n")
	if delivered {
		t.Reply(text+"\n"+t.T("track_delivered_help"), turn.Option{Title: t.T("track_missing_button"), Payload: PayloadMissing})
	} else {
		t.Reply(text)
	}
	t.Fire(eventReport)
}

func inTransit(t *turn.Turn, o turn.Order, f orders.Fulfillment) string {
	carrier := f.Carrier
	if carrier == "" {
		carrier = t.T("carrier_unknown")
	}
	parts := []string{t.T("track_in_transit", "carrier", carrier)}
	if f.TrackingNumber != "" {
		parts = append(parts, t.T("track_number", "tracking_number", f.TrackingNumber))
	}
	if f.TrackingURL != "" {
		parts = append(parts, t.T("track_link", "tracking_url", f.TrackingURL))
	}
	if eta := expected(t, o); eta != "" {
		parts = append(parts, t.T("track_eta", "eta", eta))
	}
	return strings.Join(parts, " ")
}

func notShipped(t *turn.Turn, o turn.Order) string {
	if eta := expected(t, o); eta != "" {
		return t.T("track_not_shipped", "eta", eta)
	}
	return t.T("track_not_shipped_no_eta")
}

// expected says the promised delivery day, when it is still ahead.
func expected(t *turn.Turn, o turn.Order) string {
	if o.PromisedBy == nil || turn.DaysBetween(t.Now(), o.PromisedBy.In(t.Env.Hours.Loc)) < 0 {
		return ""
	}
	return t.Day(*o.PromisedBy)
}

// stalled reports whether a shipment is late (past its promised day, not
// delivered) or stuck (no carrier scan for StalledAfter), and says so.
func stalled(t *turn.Turn, o turn.Order) (string, bool) {
	if allDelivered(o) || o.Status == "cancelled" {
		return "", false
	}
	if o.PromisedBy != nil && t.Ev.Now.After(*o.PromisedBy) {
		return t.T("track_late", "eta", t.Day(*o.PromisedBy)), true
	}
	for _, f := range o.Fulfillments {
		if f.Status != orders.FulfillmentInTransit {
			continue
		}
		last := f.LastScanAt
		if last == nil {
			last = f.ShippedAt
		}
		if last != nil && t.Ev.Now.Sub(*last) >= t.Env.Policy.StalledAfter {
			return t.T("track_stalled", "last_scan", t.Day(*last), "carrier", f.Carrier), true
		}
	}
	return "", false
}

func allDelivered(o turn.Order) bool {
	for _, f := range o.Fulfillments {
		if f.Status != orders.FulfillmentDelivered {
			return false
		}
	}
	return len(o.Fulfillments) > 0
}
