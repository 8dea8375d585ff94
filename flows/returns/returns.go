// Package returns registers a return without a person: it identifies the
// order, verifies the shopper, asks which items, checks each against the
// store's policy (delivered, within the return window, not final sale,
// not already returned), asks the reason and the resolution, and creates
// the return with a label or the promise of one. What the policy refuses
// is said in one plain sentence, with a person one tap away.
package returns

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/identify"
	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
	"github.com/frontdesk/frontdesk/orders"
)

// Name is the flow's name in FlowState.Flow.
const Name = turn.FlowReturns

// States of the returns machine, besides identify's.
const (
	StateChooseItems      = "choose_items"
	StateAskReason        = "ask_reason"
	StateChooseResolution = "choose_resolution"
	StateCreating         = "creating"     // waiting for create_return
	StateDone             = "done"         // return registered
	StateNotEligible      = "not_eligible" // the policy refused; a person offered
)

const (
	eventAskItems      = "ask_items"
	eventIneligible    = "ineligible"
	eventAskReason     = "ask_reason"
	eventAskResolution = "ask_resolution"
	eventCreate        = "create"
	eventCreated       = "created"
)

// EffectCreate creates a return: Args order, skus (comma-separated),
// reason, resolution, label_url (from the looked-up order, may be empty),
// key; the result's Value is an orders.Return.
const EffectCreate = "create_return"

// Payloads of the reason and resolution quick replies.
const (
	PayloadReasonPrefix     = "REASON:"
	PayloadResolutionPrefix = "RESOLUTION:"
)

// reasons offered as quick replies: the intent that names each, its code.
var reasons = []struct{ intent, code string }{
	{understand.IntentReasonWrongSize, "wrong_size"},
	{understand.IntentReasonChangedMind, "changed_mind"},
	{understand.IntentReasonNotAsDescribed, "not_as_described"},
	{understand.IntentReasonOther, "other"},
}

// restart are the states after which the shopper may start another return.
var restart = []string{StateDone, StateNotEligible}

var verified = []string{identify.StateStart, identify.StateLookingUp, identify.StateVerify, StateDone, StateNotEligible}

var events = turn.WithHandoff(append(identify.Events(restart...),
	fsm.EventDesc{Name: eventAskItems, Src: verified, Dst: StateChooseItems},
	fsm.EventDesc{Name: eventIneligible, Src: append(slices.Clone(verified), StateChooseItems), Dst: StateNotEligible},
	fsm.EventDesc{Name: eventAskReason, Src: append(slices.Clone(verified), StateChooseItems), Dst: StateAskReason},
	fsm.EventDesc{Name: eventAskResolution, Src: []string{StateAskReason}, Dst: StateChooseResolution},
	fsm.EventDesc{Name: eventCreate, Src: []string{StateAskReason, StateChooseResolution}, Dst: StateCreating},
	fsm.EventDesc{Name: eventCreated, Src: []string{StateCreating}, Dst: StateDone},
))

// NewMachine returns the returns machine in state (start when empty).
func NewMachine(state string) *fsm.FSM {
	return identify.NewMachine(state, events)
}

// States lists every state of the machine.
func States() []string { return turn.States(events) }

// Start begins a return with the message that asked for it.
func Start(t *turn.Turn) {
	t.Lead("return_start")
	if o, ok := identify.Begin(t); ok {
		chooseOrder(t, o)
	}
}

// Step decides an event in a returns state; false leaves it to the router.
func Step(t *turn.Turn) bool {
	o, _ := t.Order()
	switch t.State() {
	case identify.StateAskOrder, identify.StateLookingUp, identify.StateVerify:
		out, o := identify.Step(t)
		if out == identify.Verified {
			chooseOrder(t, o)
		}
		return out != identify.Unhandled
	case StateChooseItems:
		if !t.IsMessage() {
			return false
		}
		skus := t.PickItems(o, true)
		if len(skus) == 0 {
			return t.Reask("items", "return_ask_items_retry", t.ItemOptions(o, true))
		}
		t.Passed("items")
		chooseItems(t, o, skus)
		return true
	case StateAskReason:
		if !t.IsMessage() {
			return false
		}
		reason := reasonOf(t)
		if reason == "" {
			return t.Reask("reason", "return_ask_reason_retry", reasonOptions(t))
		}
		t.Passed("reason")
		t.Data[turn.KeyReason] = reason
		if res := t.Env.Policy.Resolutions; len(res) == 1 {
			resolve(t, o, res[0])
			return true
		}
		t.Ask("return_ask_resolution", resolutionOptions(t))
		t.Fire(eventAskResolution)
		return true
	case StateChooseResolution:
		if !t.IsMessage() {
			return false
		}
		res := resolutionOf(t)
		if res == "" {
			return t.Reask("resolution", "return_ask_resolution_retry", resolutionOptions(t))
		}
		t.Passed("resolution")
		resolve(t, o, res)
		return true
	case StateCreating:
		if t.IsMessage() {
			t.Say("working")
			return true
		}
		return created(t, o)
	case StateDone, StateNotEligible:
		if !t.IsMessage() {
			return false
		}
		if (t.Msg.Order != "" && t.Msg.Order != o.Number) || (t.Payload == "" && t.Topic() == understand.IntentReturn) {
			if o, ok := identify.Begin(t); ok {
				chooseOrder(t, o)
			}
			return true
		}
	}
	return false
}

// chooseOrder goes on with a verified order: refuse it whole, or ask
// which items (none to ask with a single line).
func chooseOrder(t *turn.Turn, o turn.Order) {
	if why := orderRefusal(t, o); why != "" {
		refuse(t, why)
		return
	}
	if len(o.Items) == 1 {
		chooseItems(t, o, []string{o.Items[0].SKU})
		return
	}
	t.Ask("return_ask_items", t.ItemOptions(o, true))
	t.Fire(eventAskItems)
}

// chooseItems keeps the eligible items and asks the reason.
func chooseItems(t *turn.Turn, o turn.Order, skus []string) {
	var ok, why []string
	for _, sku := range skus {
		it, _ := o.Item(sku)
		if w := itemRefusal(t, o, it); w != "" {
			why = append(why, w)
		} else {
			ok = append(ok, sku)
		}
	}
	if len(ok) == 0 {
		refuse(t, strings.Join(why, " "))
		return
	}
	t.Data[turn.KeyItems] = strings.Join(ok, ",")
	if len(why) > 0 {
		t.Reply(strings.Join(why, " "))
	}
	t.Ask("return_ask_reason", reasonOptions(t), "items", o.Titles(ok))
	t.Fire(eventAskReason)
}

func refuse(t *turn.Turn, why string) {
	t.Reply(why+" "+t.T("return_offer_person"), t.PersonOption())
	t.Fire(eventIneligible)
}

// orderRefusal says why no item of the order can be returned, or "".
func orderRefusal(t *turn.Turn, o turn.Order) string {
	at, delivered := o.DeliveredAt()
	if !delivered {
		return t.T("return_not_delivered")
	}
	closes := at.In(t.Env.Hours.Loc).AddDate(0, 0, t.Env.Policy.ReturnWindowDays)
	if turn.DaysBetween(closes, t.Now()) > 0 {
		return t.T("return_window_closed", "delivered", t.Day(at), "closed", t.Day(closes))
	}
	return ""
}

// itemRefusal says why one item cannot be returned, or "".
func itemRefusal(t *turn.Turn, o turn.Order, it orders.Item) string {
	switch {
	case it.FinalSale:
		return t.T("return_final_sale", "item", it.Title)
	case slices.Contains(o.ReturnedSKUs, it.SKU):
		return t.T("return_already", "item", it.Title)
	}
	return ""
}

func reasonOptions(t *turn.Turn) []turn.Option {
	opts := make([]turn.Option, len(reasons))
	for i, r := range reasons {
		opts[i] = turn.Option{Title: t.T(r.intent), Payload: PayloadReasonPrefix + r.code}
	}
	return opts
}

// reasonOf reads the reason: a quick reply, a known reason in words, or
// the shopper's own words.
func reasonOf(t *turn.Turn) string {
	if code, ok := strings.CutPrefix(t.Payload, PayloadReasonPrefix); ok {
		return code
	}
	ints := make([]string, len(reasons))
	for i, r := range reasons {
		ints[i] = r.intent
	}
	if best := t.Msg.Best(ints...); best != "" {
		for _, r := range reasons {
			if r.intent == best {
				return r.code
			}
		}
	}
	if len(t.Msg.Words) == 0 || t.WantsOtherTopic() {
		return ""
	}
	return turn.Clip(t.Msg.Text, 300)
}

func resolutionOptions(t *turn.Turn) []turn.Option {
	res := t.Env.Policy.Resolutions
	opts := make([]turn.Option, len(res))
	for i, r := range res {
		opts[i] = turn.Option{Title: t.T("resolution_" + r), Payload: PayloadResolutionPrefix + r}
	}
	return opts
}

// resolutionOf reads a resolution the store offers.
func resolutionOf(t *turn.Turn) string {
	res := t.Env.Policy.Resolutions
	if r, ok := strings.CutPrefix(t.Payload, PayloadResolutionPrefix); ok && slices.Contains(res, r) {
		return r
	}
	return t.Msg.Best(res...) // resolutions are named like their intents
}

// resolve creates the return, or hands a high-value order to a person.
func resolve(t *turn.Turn, o turn.Order, res string) {
	t.Data[turn.KeyResolution] = res
	if limit := t.Env.Policy.HighValueThreshold; limit > 0 && o.Total >= limit {
		t.HandOff(turn.Handoff{Reason: "high-value order", Priority: conversation.PriorityNormal,
			Trigger: "order total " + turn.FormatMoney(o.Total) + " " + o.Currency, Ack: "handoff_high_value"})
		return
	}
	key := t.NextKey("return")
	t.Data[turn.KeyPending] = key
	t.Effect(EffectCreate, map[string]string{
		"order":      o.Number,
		"skus":       t.Data[turn.KeyItems],
		"reason":     t.Data[turn.KeyReason],
		"resolution": res,
		"label_url":  o.LabelURL(),
		"key":        key,
	})
	t.Say("return_creating")
	t.Fire(eventCreate)
}

// created confirms the return.
func created(t *turn.Turn, o turn.Order) bool {
	r := t.Result(EffectCreate, map[string]string{"key": t.Data[turn.KeyPending]})
	if r == nil {
		return false
	}
	var ret orders.Return
	failure := r.Err
	if failure == "" && (r.NotFound || json.Unmarshal(r.Value, &ret) != nil || ret.RMA == "") {
		failure = "unreadable result"
	}
	if failure != "" {
		t.HandOff(turn.Handoff{Reason: "return could not be created", Priority: conversation.PriorityNormal,
			Trigger: EffectCreate + ": " + failure, Ack: "handoff_action_failed"})
		return true
	}
	delete(t.Data, turn.KeyPending)
	skus := strings.Split(t.Data[turn.KeyItems], ",")
	o.ReturnedSKUs = append(o.ReturnedSKUs, skus...)
	t.SetOrder(o)
	text := t.T("return_done", "rma", ret.RMA, "items", o.Titles(skus),
		"resolution", t.T("resolution_"+t.Data[turn.KeyResolution]))
	if label := cmp.Or(ret.LabelURL, o.LabelURL()); label != "" {
		text += " " + t.T("return_label", "label_url", label)
	} else {
		text += " " + t.T("return_no_label")
	}
	t.Reply(text)
	t.Fire(eventCreated)
	return true
}
