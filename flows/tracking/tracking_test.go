package tracking_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/flowtest"
	"github.com/frontdesk/frontdesk/flows/tracking"
	"github.com/frontdesk/frontdesk/orders"
)

type step = flowtest.Step

var (
	order     = flowtest.Order
	found     = flowtest.Found
	inTransit = flowtest.InTransit
	delivered = flowtest.Delivered
)

// verifiedInTransit is a shopper who asked about #1001, in transit, and
// proved it is theirs.
var verifiedInTransit = []step{
	{Say: "where is my order?", Reply: "What's your order number?", State: "tracking/ask_order"},
	{Say: "it's 1001", Reply: "Let me check order #1001…", State: "tracking/looking_up",
		Effect: "lookup_order", Args: map[string]string{"order": "1001"}},
	{Result: found(order(inTransit)), Reply: "To keep your details private", State: "tracking/verify", NoEffects: true},
	{Say: "ana@example.com", State: "tracking/reported",
		Reply: "Thanks, that matches. Order #1001 is on its way with DHL. Tracking number: JD0001. " +
			"Follow it here: https://track.example/JD0001 It should arrive tomorrow."},
}

func TestTrackingTranscripts(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tests := []struct {
		name    string
		shopper conversation.Shopper
		steps   []step
	}{
		{name: "in transit: ask, look up, verify by e-mail, report", steps: verifiedInTransit},
		{name: "verified by the last four digits of the phone", steps: []step{
			{Say: "where is order 1001", Effect: "lookup_order"},
			{Result: found(order(inTransit)), State: "tracking/verify"},
			{Say: "1222", Reply: "is on its way with DHL", State: "tracking/reported"},
		}},
		{name: "verified by the full phone number", steps: []step{
			{Say: "where is order 1001", Effect: "lookup_order"},
			{Result: found(order(inTransit)), State: "tracking/verify"},
			{Say: "it's +34 600 111 222", Reply: "is on its way", State: "tracking/reported"},
		}},
		{name: "WhatsApp number on the order: verified without a question", shopper: conversation.Shopper{Phone: "+34600111222"},
			steps: []step{
				{Say: "where is order 1001", Effect: "lookup_order"},
				{Result: found(order(inTransit)), Reply: "Order #1001 is on its way with DHL", State: "tracking/reported",
					Check: func(t *testing.T, d conversation.Decision) {
						require.NotContains(t, d.Replies[0].Text, "private")
						require.Equal(t, "channel phone", d.Next.Data["verified"])
						require.NotContains(t, d.Next.Data["snap"], "600111222", "contact details are dropped once verified")
					}},
			}},
		{name: "e-mail given with the order number", steps: []step{
			{Say: "order #1001, my email is ANA@example.com", Effect: "lookup_order", State: "tracking/looking_up"},
			{Result: found(order(inTransit)), Reply: "is on its way", State: "tracking/reported"},
		}},
		{name: "wrong details twice: a person verifies", steps: []step{
			{Say: "where is my order #1001"},
			{Result: found(order(inTransit)), State: "tracking/verify"},
			{Say: "bob@example.com", Reply: "That doesn't match", State: "tracking/verify"},
			{Say: "9999", Reply: "I couldn't confirm those details", State: "tracking/handed_off",
				Handoff: "verification failed", Priority: conversation.PriorityNormal,
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, "no", d.Handoff.Summary.Collected["verified"])
					require.Equal(t, "1001", d.Handoff.Summary.Order)
					require.Equal(t, "tracking", d.Handoff.Summary.Intent)
				}},
		}},
		{name: "not found, then found", steps: []step{
			{Say: "track 1009", Effect: "lookup_order"},
			{Result: flowtest.NotFound("1009"), Reply: "I couldn't find order #1009.", State: "tracking/ask_order"},
			{Say: "sorry, 1001", Effect: "lookup_order", Args: map[string]string{"order": "1001"}, State: "tracking/looking_up"},
			{Result: found(order(inTransit)), State: "tracking/verify"},
		}},
		{name: "not found twice: a person looks", steps: []step{
			{Say: "track 1009"},
			{Result: flowtest.NotFound("1009"), State: "tracking/ask_order"},
			{Say: "1008"},
			{Result: flowtest.NotFound("1008"), Reply: "I still can't find that order", State: "tracking/handed_off",
				Handoff: "order not found", Priority: conversation.PriorityNormal},
		}},
		{name: "no order number twice: a person helps", steps: []step{
			{Say: "where is my package", State: "tracking/ask_order"},
			{Say: "I don't know it", Reply: "I need the order number", State: "tracking/ask_order"},
			{Say: "no idea", State: "tracking/handed_off", Handoff: "no order number", Priority: conversation.PriorityNormal},
		}},
		{name: "order system down", steps: []step{
			{Say: "track #1001"},
			{Result: flowtest.LookupFailed("1001"), Reply: "I can't reach our order system right now",
				Handoff: "order system unavailable", Priority: conversation.PriorityNormal},
		}},
		{name: "waiting: one short answer, a stale result is ignored", steps: []step{
			{Say: "track #1001", State: "tracking/looking_up"},
			{Say: "hello?", Reply: "I'm still checking order #1001", State: "tracking/looking_up", NoEffects: true},
			{Result: found(order(func(o *orders.Order) { o.Number = "2002" })), NoReply: true, State: "tracking/looking_up"},
			{Result: found(order(inTransit)), State: "tracking/verify"},
		}},
		{name: "not shipped yet, with the promised day", steps: []step{
			{Say: "where is #1001", Effect: "lookup_order"},
			{Result: found(order()), State: "tracking/verify"},
			{Say: "ana@example.com", Reply: "Order #1001 hasn't shipped yet. It's due to arrive on Saturday",
				State: "tracking/reported"},
		}},
		{name: "delivered, then it never arrived", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(delivered)), State: "tracking/verify"},
			{Say: "ana@example.com", Reply: "Order #1001 was delivered on Friday.", Options: []string{tracking.PayloadMissing}},
			{Say: "but I didn't get it", Reply: "shows as delivered but didn't reach you", State: "tracking/handed_off",
				Handoff: "missing shipment", Priority: conversation.PriorityHigh,
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, "the shopper says it never arrived", d.Handoff.Summary.Collected["never_arrived"])
					require.Equal(t, "email", d.Handoff.Summary.Collected["verified"])
				}},
		}},
		{name: "delivered, the button says it never arrived", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(delivered))},
			{Say: "ana@example.com", State: "tracking/reported"},
			{Payload: tracking.PayloadMissing, Say: "It didn't arrive", Handoff: "missing shipment", Priority: conversation.PriorityHigh},
		}},
		{name: "said it never arrived up front", steps: []step{
			{Say: "my order 1001 says delivered but never arrived", State: "tracking/looking_up"},
			{Result: found(order(delivered))},
			{Say: "1222", Handoff: "missing shipment", Priority: conversation.PriorityHigh},
		}},
		{name: "never arrived but still in transit: the status", steps: []step{
			{Say: "my order 1001 never arrived", State: "tracking/looking_up"},
			{Result: found(order(inTransit))},
			{Say: "1222", Reply: "is on its way", State: "tracking/reported"},
		}},
		{name: "stuck: apology, expectation, follow-up, person offered", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(flowtest.Stuck))},
			{Say: "ana@example.com", State: "tracking/stalled",
				Reply: "I'm sorry — order #1001 seems stuck: the carrier's last update was on Friday. " +
					"Shipments like this usually start moving again within a couple of days. " +
					"I'll check it again tomorrow at 12:00 and tell you here.",
				Effect: conversation.EffectTimer, Args: map[string]string{"name": tracking.TimerFollowUp},
				Options: []string{flows.PayloadPerson},
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, 24*time.Hour, d.Effects[0].Delay)
				}},
			{Say: "ok thanks", Reply: "You're welcome!", State: "tracking/stalled"},
			{After: time.Hour, Timer: tracking.TimerFollowUp, NoReply: true, NoEffects: true, State: "tracking/stalled"},
			{After: 23 * time.Hour, Timer: tracking.TimerFollowUp, NoReply: true, State: "tracking/rechecking",
				Effect: "lookup_order", Args: map[string]string{"order": "1001"}},
			{Result: found(order(inTransit)), State: "tracking/reported",
				Reply: "Update on order #1001, as promised: Order #1001 is on its way with DHL."},
			{After: time.Hour, Timer: tracking.TimerFollowUp, NoReply: true, State: "tracking/reported"},
		}},
		{name: "still stuck at the follow-up: a person chases the carrier", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(flowtest.Stuck))},
			{Say: "ana@example.com", State: "tracking/stalled"},
			{After: 24 * time.Hour, Timer: tracking.TimerFollowUp, State: "tracking/rechecking"},
			{Result: found(order(flowtest.Stuck)), Reply: "There's still no movement on order #1001",
				Handoff: "shipment stalled", Priority: conversation.PriorityNormal},
		}},
		{name: "late: past the promised day", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(flowtest.Late))},
			{Say: "ana@example.com", Reply: "order #1001 was due yesterday and hasn't been delivered yet", State: "tracking/stalled"},
			{Payload: flows.PayloadPerson, Say: "Talk to a person", Handoff: "asked for a person", Priority: conversation.PriorityElevated},
		}},
		{name: "cancelled", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(func(o *orders.Order) { o.Status = "cancelled" }))},
			{Say: "ana@example.com", Reply: "Order #1001 was cancelled", State: "tracking/reported"},
		}},
		{name: "failed delivery goes to a person", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(inTransit, func(o *orders.Order) { o.Fulfillments[0].Status = orders.FulfillmentFailed }))},
			{Say: "ana@example.com", Reply: "The carrier reports a problem delivering order #1001",
				Handoff: "delivery failed", Priority: conversation.PriorityNormal},
		}},
		{name: "two shipments", steps: []step{
			{Say: "where is #1001"},
			{Result: found(order(inTransit, func(o *orders.Order) {
				o.Fulfillments = append(o.Fulfillments, orders.Fulfillment{Carrier: "UPS", Status: orders.FulfillmentDelivered,
					DeliveredAt: &flowtest.Now})
			}))},
			{Say: "ana@example.com", Reply: "Shipment 1: Order #1001 is on its way with DHL.",
				Check: func(t *testing.T, d conversation.Decision) {
					require.Contains(t, d.Replies[0].Text, "Shipment 2: Order #1001 was delivered today.")
				}},
		}},
		{name: "another order after the first", steps: append(verifiedInTransit[:4:4],
			step{Say: "and order #1002?", Effect: "lookup_order", Args: map[string]string{"order": "1002"}, State: "tracking/looking_up"},
			step{Result: found(order(func(o *orders.Order) { o.Number = "1002" })), State: "tracking/verify"},
		)},
		{name: "asking again re-reports", steps: append(verifiedInTransit[:4:4],
			step{Say: "where is my order?", Reply: "is on its way with DHL", State: "tracking/reported", NoEffects: true},
		)},
		{name: "in spanish", steps: []step{
			{Say: "hola, ¿dónde está mi pedido?", Reply: "¿Cuál es tu número de pedido?", State: "tracking/ask_order"},
			{Say: "1001", Reply: "Déjame revisar el pedido #1001…"},
			{Result: found(order(inTransit)), Reply: "Para proteger tus datos"},
			{Say: "ana@example.com", Reply: "El pedido #1001 está en camino con DHL. Número de seguimiento: JD0001.",
				Check: func(t *testing.T, d conversation.Decision) {
					require.Contains(t, d.Replies[0].Text, "Debería llegar mañana.")
				}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flowtest.Transcript{Bot: bot, Shopper: tt.shopper}.Run(t, tt.steps)
		})
	}
}

func TestNoFollowUpWhenTurnedOff(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) { c.Policies.FollowUpAfter = 0 })
	flowtest.Transcript{Bot: bot}.Run(t, []step{
		{Say: "where is #1001"},
		{Result: found(order(flowtest.Stuck))},
		{Say: "ana@example.com", State: "tracking/stalled", NoEffects: true, Reply: "If you'd rather talk to a person now",
			Check: func(t *testing.T, d conversation.Decision) {
				require.NotContains(t, d.Replies[0].Text, "check it again")
			}},
	})
}
