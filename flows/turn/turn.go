// Package turn is what every flow uses to decide one event: the event and
// what the bot understood of it, the store's policies and words, the
// conversation's slots, and the decision being built — replies, effects,
// timers, a hand-off. A Turn is used by one decision and thrown away; it
// does no I/O and reads the clock only from the event.
package turn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/looplab/fsm"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/understand"
	"github.com/frontdesk/frontdesk/orders"
)

// Env is what every decision reads besides the event. flows.NewBot builds
// it once from the configuration; it is never changed afterwards.
type Env struct {
	Store  string
	Policy Policy
	Hours  Hours
	// Texts maps locale → text key → text, complete for DefaultLocale.
	Texts         map[string]map[string]string
	DefaultLocale string
	Matcher       *understand.Matcher
}

// Policy is the store's rules, in the units the flows use.
type Policy struct {
	ReturnWindowDays int
	Resolutions      []string // return resolutions offered, in order
	AutoApproveLimit orders.Money
	// HighValueThreshold sends orders worth this much or more to a person
	// before any action; 0 turns the rule off.
	HighValueThreshold orders.Money
	StalledAfter       time.Duration
	// PhotoReminderAfter and FollowUpAfter are timer delays; 0 turns the
	// timer off.
	PhotoReminderAfter time.Duration
	FollowUpAfter      time.Duration
	// HandoffAfterMisunderstood consecutive messages the bot did not
	// understand hand off; 0 never does.
	HandoffAfterMisunderstood int
}

// Slots every flow shares, in FlowState.Data. Flows keep their own slots
// next to these; all values are strings.
const (
	KeyLocale        = "locale"
	KeyHandedOff     = "handed_off"    // "1" once handed to a person
	KeyMisunderstood = "misunderstood" // consecutive messages not understood
	KeyChoices       = "choices"       // payloads of the last offered options, "|"-separated
	KeyFail          = "fail"          // "<step>:<n>": consecutive failures of one step
	KeySeq           = "seq"           // counter for idempotency keys
	KeyOrder         = "order"         // the order number being handled
	KeySnapshot      = "snap"          // the looked-up order, JSON
	KeyVerified      = "verified"      // how the shopper proved the order is theirs
	KeyClaim         = "claim"         // e-mail or phone digits given before the look-up
	KeyPending       = "pending"       // idempotency key of the action effect awaited
	KeyItems         = "items"         // SKUs, comma-separated
	KeyItem          = "item"          // one SKU
	KeyReason        = "reason"
	KeyResolution    = "resolution"
	KeyDescription   = "description"
	KeyEvidence      = "evidence" // attachment URLs, newline-separated
	KeyMissing       = "missing"  // "1": the shopper said a delivered order never arrived
	timerPrefix      = "t:"
)

// keep are the slots that survive a change of topic: the shopper need not
// identify the same order twice.
var keep = []string{KeyLocale, KeySeq, KeyOrder, KeySnapshot, KeyVerified}

// Event names shared by every machine.
const (
	StateHandedOff = "handed_off"
	EventHandoff   = "handoff"
)

// Option is one quick reply.
type Option struct {
	Title   string
	Payload string
}

// Turn is one event being decided.
type Turn struct {
	Env *Env
	Ev  conversation.BotEvent
	// Msg is what the bot understood of the event's text.
	Msg understand.Message
	// Payload is the quick-reply or postback payload, or the payload of
	// the option whose number the shopper typed.
	Payload string
	// Flow and M are the running flow and its machine.
	Flow string
	M    *fsm.FSM
	// Data is the conversation's slots, a copy the turn may change.
	Data map[string]string

	replies []conversation.Reply
	effects []conversation.Effect
	handoff *conversation.Handoff
	lead    string
	offered bool
}

// New starts deciding ev in state. The caller sets Flow and M.
func New(env *Env, state conversation.FlowState, ev conversation.BotEvent) *Turn {
	t := &Turn{Env: env, Ev: ev, Flow: state.Flow, Data: make(map[string]string, len(state.Data)+4)}
	for k, v := range state.Data {
		t.Data[k] = v
	}
	if t.IsMessage() {
		text := ev.Text
		if ev.Payload != "" {
			// A tap: the text is the title the bot wrote (an item may be
			// called "Human Race sneakers"), not the shopper's words.
			text = ""
		}
		t.Msg = env.Matcher.Parse(text)
		// One word sets the language of a new conversation ("hola"); it
		// takes two to change it, so a Spanish "ok" stays Spanish.
		if l := t.Msg.Locale; l != "" && env.Texts[l] != nil && (t.Data[KeyLocale] == "" || t.Msg.LocaleWords >= 2) {
			t.Data[KeyLocale] = l
		}
		t.Payload = ev.Payload
		if picked := t.picked(); t.Payload == "" && len(picked) == 1 {
			t.Payload = picked[0]
		}
	}
	if env.Texts[t.Data[KeyLocale]] == nil {
		t.Data[KeyLocale] = env.DefaultLocale
	}
	return t
}

// IsMessage reports whether the event is something the shopper sent.
func (t *Turn) IsMessage() bool {
	return t.Ev.Kind != conversation.KindEffectResult && t.Ev.Kind != conversation.KindTimer
}

// Locale is the conversation's language.
func (t *Turn) Locale() string { return t.Data[KeyLocale] }

// Fire moves the machine. The flows fire only events their machines
// define for the current state, so an error is a programming error; it
// panics and the bot turns the panic into a hand-off.
func (t *Turn) Fire(event string) {
	err := t.M.Event(context.Background(), event)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		panic(fmt.Sprintf("flow %s: event %s in state %s: %v", t.Flow, event, t.M.Current(), err))
	}
}

// State is the machine's current state.
func (t *Turn) State() string { return t.M.Current() }

// Lead puts the text key before the next reply of this turn.
func (t *Turn) Lead(key string, vars ...string) {
	t.lead = join(t.lead, t.T(key, vars...))
}

// Say replies with the text key.
func (t *Turn) Say(key string, vars ...string) { t.Reply(t.T(key, vars...)) }

// Ask replies with the text key and options under it.
func (t *Turn) Ask(key string, opts []Option, vars ...string) {
	t.Reply(t.T(key, vars...), opts...)
}

// Reply sends text with options. On WhatsApp, which shows no quick
// replies here, the options are also numbered in the text; on every
// channel the shopper may answer with an option's number.
func (t *Turn) Reply(text string, opts ...Option) {
	text = join(t.lead, text)
	t.lead = ""
	r := conversation.Reply{Text: text}
	if len(opts) > 0 {
		payloads := make([]string, len(opts))
		var list strings.Builder
		for i, o := range opts {
			payloads[i] = o.Payload
			fmt.Fprintf(&list, "\n%d. %s", i+1, o.Title)
			if len(r.QuickReplies) < maxQuickReplies {
				r.QuickReplies = append(r.QuickReplies, conversation.QuickReply{Title: shorten(o.Title), Payload: o.Payload})
			}
		}
		if t.Ev.Platform == conversation.WhatsApp || len(opts) > maxQuickReplies {
			r.Text += "\n" + list.String()
		}
		t.Data[KeyChoices] = strings.Join(payloads, "|")
		t.offered = true
	}
	t.replies = append(t.replies, r)
}

// Messenger and Instagram show at most 13 quick replies of 20 characters.
const (
	maxQuickReplies = 13
	maxTitle        = 20
)

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxTitle {
		return s
	}
	return strings.TrimSpace(string(r[:maxTitle-1])) + "…"
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// picked maps the numbers the shopper typed to the options last offered;
// nil unless every number names an option.
func (t *Turn) picked() []string {
	c := t.Data[KeyChoices]
	if c == "" || len(t.Msg.Choices) == 0 {
		return nil
	}
	options := strings.Split(c, "|")
	var picked []string
	for _, n := range t.Msg.Choices {
		if n < 1 || n > len(options) {
			return nil
		}
		picked = append(picked, options[n-1])
	}
	return picked
}

// Picked returns the payloads the shopper chose: a tapped quick reply, or
// one or more typed option numbers.
func (t *Turn) Picked() []string {
	if t.Ev.Payload != "" {
		return []string{t.Ev.Payload}
	}
	return t.picked()
}

// Effect asks for slow work.
func (t *Turn) Effect(kind string, args map[string]string) {
	t.effects = append(t.effects, conversation.Effect{Kind: kind, Args: args})
}

// NextKey returns a new idempotency key for an action on the order,
// unique within the conversation.
func (t *Turn) NextKey(action string) string {
	n, _ := strconv.Atoi(t.Data[KeySeq])
	n++
	t.Data[KeySeq] = strconv.Itoa(n)
	return action + ":" + t.Data[KeyOrder] + ":" + strconv.Itoa(n)
}

// SetTimer asks to be woken with a KindTimer event named name after delay;
// a delay of 0 sets nothing.
func (t *Turn) SetTimer(name string, delay time.Duration) {
	if delay <= 0 {
		return
	}
	t.effects = append(t.effects, conversation.Effect{Kind: conversation.EffectTimer,
		Args: map[string]string{"name": name}, Delay: delay})
	t.Data[timerPrefix+name] = strconv.FormatInt(t.Ev.Now.Add(delay).Unix(), 10)
}

// TimerFired reports whether the event is the timer name that the bot set
// last and still waits for, and forgets it. An earlier timer of the same
// name, one the bot cancelled, or one from before a hand-off is stale.
func (t *Turn) TimerFired(name string) bool {
	if t.Ev.Kind != conversation.KindTimer || t.Ev.Timer != name {
		return false
	}
	due, err := strconv.ParseInt(t.Data[timerPrefix+name], 10, 64)
	if err != nil || t.Ev.Now.Unix() < due-60 {
		return false
	}
	delete(t.Data, timerPrefix+name)
	return true
}

// CancelTimer makes a timer already set stale.
func (t *Turn) CancelTimer(name string) { delete(t.Data, timerPrefix+name) }

// Result returns the event's effect result when it is of kind and echoes
// want's arguments; anything else is stale for the caller.
func (t *Turn) Result(kind string, want map[string]string) *conversation.EffectResult {
	r := t.Ev.Result
	if t.Ev.Kind != conversation.KindEffectResult || r == nil || r.Kind != kind {
		return nil
	}
	for k, v := range want {
		if r.Args[k] != v {
			return nil
		}
	}
	return r
}

// Fail counts a failure of step and returns how many in a row; a failure
// of another step starts again at one.
func (t *Turn) Fail(step string) int {
	n := 0
	if s, count, ok := strings.Cut(t.Data[KeyFail], ":"); ok && s == step {
		n, _ = strconv.Atoi(count)
	}
	n++
	t.Data[KeyFail] = step + ":" + strconv.Itoa(n)
	return n
}

// Retry counts a failed answer at step; the second in a row hands off
// ("stuck at <step>"), and Retry reports whether it did.
func (t *Turn) Retry(step string) bool {
	if t.Fail(step) < 2 {
		return false
	}
	t.HandOff(Handoff{Reason: "stuck at " + step, Priority: conversation.PriorityNormal,
		Trigger: "no usable answer twice", Ack: "handoff_stuck"})
	return true
}

// Reask answers a message that gave nothing usable at step. It returns
// false when the shopper has turned to another topic, so the router takes
// the message; otherwise it asks again (key, with opts), or hands off after
// the second miss in a row, and returns true: the message is handled.
func (t *Turn) Reask(step, key string, opts []Option) bool {
	if t.WantsOtherTopic() {
		return false
	}
	if !t.Retry(step) {
		t.Ask(key, opts)
	}
	return true
}

// Clip cuts s to n characters.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Passed forgets the failures of step.
func (t *Turn) Passed(step string) {
	if s, _, _ := strings.Cut(t.Data[KeyFail], ":"); s == step {
		delete(t.Data, KeyFail)
	}
}

// Switch starts flow with machine m: the slots of the previous topic are
// dropped, the identified order is kept.
func (t *Turn) Switch(flow string, m *fsm.FSM) {
	for k := range t.Data {
		if !slices.Contains(keep, k) {
			delete(t.Data, k)
		}
	}
	t.Flow, t.M = flow, m
}

// Reset forgets everything but the language, for a fresh start after a
// person handed the conversation back.
func (t *Turn) Reset(flow string, m *fsm.FSM) {
	for k := range t.Data {
		if k != KeyLocale && k != KeySeq {
			delete(t.Data, k)
		}
	}
	t.Flow, t.M = flow, m
}

// Decision is what the turn decided.
func (t *Turn) Decision() conversation.Decision {
	if t.lead != "" {
		t.Reply("")
	}
	if len(t.replies) > 0 && !t.offered {
		delete(t.Data, KeyChoices)
	}
	return conversation.Decision{
		Next:    conversation.FlowState{Flow: t.Flow, State: t.M.Current(), Data: t.Data},
		Replies: t.replies,
		Effects: t.effects,
		Handoff: t.handoff,
	}
}

// Flow names, as persisted in FlowState.Flow.
const (
	FlowMenu     = "menu"
	FlowTracking = "tracking"
	FlowReturns  = "returns"
	FlowDamage   = "damage"
)

// TopicFlows maps each menu topic to the flow that handles it.
var TopicFlows = map[string]string{
	understand.IntentTrack:  FlowTracking,
	understand.IntentReturn: FlowReturns,
	understand.IntentDamage: FlowDamage,
}

// Topic returns the menu topic the message names most specifically, or "".
func (t *Turn) Topic() string {
	return t.Msg.Best(understand.IntentDamage, understand.IntentReturn, understand.IntentTrack)
}

// WantsOtherTopic reports whether the message names a topic another flow
// handles: a flow waiting for a precise answer lets the router switch.
func (t *Turn) WantsOtherTopic() bool {
	topic := t.Topic()
	return topic != "" && TopicFlows[topic] != t.Flow
}
