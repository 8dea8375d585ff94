// Package flowtest runs bot transcripts in tests: a table of steps — the
// shopper says something, an effect's result or a timer comes back — each
// with what the bot must answer, on a fixed clock. It also builds the
// orders the transcripts talk about.
package flowtest

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/orders"
)

// Now is the transcripts' clock: Wednesday 25 November 2026, 12:00 UTC,
// inside the default business hours.
var Now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Bot returns a bot for the store "Acme" with the default configuration,
// changed by edit when it is not nil.
func Bot(t testing.TB, edit func(*flows.Config)) *flows.Bot {
	t.Helper()
	cfg := flows.DefaultConfig()
	cfg.StoreName = "Acme"
	if edit != nil {
		edit(&cfg)
	}
	bot, err := flows.NewBot(cfg)
	require.NoError(t, err)
	return bot
}

// Step is one event of a transcript and what the bot must do with it.
type Step struct {
	// The event: what the shopper sends (Say, Payload, Attach), or an
	// effect's result, or a timer.
	Say     string
	Payload string
	Attach  []conversation.Attachment
	Result  *conversation.EffectResult
	Timer   string
	// After moves the clock forward before the event.
	After time.Duration

	// Reply must be in the replies (joined by newlines); NoReply wants none.
	Reply   string
	NoReply bool
	// State is "flow/state" after the event.
	State string
	// Effect is the kind of an effect the decision must ask for; Args
	// must be among its arguments. NoEffects wants none.
	Effect    string
	Args      map[string]string
	NoEffects bool
	// Handoff is the reason of the hand-off the decision must make, with
	// Priority; empty wants none.
	Handoff  string
	Priority int
	// Options are the payloads of the last reply's quick replies.
	Options []string
	// Check inspects the decision further.
	Check func(t *testing.T, d conversation.Decision)
}

// Transcript is a conversation with the bot.
type Transcript struct {
	Bot      conversation.Bot
	Platform conversation.Platform
	Shopper  conversation.Shopper
	// State to start from; the zero state is a first contact.
	State conversation.FlowState
}

// Run plays steps in order and returns the last state.
func (tr Transcript) Run(t *testing.T, steps []Step) conversation.FlowState {
	t.Helper()
	state := tr.State
	now := Now
	effects := map[string]conversation.Effect{} // last effect of each kind
	for i, s := range steps {
		now = now.Add(s.After)
		ev := conversation.BotEvent{Kind: conversation.KindMessage, Platform: cmpOr(tr.Platform, conversation.Messenger),
			Text: s.Say, Payload: s.Payload, Attachments: s.Attach, Now: now, Shopper: tr.Shopper}
		switch {
		case s.Result != nil:
			r := *s.Result
			if r.Args == nil {
				r.Args = effects[r.Kind].Args // echo what the bot asked
			}
			ev = conversation.BotEvent{Kind: conversation.KindEffectResult, Platform: ev.Platform, Now: now,
				Shopper: tr.Shopper, Result: &r}
		case s.Timer != "":
			ev = conversation.BotEvent{Kind: conversation.KindTimer, Platform: ev.Platform, Now: now,
				Shopper: tr.Shopper, Timer: s.Timer}
		}
		before := maps.Clone(state.Data)
		d := tr.Bot.Decide(state, ev)
		require.Equal(t, before, state.Data, "step %d: Decide changed the state it was given", i)
		texts := make([]string, len(d.Replies))
		for j, r := range d.Replies {
			texts[j] = r.Text
		}
		all := strings.Join(texts, "\n")
		what := describe(i, s)
		if s.NoReply {
			require.Empty(t, d.Replies, what)
		}
		if s.Reply != "" {
			require.Contains(t, all, s.Reply, what)
		}
		if s.State != "" {
			require.Equal(t, s.State, d.Next.Flow+"/"+d.Next.State, what+"\nreplies: "+all)
		}
		if s.NoEffects {
			require.Empty(t, d.Effects, what)
		}
		if s.Effect != "" {
			var found *conversation.Effect
			for j := range d.Effects {
				if d.Effects[j].Kind == s.Effect {
					found = &d.Effects[j]
				}
			}
			require.NotNil(t, found, "%s: no %s effect in %+v", what, s.Effect, d.Effects)
			for k, v := range s.Args {
				require.Equal(t, v, found.Args[k], "%s: effect arg %s", what, k)
			}
		}
		for _, e := range d.Effects {
			effects[e.Kind] = e
		}
		if s.Handoff == "" {
			require.Nil(t, d.Handoff, "%s: unexpected hand-off, replies: %s", what, all)
		} else {
			require.NotNil(t, d.Handoff, "%s: no hand-off, replies: %s", what, all)
			require.Equal(t, s.Handoff, d.Handoff.Reason, what)
			require.Equal(t, s.Priority, d.Handoff.Priority, what)
		}
		if s.Options != nil {
			require.NotEmpty(t, d.Replies, what)
			var payloads []string
			for _, q := range d.Replies[len(d.Replies)-1].QuickReplies {
				payloads = append(payloads, q.Payload)
			}
			require.Equal(t, s.Options, payloads, what)
		}
		if s.Check != nil {
			s.Check(t, d)
		}
		state = d.Next
	}
	return state
}

func describe(i int, s Step) string {
	switch {
	case s.Result != nil:
		return "step " + itoa(i) + " (result of " + s.Result.Kind + ")"
	case s.Timer != "":
		return "step " + itoa(i) + " (timer " + s.Timer + ")"
	case s.Payload != "":
		return "step " + itoa(i) + " (tap " + s.Payload + ")"
	}
	return "step " + itoa(i) + " (" + s.Say + ")"
}

func itoa(i int) string { return strconv.Itoa(i) }

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// Photo is an image attachment.
func Photo(url string) conversation.Attachment {
	return conversation.Attachment{Type: "image", URL: url}
}

// Found is the lookup_order result for o.
func Found(o orders.Order) *conversation.EffectResult {
	return &conversation.EffectResult{Kind: "lookup_order", Args: map[string]string{"order": o.Number}, Value: mustJSON(o)}
}

// NotFound is the lookup_order result for a number no order has.
func NotFound(number string) *conversation.EffectResult {
	return &conversation.EffectResult{Kind: "lookup_order", Args: map[string]string{"order": number}, NotFound: true}
}

// LookupFailed is the lookup_order result when the order system is down.
func LookupFailed(number string) *conversation.EffectResult {
	return &conversation.EffectResult{Kind: "lookup_order", Args: map[string]string{"order": number},
		Err: "order system unavailable"}
}

// Created is the result of an effect of kind that made v; its arguments
// echo the last effect of that kind the bot asked for.
func Created(kind string, v any) *conversation.EffectResult {
	return &conversation.EffectResult{Kind: kind, Value: mustJSON(v)}
}

// Failed is the result of an effect of kind that failed for good.
func Failed(kind, err string) *conversation.EffectResult {
	return &conversation.EffectResult{Kind: kind, Err: err}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func at(d time.Duration) *time.Time {
	t := Now.Add(d)
	return &t
}

// Day is a day in hours, for the fixtures' times.
const Day = 24 * time.Hour

// Order is order #1001 of Ana, placed ten days ago: a blue vase (49.00)
// and two stoneware mugs (20.00 each), 89.00 EUR, not shipped, promised
// for Saturday. Options change it.
func Order(opts ...func(*orders.Order)) orders.Order {
	o := orders.Order{
		Number:       "1001",
		CustomerName: "Ana García",
		Email:        "Ana@Example.com",
		Phone:        "+34600111222",
		Currency:     "EUR",
		Total:        8900,
		PlacedAt:     Now.Add(-10 * Day),
		PromisedBy:   at(3 * Day),
		Status:       "open",
		Items: []orders.Item{
			{SKU: "VASE-1", Title: "Blue vase", Quantity: 1, Price: 4900},
			{SKU: "MUG-2", Title: "Stoneware mug", Quantity: 2, Price: 2000},
		},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// InTransit: shipped yesterday with DHL, scanned six hours ago, due tomorrow.
func InTransit(o *orders.Order) {
	o.PromisedBy = at(Day)
	o.Fulfillments = []orders.Fulfillment{{Carrier: "DHL", TrackingNumber: "JD0001", Status: orders.FulfillmentInTransit,
		TrackingURL: "https://track.example/JD0001", ShippedAt: at(-Day), LastScanAt: at(-6 * time.Hour)}}
}

// Delivered: delivered five days ago (Friday).
func Delivered(o *orders.Order) {
	o.PromisedBy = at(-5 * Day)
	o.Fulfillments = []orders.Fulfillment{{Carrier: "DHL", TrackingNumber: "JD0001", Status: orders.FulfillmentDelivered,
		ShippedAt: at(-7 * Day), DeliveredAt: at(-5 * Day), LastScanAt: at(-5 * Day)}}
}

// DeliveredLongAgo: delivered 40 days ago, outside the return window.
func DeliveredLongAgo(o *orders.Order) {
	Delivered(o)
	o.PlacedAt, o.PromisedBy = Now.Add(-45*Day), at(-40*Day)
	o.Fulfillments[0].DeliveredAt, o.Fulfillments[0].ShippedAt = at(-40*Day), at(-42*Day)
}

// Stuck: in transit, no carrier scan for five days, due in two days.
func Stuck(o *orders.Order) {
	InTransit(o)
	o.PromisedBy = at(2 * Day)
	o.Fulfillments[0].LastScanAt = at(-5 * Day)
	o.Fulfillments[0].ShippedAt = at(-6 * Day)
}

// Late: in transit and due yesterday.
func Late(o *orders.Order) {
	InTransit(o)
	o.PromisedBy = at(-Day)
}

// Expensive: a 600.00 order with a 550.00 lamp.
func Expensive(o *orders.Order) {
	o.Total = 60000
	o.Items = append(o.Items, orders.Item{SKU: "LAMP-3", Title: "Brass lamp", Quantity: 1, Price: 55000})
}

// WithLabel gives the delivered shipment a prepaid return label.
func WithLabel(o *orders.Order) {
	o.Fulfillments[0].LabelURL = "https://labels.example/1001.pdf"
}
