package effects_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/effects"
	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// recorder stands in for the conversation service: it records the events
// the worker gives back.
type recorder struct{ events []conversation.BotEvent }

func (r *recorder) ApplyBotEvent(_ context.Context, _ conversation.ConversationID, ev conversation.BotEvent) error {
	r.events = append(r.events, ev)
	return nil
}

func job(t *testing.T, e conversation.Effect) *river.Job[store.EffectArgs] {
	t.Helper()
	raw, err := json.Marshal(e)
	require.NoError(t, err)
	return &river.Job[store.EffectArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 25}, Args: store.EffectArgs{Effect: raw}}
}

func TestLookupCreateReturnAndTimer(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()
	delivered := time.Now().Add(-72 * time.Hour)
	require.NoError(t, orders.Upsert(ctx, pool, orders.Order{
		Number: "1001", Email: "ana@example.com", Currency: "USD", Total: 5998, PlacedAt: delivered.Add(-72 * time.Hour),
		Status: "open",
		Items:  []orders.Item{{SKU: "TEE-M", Title: "T-shirt", Quantity: 2, Price: 2999}},
		Fulfillments: []orders.Fulfillment{{Carrier: "UPS", TrackingNumber: "1Z", Status: orders.FulfillmentDelivered,
			ShippedAt: &delivered, DeliveredAt: &delivered, LabelURL: "https://labels.example/1001"}},
	}))
	rec := &recorder{}
	w := &effects.Worker{Pool: pool, Orders: orders.NewPostgres(pool), Events: rec}

	require.NoError(t, w.Work(ctx, job(t, conversation.Effect{Kind: effects.LookupOrder, Args: map[string]string{"order": "#1001"}})))
	require.NoError(t, w.Work(ctx, job(t, conversation.Effect{Kind: effects.LookupOrder, Args: map[string]string{"order": "9999"}})))
	ret := conversation.Effect{Kind: effects.CreateReturn, Args: map[string]string{
		"order": "1001", "skus": "TEE-M", "reason": "wrong size", "resolution": "exchange",
		"label_url": "https://labels.example/1001", "key": "returns:7"}}
	require.NoError(t, w.Work(ctx, job(t, ret)))
	require.NoError(t, w.Work(ctx, job(t, ret)), "a retried effect is idempotent")
	require.NoError(t, w.Work(ctx, job(t, conversation.Effect{Kind: effects.LookupOrder, Args: map[string]string{"order": "1001"}})))
	require.NoError(t, w.Work(ctx, job(t, conversation.Effect{Kind: conversation.EffectTimer, Args: map[string]string{"name": "nudge"}})))

	require.Len(t, rec.events, 6)
	found := rec.events[0]
	require.Equal(t, conversation.KindEffectResult, found.Kind)
	require.Equal(t, effects.LookupOrder, found.Result.Kind)
	require.Equal(t, "#1001", found.Result.Args["order"], "arguments are echoed so the bot can match the result")
	var order orders.Order
	require.NoError(t, json.Unmarshal(found.Result.Value, &order))
	require.Equal(t, "ana@example.com", order.Email)

	require.True(t, rec.events[1].Result.NotFound)

	var first, second orders.Return
	require.NoError(t, json.Unmarshal(rec.events[2].Result.Value, &first))
	require.NoError(t, json.Unmarshal(rec.events[3].Result.Value, &second))
	require.True(t, strings.HasPrefix(first.RMA, "RMA-1001-"))
	require.Equal(t, first.RMA, second.RMA)
	require.Equal(t, "https://labels.example/1001", first.LabelURL)

	require.NoError(t, json.Unmarshal(rec.events[4].Result.Value, &order))
	require.Equal(t, []string{"TEE-M"}, order.ReturnedSKUs, "a look-up knows what was already returned")

	require.Equal(t, conversation.KindTimer, rec.events[5].Kind)
	require.Equal(t, "nudge", rec.events[5].Timer)
}

func TestUnknownEffectBecomesAnError(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	rec := &recorder{}
	w := &effects.Worker{Pool: pool, Orders: orders.NewPostgres(pool), Events: rec}
	require.NoError(t, w.Work(context.Background(), job(t, conversation.Effect{Kind: "launch_rocket"})))
	require.Len(t, rec.events, 1)
	require.Contains(t, rec.events[0].Result.Err, "unknown effect")
}
