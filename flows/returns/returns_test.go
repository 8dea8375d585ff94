package returns_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/flowtest"
	"github.com/frontdesk/frontdesk/flows/returns"
	"github.com/frontdesk/frontdesk/orders"
)

type step = flowtest.Step

var (
	order     = flowtest.Order
	found     = flowtest.Found
	delivered = flowtest.Delivered
)

var reasons = []string{"REASON:wrong_size", "REASON:changed_mind", "REASON:not_as_described", "REASON:other"}

// verified starts a return of #1001 as o and verifies the shopper.
func verified(o orders.Order) []step {
	return []step{
		{Payload: flows.PayloadReturn, Say: "Return an item", State: "returns/ask_order",
			Reply: "Sure — I can help with a return. What's your order number?"},
		{Say: "#1001", Reply: "Let me check order #1001…", Effect: "lookup_order", State: "returns/looking_up"},
		{Result: found(o), State: "returns/verify"},
	}
}

func with(first []step, rest ...step) []step { return append(first[:len(first):len(first)], rest...) }

func rma(label string) orders.Return {
	return orders.Return{RMA: "RMA-1001-3F9K", OrderNumber: "1001", SKUs: []string{"MUG-2"}, LabelURL: label, Status: "requested"}
}

func TestReturnTranscripts(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tests := []struct {
		name     string
		platform conversation.Platform
		steps    []step
	}{
		{name: "happy path with label", steps: with(verified(order(delivered, flowtest.WithLabel)),
			step{Say: "1222", State: "returns/choose_items",
				Reply:   "Thanks, that matches. Which item from order #1001 would you like to return?",
				Options: []string{"ITEM:VASE-1", "ITEM:MUG-2", "ITEM_ALL"}},
			step{Say: "the mugs", State: "returns/ask_reason", Reply: "Got it: Stoneware mug. What's the reason for the return?",
				Options: reasons},
			step{Payload: "REASON:wrong_size", Say: "Wrong size", State: "returns/choose_resolution",
				Options: []string{"RESOLUTION:refund", "RESOLUTION:exchange", "RESOLUTION:store_credit"}},
			step{Say: "store credit please", State: "returns/creating", Reply: "Registering your return…",
				Effect: returns.EffectCreate, Args: map[string]string{"order": "1001", "skus": "MUG-2", "reason": "wrong_size",
					"resolution": "store_credit", "key": "return:1001:1"}},
			step{Say: "?", Reply: "I'm on it", State: "returns/creating", NoEffects: true},
			step{Result: flowtest.Created(returns.EffectCreate, rma("https://labels.example/1001.pdf")), State: "returns/done",
				Reply: "Done! Your return RMA-1001-3F9K is registered for Stoneware mug (Store credit). " +
					"Here's your prepaid return label: https://labels.example/1001.pdf"},
			step{Say: "thank you", Reply: "You're welcome!", State: "returns/done"},
		)},
		{name: "no label: one will be e-mailed", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com"},
			step{Say: "vase", State: "returns/ask_reason"},
			step{Say: "I just don't like the colour in my living room", State: "returns/choose_resolution"},
			step{Payload: "RESOLUTION:refund", Say: "Refund", Effect: returns.EffectCreate,
				Args: map[string]string{"skus": "VASE-1", "reason": "I just don't like the colour in my living room", "resolution": "refund"}},
			step{Result: flowtest.Created(returns.EffectCreate, rma("")), Reply: "We'll e-mail you a prepaid return label shortly."},
		)},
		{name: "all items, by number on WhatsApp", platform: conversation.WhatsApp, steps: with(verified(order(delivered)),
			step{Say: "ana@example.com", Reply: "1. Blue vase\n2. Stoneware mug\n3. All items"},
			step{Say: "3", Reply: "Got it: Blue vase, Stoneware mug.", State: "returns/ask_reason"},
			step{Say: "2", State: "returns/choose_resolution"},
			step{Say: "1", Effect: returns.EffectCreate, Args: map[string]string{"skus": "VASE-1,MUG-2", "reason": "changed_mind",
				"resolution": "refund"}},
		)},
		{name: "two numbers pick two items", steps: with(verified(order(delivered, flowtest.Expensive, func(o *orders.Order) {
			o.Total = 10000
		})),
			step{Say: "ana@example.com"},
			step{Say: "1 and 3", Reply: "Got it: Blue vase, Brass lamp."},
		)},
		{name: "a single-line order skips the item question", steps: with(verified(order(delivered, func(o *orders.Order) {
			o.Items = o.Items[:1]
		})),
			step{Say: "ana@example.com", Reply: "Got it: Blue vase. What's the reason", State: "returns/ask_reason"},
		)},
		{name: "window closed: the policy and a person", steps: with(verified(order(flowtest.DeliveredLongAgo)),
			step{Say: "ana@example.com", State: "returns/not_eligible", Options: []string{flows.PayloadPerson},
				Reply: "We accept returns within 30 days of delivery; order #1001 was delivered on 16 October, so the return window closed on 15 November."},
			step{Payload: flows.PayloadPerson, Say: "Talk to a person", Handoff: "asked for a person", Priority: conversation.PriorityElevated},
		)},
		{name: "not delivered yet", steps: with(verified(order(flowtest.InTransit)),
			step{Say: "ana@example.com", State: "returns/not_eligible",
				Reply: "Returns open once an order has been delivered, and order #1001 hasn't been delivered yet."},
		)},
		{name: "final sale refused, the rest goes on", steps: with(verified(order(delivered, func(o *orders.Order) {
			o.Items[0].FinalSale = true
		})),
			step{Say: "ana@example.com"},
			step{Say: "all of them", State: "returns/ask_reason", Reply: "Blue vase was sold as final sale, so it can't be returned.",
				Check: func(t *testing.T, d conversation.Decision) {
					require.Len(t, d.Replies, 2)
					require.Contains(t, d.Replies[1].Text, "Got it: Stoneware mug.")
					require.Equal(t, "MUG-2", d.Next.Data["items"])
				}},
		)},
		{name: "only final sale chosen", steps: with(verified(order(delivered, func(o *orders.Order) {
			o.Items[0].FinalSale = true
		})),
			step{Say: "ana@example.com"},
			step{Payload: "ITEM:VASE-1", Say: "Blue vase", State: "returns/not_eligible", Options: []string{flows.PayloadPerson},
				Reply: "Blue vase was sold as final sale, so it can't be returned. If you think this is a mistake"},
		)},
		{name: "already returned", steps: with(verified(order(delivered, func(o *orders.Order) {
			o.ReturnedSKUs = []string{"MUG-2"}
		})),
			step{Say: "ana@example.com"},
			step{Say: "2", Reply: "There's already a return registered for Stoneware mug.", State: "returns/not_eligible"},
		)},
		{name: "high-value order goes to a person before any return", steps: with(verified(order(delivered, flowtest.Expensive)),
			step{Say: "ana@example.com"},
			step{Say: "the lamp"},
			step{Say: "not as described"},
			step{Say: "refund", Reply: "Because of the order's value, a person from our team will handle this personally",
				NoEffects: true, Handoff: "high-value order", Priority: conversation.PriorityNormal,
				Check: func(t *testing.T, d conversation.Decision) {
					c := d.Handoff.Summary.Collected
					require.Equal(t, "Brass lamp (LAMP-3)", c["items"])
					require.Equal(t, "not_as_described", c["reason"])
					require.Equal(t, "refund", c["resolution"])
					require.Equal(t, "600.00 EUR", c["order_total"])
					require.Equal(t, "order total 600.00 EUR", d.Handoff.Summary.Trigger)
				}},
		)},
		{name: "the return cannot be created", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com"},
			step{Say: "vase"},
			step{Say: "wrong size"},
			step{Say: "exchange", Effect: returns.EffectCreate},
			step{Result: flowtest.Failed(returns.EffectCreate, "database unavailable"), Reply: "I couldn't complete that in our system",
				Handoff: "return could not be created", Priority: conversation.PriorityNormal},
		)},
		{name: "a result for another return is stale", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com"},
			step{Say: "vase"},
			step{Say: "wrong size"},
			step{Say: "exchange", Effect: returns.EffectCreate},
			step{Result: &conversation.EffectResult{Kind: returns.EffectCreate, Args: map[string]string{"key": "return:1001:9"},
				Value: []byte(`{"rma":"RMA-OLD"}`)}, NoReply: true, State: "returns/creating"},
		)},
		{name: "which item, not understood twice", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com"},
			step{Say: "the thing", Reply: "Sorry, I didn't get which item.", State: "returns/choose_items",
				Options: []string{"ITEM:VASE-1", "ITEM:MUG-2", "ITEM_ALL"}},
			step{Say: "the other thing", Reply: "Sorry, I'm stuck.", Handoff: "stuck at items", Priority: conversation.PriorityNormal},
		)},
		{name: "a new topic while choosing switches flow, the order is kept", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com", State: "returns/choose_items"},
			step{Say: "actually it arrived broken", Reply: "I'm sorry it arrived damaged — let's fix it. Which item from order #1001 arrived damaged?",
				State: "damage/choose_item"},
		)},
		{name: "a second return in the same conversation", steps: with(verified(order(delivered)),
			step{Say: "ana@example.com"},
			step{Say: "mug"},
			step{Say: "too big"},
			step{Say: "refund"},
			step{Result: flowtest.Created(returns.EffectCreate, rma("")), State: "returns/done"},
			step{Say: "I also want to return the vase", Reply: "Which item from order #1001", State: "returns/choose_items"},
			step{Say: "mug", Reply: "There's already a return registered for Stoneware mug.", State: "returns/not_eligible"},
			step{Say: "return the vase", State: "returns/choose_items"},
			step{Say: "vase", State: "returns/ask_reason"},
			step{Say: "changed my mind"},
			step{Say: "refund", Args: map[string]string{"key": "return:1001:2", "skus": "VASE-1"}, Effect: returns.EffectCreate},
		)},
		{name: "in spanish", steps: []step{
			{Say: "hola, quiero devolver el pedido 1001", Reply: "Claro, te ayudo con la devolución. Déjame revisar el pedido #1001…"},
			{Result: found(order(delivered))},
			{Say: "ana@example.com", Reply: "¿Qué artículo del pedido #1001 quieres devolver?",
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, "Todos", d.Replies[0].QuickReplies[2].Title)
				}},
			{Say: "todos", Reply: "Entendido: Blue vase, Stoneware mug."},
			{Say: "no me queda", State: "returns/choose_resolution", Check: func(t *testing.T, d conversation.Decision) {
				require.Equal(t, "Saldo en tienda", d.Replies[0].QuickReplies[2].Title)
			}},
			{Say: "reembolso", Args: map[string]string{"reason": "wrong_size", "resolution": "refund"}, Effect: returns.EffectCreate},
			{Result: flowtest.Created(returns.EffectCreate, rma("")), Reply: "¡Listo! Tu devolución RMA-1001-3F9K está registrada"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flowtest.Transcript{Bot: bot, Platform: tt.platform}.Run(t, tt.steps)
		})
	}
}

func TestOneResolutionIsNotAsked(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) { c.Policies.Resolutions = []string{"store_credit"} })
	flowtest.Transcript{Bot: bot}.Run(t, with(verified(order(delivered)),
		step{Say: "ana@example.com"},
		step{Say: "vase"},
		step{Say: "changed my mind", State: "returns/creating", Effect: returns.EffectCreate,
			Args: map[string]string{"resolution": "store_credit"}},
	))
}

func TestShorterReturnWindow(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) { c.Policies.ReturnWindowDays = 3 })
	flowtest.Transcript{Bot: bot}.Run(t, with(verified(order(delivered)),
		step{Say: "ana@example.com", State: "returns/not_eligible", Reply: "We accept returns within 3 days of delivery; " +
			"order #1001 was delivered on Friday, so the return window closed on Monday."},
	))
}
