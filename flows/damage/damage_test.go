package damage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/damage"
	"github.com/frontdesk/frontdesk/flows/flowtest"
	"github.com/frontdesk/frontdesk/orders"
)

type step = flowtest.Step

var (
	order     = flowtest.Order
	found     = flowtest.Found
	delivered = flowtest.Delivered
	photo     = flowtest.Photo
)

func with(first []step, rest ...step) []step { return append(first[:len(first):len(first)], rest...) }

// reported: a shopper reports a broken item of #1001 as o and is verified.
func reported(o orders.Order) []step {
	return []step{
		{Say: "my order arrived broken", State: "damage/ask_order",
			Reply: "I'm sorry it arrived damaged — let's fix it. What's your order number?"},
		{Say: "1001", Effect: "lookup_order", State: "damage/looking_up"},
		{Result: found(o), State: "damage/verify"},
		{Say: "ana@example.com", State: "damage/choose_item", Reply: "Which item from order #1001 arrived damaged?",
			Options: []string{"ITEM:VASE-1", "ITEM:MUG-2"}},
	}
}

func TestDamageTranscripts(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "photos, description, replacement approved", steps: with(reported(order(delivered)),
			step{Say: "the vase", State: "damage/photo_item", Reply: "Please send a photo of the damaged Blue vase",
				Effect: conversation.EffectTimer, Args: map[string]string{"name": damage.TimerPhotoReminder},
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, 30*time.Minute, d.Effects[0].Delay)
				}},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/vase.jpg")}, State: "damage/photo_packaging",
				Reply: "Now please send a photo of the packaging"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/box.jpg"), {Type: "video", URL: "https://cdn.example/box.mp4"}},
				State: "damage/describe", Reply: "In a few words, what's wrong with it?"},
			step{Say: "the neck is cracked all the way down", State: "damage/choose_resolution",
				Reply:   "Would you like a replacement or a refund for Blue vase?",
				Options: []string{"DAMAGE:replacement", "DAMAGE:refund"}},
			step{Say: "a replacement please", State: "damage/creating", Reply: "Recording your claim…",
				Effect: damage.EffectCreate, Args: map[string]string{"order": "1001", "sku": "VASE-1",
					"description": "the neck is cracked all the way down",
					"evidence":    "https://cdn.example/vase.jpg\nhttps://cdn.example/box.jpg\nhttps://cdn.example/box.mp4",
					"value":       "4900", "resolution": "replacement", "status": "approved", "key": "damage:1001:1"}},
			step{Result: flowtest.Created(damage.EffectCreate, orders.DamageCase{ID: 77, Status: "approved"}), State: "damage/done",
				Reply: "Done — I've approved a replacement for Blue vase (case 77)."},
			step{After: 30 * time.Minute, Timer: damage.TimerPhotoReminder, NoReply: true, State: "damage/done"},
		)},
		{name: "refund of a two-mug line", steps: with(reported(order(delivered)),
			step{Say: "2", State: "damage/photo_item"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/mug.jpg"), photo("https://cdn.example/box.jpg")},
				State: "damage/describe", Reply: "what's wrong with it?"},
			step{Say: "both handles broke off"},
			step{Payload: "DAMAGE:refund", Say: "Refund", Effect: damage.EffectCreate,
				Args: map[string]string{"value": "4000", "resolution": "refund", "sku": "MUG-2"}},
			step{Result: flowtest.Created(damage.EffectCreate, orders.DamageCase{ID: 78}),
				Reply: "Done — I've approved a refund of 40.00 EUR for Stoneware mug (case 78)."},
		)},
		{name: "one reminder when no photo arrives", steps: with(reported(order(delivered)),
			step{Say: "vase", State: "damage/photo_item"},
			step{After: 30 * time.Minute, Timer: damage.TimerPhotoReminder, State: "damage/photo_item",
				Reply: "Just a reminder: send me a photo of the damaged Blue vase"},
			step{After: time.Hour, Timer: damage.TimerPhotoReminder, NoReply: true, State: "damage/photo_item"},
		)},
		{name: "no packaging any more", steps: with(reported(order(delivered)),
			step{Say: "vase"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/vase.jpg")}, State: "damage/photo_packaging"},
			step{Say: "sorry I threw it away", State: "damage/describe"},
		)},
		{name: "no packaging after asking twice: go on", steps: with(reported(order(delivered)),
			step{Say: "vase"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/vase.jpg")}},
			step{Say: "hmm", Reply: "A photo of the box helps us claim it with the carrier", State: "damage/photo_packaging"},
			step{Say: "hmm", State: "damage/describe"},
		)},
		{name: "no photo twice: a person", steps: with(reported(order(delivered)),
			step{Say: "vase"},
			step{Say: "it is cracked", Reply: "I'll need a photo of the damaged Blue vase", State: "damage/photo_item"},
			step{Say: "I can't", Handoff: "no photos", Priority: conversation.PriorityNormal},
		)},
		{name: "above the auto-approve limit: recorded, a person decides", steps: with(reported(order(delivered, func(o *orders.Order) {
			o.Items[0].Price = 12000
			o.Total = 16000
		})),
			step{Say: "vase"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/a.jpg"), photo("https://cdn.example/b.jpg")}},
			step{Say: "shattered", Reply: "Because of the item's value, a person from our team will decide the best fix",
				Effect: damage.EffectCreate, Args: map[string]string{"status": "escalated", "resolution": "", "value": "12000"},
				Handoff: "damage above auto-approve limit", Priority: conversation.PriorityNormal, State: "damage/handed_off",
				Check: func(t *testing.T, d conversation.Decision) {
					s := d.Handoff.Summary
					require.Equal(t, "damage", s.Intent)
					require.Equal(t, "1001", s.Order)
					require.Equal(t, []string{"https://cdn.example/a.jpg", "https://cdn.example/b.jpg"}, s.Evidence)
					require.Equal(t, "shattered", s.Collected["description"])
					require.Equal(t, "Blue vase (VASE-1)", s.Collected["item"])
					require.Equal(t, "email", s.Collected["verified"])
					require.Equal(t, "item value 120.00 EUR", s.Trigger)
				}},
		)},
		{name: "high-value order: recorded, a person decides", steps: []step{
			{Say: "it came damaged, order #1001", Effect: "lookup_order"},
			{Result: found(order(delivered, flowtest.Expensive))},
			{Say: "1222", State: "damage/choose_item"},
			{Say: "mug"},
			{Attach: []conversation.Attachment{photo("https://cdn.example/a.jpg"), photo("https://cdn.example/b.jpg")}},
			{Say: "chipped", Effect: damage.EffectCreate, Args: map[string]string{"status": "escalated", "value": "4000"},
				Handoff: "high-value order", Priority: conversation.PriorityNormal},
		}},
		{name: "photo sent with the first message is kept", steps: []step{
			{Say: "look, it arrived broken", Attach: []conversation.Attachment{photo("https://cdn.example/first.jpg")}},
			{Say: "order 1001"},
			{Result: found(order(delivered, func(o *orders.Order) { o.Items = o.Items[:1] })), State: "damage/verify"},
			{Say: "ana@example.com", State: "damage/photo_packaging", Reply: "Now please send a photo of the packaging"},
		}},
		{name: "a word of the title names the item", steps: with(reported(order(delivered)),
			step{Say: "the blue one I think?", State: "damage/photo_item"}, // "blue" names the vase
		)},
		{name: "create fails: a person finishes", steps: with(reported(order(delivered)),
			step{Say: "vase"},
			step{Attach: []conversation.Attachment{photo("https://cdn.example/a.jpg"), photo("https://cdn.example/b.jpg")}},
			step{Say: "broken"},
			step{Say: "refund", Effect: damage.EffectCreate},
			step{Result: flowtest.Failed(damage.EffectCreate, "duplicate key"), Handoff: "damage case could not be created",
				Priority: conversation.PriorityNormal},
		)},
		{name: "in spanish", steps: []step{
			{Say: "hola, el jarrón llegó roto", Reply: "Siento que haya llegado dañado; vamos a solucionarlo. ¿Cuál es tu número de pedido?"},
			{Say: "1001"},
			{Result: found(order(delivered))},
			{Say: "1222", Reply: "¿Qué artículo del pedido #1001 llegó dañado?"},
			{Say: "1", Reply: "Envíame una foto del artículo dañado (Blue vase)"},
			{Attach: []conversation.Attachment{photo("https://cdn.example/a.jpg")}, Reply: "Ahora envíame una foto del embalaje"},
			{Say: "no tengo la caja", Reply: "En pocas palabras, ¿qué le pasa?"},
			{Say: "está rajado", Reply: "¿Prefieres un reemplazo o un reembolso de Blue vase?"},
			{Say: "reembolso", Effect: damage.EffectCreate},
			{Result: flowtest.Created(damage.EffectCreate, orders.DamageCase{ID: 9}), Reply: "he aprobado un reembolso de 49,00 EUR"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flowtest.Transcript{Bot: bot}.Run(t, tt.steps)
		})
	}
}

func TestItemChoiceFailingTwiceHandsOff(t *testing.T) {
	t.Parallel()
	flowtest.Transcript{Bot: flowtest.Bot(t, nil)}.Run(t, with(reported(order(delivered)),
		step{Say: "the thing", Reply: "Sorry, I didn't get which item", State: "damage/choose_item"},
		step{Say: "that one", Handoff: "stuck at item", Priority: conversation.PriorityNormal},
	))
}

func TestAutoApproveLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) { c.Policies.AutoApproveLimit = 3000 })
	flowtest.Transcript{Bot: bot}.Run(t, with(reported(order(delivered)),
		step{Say: "mug"},
		step{Attach: []conversation.Attachment{photo("https://cdn.example/a.jpg"), photo("https://cdn.example/b.jpg")}},
		step{Say: "chipped", Handoff: "damage above auto-approve limit", Priority: conversation.PriorityNormal},
	))
}
