package orders_test

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

func TestCreateReturn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := storetest.OpenConversation(t, b.db, "psid-1").ID

	r, err := orders.CreateReturn(b.ctx, b.db, orders.Return{
		OrderNumber: "#1001", ConversationID: conv, SKUs: []string{"TEE-M", "JEANS-32"},
		Reason: "too small", Resolution: orders.ResolutionExchange,
	}, "evt-1")
	require.NoError(t, err)
	require.NotZero(t, r.ID)
	require.Regexp(t, regexp.MustCompile(`^RMA-1001-[0-9A-HJKMNP-TV-Z]{4}$`), r.RMA)
	require.Equal(t, "1001", r.OrderNumber)
	require.Equal(t, orders.ReturnRequested, r.Status)
	require.False(t, r.CreatedAt.IsZero())

	// A retry with the same key, whatever it carries, finds the first.
	again, err := orders.CreateReturn(b.ctx, b.db, orders.Return{
		OrderNumber: "1001", ConversationID: conv, SKUs: []string{"SOCKS"}, Reason: "changed my mind",
	}, "evt-1")
	require.NoError(t, err)
	require.Equal(t, r, again)

	// Another key, or the same key in another conversation, is another return.
	other, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", ConversationID: conv, SKUs: []string{"SOCKS"}}, "evt-2")
	require.NoError(t, err)
	require.NotEqual(t, r.ID, other.ID)
	conv2 := storetest.OpenConversation(t, b.db, "psid-2").ID
	third, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "2001", ConversationID: conv2, SKUs: []string{"CAP"}}, "evt-1")
	require.NoError(t, err)
	require.NotEqual(t, r.ID, third.ID)

	list, err := orders.ReturnsForConversation(b.ctx, b.db, conv)
	require.NoError(t, err)
	require.Equal(t, []orders.Return{r, other}, list)
	list, err = orders.ReturnsForOrder(b.ctx, b.db, "#1001")
	require.NoError(t, err)
	require.Equal(t, []orders.Return{r, other}, list)
	list, err = orders.ReturnsForOrder(b.ctx, b.db, "404")
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestCreateReturnWithoutConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"A"}, RMA: "RMA-CUSTOM-1",
		Status: orders.ReturnApproved, CreatedAt: at}, "agent-7")
	require.NoError(t, err)
	require.Equal(t, "RMA-CUSTOM-1", r.RMA)
	require.Equal(t, at, r.CreatedAt)
	require.Zero(t, r.ConversationID)
	again, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"B"}}, "agent-7")
	require.NoError(t, err)
	require.Equal(t, r, again)

	// No key: no de-duplication. A chosen RMA that is taken is an error.
	_, err = orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"A"}}, "")
	require.NoError(t, err)
	_, err = orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"A"}}, "")
	require.NoError(t, err)
	_, err = orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"A"}, RMA: "RMA-CUSTOM-1"}, "")
	require.ErrorIs(t, err, store.ErrDuplicate)
	list, err := orders.ReturnsForOrder(b.ctx, b.db, "1001")
	require.NoError(t, err)
	require.Len(t, list, 3)
}

func TestCreateReturnValidates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: " # ", SKUs: []string{""}, Resolution: "cash", Status: "lost"}, "k")
	require.EqualError(t, err, `order_number: is required
skus[0]: is empty
resolution: "cash" is not one of refund, exchange, store_credit
status: "lost" is not one of requested, approved, received, refunded, rejected`)
	require.ErrorIs(t, err, orders.ErrInvalid)
	_, err = orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1"}, "k")
	require.EqualError(t, err, "skus: name at least one item")
	require.ErrorIs(t, err, orders.ErrInvalid)
}

// TestCreateReturnConcurrentRetries creates one return from several
// connections with one key: all get the same record.
func TestCreateReturnConcurrentRetries(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()
	conv := storetest.OpenConversation(t, pool, "psid-1").ID
	results := make([]orders.Return, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r, err := orders.CreateReturn(ctx, pool, orders.Return{OrderNumber: "1001", ConversationID: conv, SKUs: []string{"A"}}, "evt-1")
			require.NoError(t, err)
			results[i] = r
		})
	}
	wg.Wait()
	for _, r := range results {
		require.Equal(t, results[0], r)
	}
}

func TestReturnedSKUs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range []orders.Return{
		{OrderNumber: "1001", SKUs: []string{"B", "A"}},
		{OrderNumber: "1001", SKUs: []string{"A"}, Status: orders.ReturnRefunded},
		{OrderNumber: "1001", SKUs: []string{"C"}, Status: orders.ReturnRejected},
		{OrderNumber: "1002", SKUs: []string{"D"}},
	} {
		_, err := orders.CreateReturn(b.ctx, b.db, r, "")
		require.NoError(t, err)
	}
	skus, err := orders.ReturnedSKUs(b.ctx, b.db, "#1001")
	require.NoError(t, err)
	require.Equal(t, []string{"A", "B"}, skus)
	skus, err = orders.ReturnedSKUs(b.ctx, b.db, "1003")
	require.NoError(t, err)
	require.Empty(t, skus)
}

func TestCreateDamageCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := storetest.OpenConversation(t, b.db, "psid-1").ID
	c, err := orders.CreateDamageCase(b.ctx, b.db, orders.DamageCase{
		OrderNumber: "1006", ConversationID: conv, SKU: "ESPRESSO-PRO", Description: "cracked water tank",
		EvidenceURLs: []string{"https://cdn.example.com/1.jpg", "https://cdn.example.com/2.jpg"}, Value: 82000,
	}, "evt-9")
	require.NoError(t, err)
	require.NotZero(t, c.ID)
	require.Equal(t, orders.DamageOpen, c.Status)
	require.False(t, c.CreatedAt.IsZero())

	again, err := orders.CreateDamageCase(b.ctx, b.db, orders.DamageCase{OrderNumber: "1006", ConversationID: conv, Value: 1}, "evt-9")
	require.NoError(t, err)
	require.Equal(t, c, again)

	other, err := orders.CreateDamageCase(b.ctx, b.db, orders.DamageCase{OrderNumber: "#1006", SKU: "MILK-JUG-600",
		Resolution: orders.ResolutionReplacement, Status: orders.DamageApproved}, "")
	require.NoError(t, err)
	require.Equal(t, []string{}, other.EvidenceURLs)

	list, err := orders.DamageCasesForOrder(b.ctx, b.db, "1006")
	require.NoError(t, err)
	require.Equal(t, []orders.DamageCase{c, other}, list)
	list, err = orders.DamageCasesForConversation(b.ctx, b.db, conv)
	require.NoError(t, err)
	require.Equal(t, []orders.DamageCase{c}, list)

	_, err = orders.CreateDamageCase(b.ctx, b.db, orders.DamageCase{OrderNumber: "1006", Value: -1, Resolution: orders.ResolutionCredit}, "")
	require.EqualError(t, err, `value: must not be negative
resolution: "store_credit" is not one of refund, replacement`)
}
