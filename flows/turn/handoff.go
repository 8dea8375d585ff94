package turn

import (
	"strings"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/understand"
)

// Handoff describes a hand-off to a person.
type Handoff struct {
	Reason   string
	Priority int
	// Trigger is what caused it: the shopper's words or the rule.
	Trigger string
	// Ack is the text key that tells the shopper; Vars fill it.
	Ack  string
	Vars []string
}

// summarized are the slots an agent reads in the hand-off summary.
var summarized = []string{KeyVerified, KeyItems, KeyItem, KeyReason, KeyResolution, KeyDescription}

// HandOff passes the conversation to a person: it tells the shopper who
// takes over and, out of business hours, when; attaches what the flow
// collected; and moves the machine to handed_off. The bot is not asked
// again until a person hands the conversation back.
func (t *Turn) HandOff(h Handoff) {
	collected := map[string]string{}
	if t.Flow != "" {
		collected["step"] = t.Flow + "/" + t.M.Current()
	}
	for _, k := range summarized {
		if v := t.Data[k]; v != "" {
			collected[k] = v
		}
	}
	if t.Data[KeyMissing] == "1" {
		collected["never_arrived"] = "the shopper says it never arrived"
	}
	if t.Data[KeyOrder] != "" && t.Data[KeyVerified] == "" {
		collected[KeyVerified] = "no"
	}
	if o, ok := t.Order(); ok {
		collected["order_status"] = o.Status
		collected["order_total"] = FormatMoney(o.Total) + " " + o.Currency
		if names := o.ItemTitles(t.Data[KeyItems]); names != "" {
			collected[KeyItems] = names
		}
		if names := o.ItemTitles(t.Data[KeyItem]); names != "" {
			collected[KeyItem] = names
		}
	}
	var evidence []string
	if e := t.Data[KeyEvidence]; e != "" {
		evidence = strings.Split(e, "\n")
	}
	intent := t.Flow
	if intent == "" || intent == "menu" {
		intent = t.Msg.Best(understand.IntentDamage, understand.IntentReturn, understand.IntentTrack)
	}
	trigger := h.Trigger
	if trigger == "" && t.IsMessage() {
		trigger = t.Ev.Text
	}
	t.handoff = &conversation.Handoff{
		Reason:   h.Reason,
		Priority: h.Priority,
		Summary: conversation.HandoffSummary{
			Intent:    intent,
			Order:     t.Data[KeyOrder],
			Trigger:   trigger,
			Collected: collected,
			Evidence:  evidence,
		},
	}
	text := t.T(h.Ack, h.Vars...)
	if !t.Env.Hours.Open(t.Ev.Now) {
		if next, ok := t.Env.Hours.NextOpen(t.Ev.Now); ok {
			text = join(text, t.T("handoff_offline", "next_open", t.DayTime(next)))
		}
	}
	t.Reply(text)
	t.Data[KeyHandedOff] = "1"
	delete(t.Data, KeyChoices)
	delete(t.Data, KeyFail)
	t.Fire(EventHandoff)
}
