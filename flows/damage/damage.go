// Package damage handles "it arrived broken" without a debate: it
// apologizes, identifies the order, verifies the shopper, asks which item,
// collects photos of the item and of the packaging and a short
// description, then approves a replacement or refund up to the store's
// auto-approve limit, or records the case for a person to decide above it.
package damage

import (
	"encoding/json"
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
const Name = turn.FlowDamage

// States of the damage machine, besides identify's.
const (
	StateChooseItem       = "choose_item"
	StatePhotoItem        = "photo_item"      // waiting for a photo of the item
	StatePhotoPackaging   = "photo_packaging" // waiting for a photo of the packaging
	StateDescribe         = "describe"
	StateChooseResolution = "choose_resolution"
	StateCreating         = "creating" // waiting for create_damage_case
	StateDone             = "done"
)

const (
	eventAskItem        = "ask_item"
	eventAskPhoto       = "ask_photo"
	eventAskPackaging   = "ask_packaging"
	eventAskDescription = "ask_description"
	eventAskResolution  = "ask_resolution"
	eventCreate         = "create"
	eventCreated        = "created"
)

// EffectCreate records a damage case: Args order, sku, description,
// evidence (URLs, newline-separated), value (minor units), resolution
// ("refund", "replacement", or "" for a person to decide), status
// ("approved" or "escalated"), key; the result's Value is an
// orders.DamageCase.
const EffectCreate = "create_damage_case"

// TimerPhotoReminder reminds, once, a shopper who sent no photo.
const TimerPhotoReminder = "photo_reminder"

// Resolutions of a damage case, and their quick-reply payloads.
const (
	ResolutionReplacement   = "replacement"
	ResolutionRefund        = "refund"
	PayloadResolutionPrefix = "DAMAGE:"
)

var verified = []string{identify.StateStart, identify.StateLookingUp, identify.StateVerify, StateDone}

var events = turn.WithHandoff(append(identify.Events(StateDone),
	fsm.EventDesc{Name: eventAskItem, Src: verified, Dst: StateChooseItem},
	fsm.EventDesc{Name: eventAskPhoto, Src: append([]string{StateChooseItem}, verified...), Dst: StatePhotoItem},
	fsm.EventDesc{Name: eventAskPackaging, Src: []string{StatePhotoItem}, Dst: StatePhotoPackaging},
	fsm.EventDesc{Name: eventAskDescription, Src: []string{StatePhotoItem, StatePhotoPackaging}, Dst: StateDescribe},
	fsm.EventDesc{Name: eventAskResolution, Src: []string{StateDescribe}, Dst: StateChooseResolution},
	fsm.EventDesc{Name: eventCreate, Src: []string{StateChooseResolution}, Dst: StateCreating},
	fsm.EventDesc{Name: eventCreated, Src: []string{StateCreating}, Dst: StateDone},
))

// NewMachine returns the damage machine in state (start when empty).
func NewMachine(state string) *fsm.FSM {
	return identify.NewMachine(state, events)
}

// States lists every state of the machine.
func States() []string { return turn.States(events) }

// Start begins a damage report with the message that made it.
func Start(t *turn.Turn) {
	t.Lead("damage_ack")
	addEvidence(t)
	if o, ok := identify.Begin(t); ok {
		chooseOrder(t, o)
	}
}

// Step decides an event in a damage state; false leaves it to the router.
func Step(t *turn.Turn) bool {
	o, _ := t.Order()
	switch t.State() {
	case identify.StateAskOrder, identify.StateLookingUp, identify.StateVerify:
		if t.IsMessage() {
			addEvidence(t) // photos sent early are kept
		}
		out, o := identify.Step(t)
		if out == identify.Verified {
			chooseOrder(t, o)
		}
		return out != identify.Unhandled
	case StateChooseItem:
		if !t.IsMessage() {
			return false
		}
		addEvidence(t)
		skus := t.PickItems(o, false)
		if len(skus) == 0 {
			return t.Reask("item", "damage_ask_item_retry", t.ItemOptions(o, false))
		}
		t.Passed("item")
		askPhoto(t, o, skus[0])
		return true
	case StatePhotoItem:
		if t.TimerFired(TimerPhotoReminder) {
			t.Say("photo_reminder", "item", o.Titles([]string{t.Data[turn.KeyItem]}))
			return true
		}
		if !t.IsMessage() {
			return false
		}
		n := addEvidence(t)
		switch {
		case n >= 2: // the item and the packaging at once
			t.CancelTimer(TimerPhotoReminder)
			askDescription(t)
		case n == 1:
			t.CancelTimer(TimerPhotoReminder)
			t.Say("damage_ask_packaging")
			t.Fire(eventAskPackaging)
		case t.WantsOtherTopic():
			return false
		case t.Fail("photo") >= 2:
			t.HandOff(turn.Handoff{Reason: "no photos", Priority: conversation.PriorityNormal,
				Trigger: "no photo of the damaged item after two requests", Ack: "handoff_no_photo"})
		default:
			t.Say("damage_ask_photo_retry", "item", o.Titles([]string{t.Data[turn.KeyItem]}))
		}
		return true
	case StatePhotoPackaging:
		if !t.IsMessage() {
			return false
		}
		switch {
		case addEvidence(t) > 0, t.Msg.Has(understand.IntentNoPackaging):
			askDescription(t)
		case t.WantsOtherTopic():
			return false
		case t.Fail("packaging") >= 2: // nice to have: go on without it
			askDescription(t)
		default:
			t.Say("damage_ask_packaging_retry")
		}
		return true
	case StateDescribe:
		if !t.IsMessage() {
			return false
		}
		addEvidence(t)
		if len(t.Msg.Words) == 0 {
			t.Say("damage_ask_description")
			return true
		}
		t.Data[turn.KeyDescription] = turn.Clip(t.Msg.Text, 500)
		decide(t, o)
		return true
	case StateChooseResolution:
		if !t.IsMessage() {
			return false
		}
		res := resolutionOf(t)
		if res == "" {
			return t.Reask("resolution", "damage_ask_resolution_retry", resolutionOptions(t))
		}
		t.Passed("resolution")
		t.Data[turn.KeyResolution] = res
		record(t, o, "approved", res)
		t.Say("damage_creating")
		t.Fire(eventCreate)
		return true
	case StateCreating:
		if t.IsMessage() {
			t.Say("working")
			return true
		}
		return created(t, o)
	case StateDone:
		if !t.IsMessage() {
			return false
		}
		if (t.Msg.Order != "" && t.Msg.Order != o.Number) || (t.Payload == "" && t.Topic() == understand.IntentDamage) {
			for _, k := range []string{turn.KeyItem, turn.KeyEvidence, turn.KeyDescription, turn.KeyResolution} {
				delete(t.Data, k)
			}
			Start(t)
			return true
		}
	}
	return false
}

// chooseOrder goes on with a verified order: which item (none to ask
// with a single line).
func chooseOrder(t *turn.Turn, o turn.Order) {
	if len(o.Items) == 1 {
		askPhoto(t, o, o.Items[0].SKU)
		return
	}
	t.Ask("damage_ask_item", t.ItemOptions(o, false))
	t.Fire(eventAskItem)
}

func askPhoto(t *turn.Turn, o turn.Order, sku string) {
	t.Data[turn.KeyItem] = sku
	item := o.Titles([]string{sku})
	// Photos sent before the question count.
	switch n := strings.Count(t.Data[turn.KeyEvidence], "\n") + 1; {
	case t.Data[turn.KeyEvidence] != "" && n >= 2:
		t.Fire(eventAskPhoto)
		askDescription(t)
	case t.Data[turn.KeyEvidence] != "":
		t.Fire(eventAskPhoto)
		t.Fire(eventAskPackaging)
		t.Say("damage_ask_packaging")
	default:
		t.Say("damage_ask_photo", "item", item)
		t.SetTimer(TimerPhotoReminder, t.Env.Policy.PhotoReminderAfter)
		t.Fire(eventAskPhoto)
	}
}

func askDescription(t *turn.Turn) {
	t.Passed("photo")
	t.Passed("packaging")
	t.Say("damage_ask_description")
	t.Fire(eventAskDescription)
}

// decide approves up to the auto-approve limit, or records the case for
// a person.
func decide(t *turn.Turn, o turn.Order) {
	value := lineValue(o, t.Data[turn.KeyItem])
	policy := t.Env.Policy
	switch {
	case policy.HighValueThreshold > 0 && o.Total >= policy.HighValueThreshold:
		record(t, o, "escalated", "")
		t.HandOff(turn.Handoff{Reason: "high-value order", Priority: conversation.PriorityNormal,
			Trigger: "order total " + turn.FormatMoney(o.Total) + " " + o.Currency, Ack: "handoff_high_value"})
	case value > policy.AutoApproveLimit:
		record(t, o, "escalated", "")
		t.HandOff(turn.Handoff{Reason: "damage above auto-approve limit", Priority: conversation.PriorityNormal,
			Trigger: "item value " + turn.FormatMoney(value) + " " + o.Currency, Ack: "handoff_damage_review"})
	default:
		t.Ask("damage_ask_resolution", resolutionOptions(t), "item", o.Titles([]string{t.Data[turn.KeyItem]}))
		t.Fire(eventAskResolution)
	}
}

func lineValue(o turn.Order, sku string) orders.Money {
	it, _ := o.Item(sku)
	return it.Price * orders.Money(max(it.Quantity, 1))
}

// record asks for the damage case with everything collected.
func record(t *turn.Turn, o turn.Order, status, resolution string) {
	key := t.NextKey("damage")
	t.Data[turn.KeyPending] = key
	t.Effect(EffectCreate, map[string]string{
		"order":       o.Number,
		"sku":         t.Data[turn.KeyItem],
		"description": t.Data[turn.KeyDescription],
		"evidence":    t.Data[turn.KeyEvidence],
		"value":       strconv.FormatInt(int64(lineValue(o, t.Data[turn.KeyItem])), 10),
		"resolution":  resolution,
		"status":      status,
		"key":         key,
	})
}

func resolutionOptions(t *turn.Turn) []turn.Option {
	return []turn.Option{
		{Title: t.T("resolution_replacement"), Payload: PayloadResolutionPrefix + ResolutionReplacement},
		{Title: t.T("resolution_refund"), Payload: PayloadResolutionPrefix + ResolutionRefund},
	}
}

func resolutionOf(t *turn.Turn) string {
	switch strings.TrimPrefix(t.Payload, PayloadResolutionPrefix) {
	case ResolutionReplacement:
		return ResolutionReplacement
	case ResolutionRefund:
		return ResolutionRefund
	}
	switch t.Msg.Best(understand.IntentReplacement, understand.IntentRefund) {
	case understand.IntentReplacement:
		return ResolutionReplacement
	case understand.IntentRefund:
		return ResolutionRefund
	}
	return ""
}

// created confirms an approved case.
func created(t *turn.Turn, o turn.Order) bool {
	r := t.Result(EffectCreate, map[string]string{"key": t.Data[turn.KeyPending]})
	if r == nil {
		return false
	}
	var c orders.DamageCase
	failure := r.Err
	if failure == "" && (r.NotFound || json.Unmarshal(r.Value, &c) != nil) {
		failure = "unreadable result"
	}
	if failure != "" {
		t.HandOff(turn.Handoff{Reason: "damage case could not be created", Priority: conversation.PriorityNormal,
			Trigger: EffectCreate + ": " + failure, Ack: "handoff_action_failed"})
		return true
	}
	delete(t.Data, turn.KeyPending)
	sku := t.Data[turn.KeyItem]
	t.Say("damage_done_"+t.Data[turn.KeyResolution], "item", o.Titles([]string{sku}),
		"case", strconv.FormatInt(c.ID, 10), "amount", t.Money(lineValue(o, sku), o.Currency))
	t.Fire(eventCreated)
	return true
}

// addEvidence keeps the message's photos, videos and files and returns
// how many it had.
func addEvidence(t *turn.Turn) int {
	urls := t.Media()
	if len(urls) > 0 {
		t.Data[turn.KeyEvidence] = strings.TrimPrefix(t.Data[turn.KeyEvidence]+"\n"+strings.Join(urls, "\n"), "\n")
	}
	return len(urls)
}
