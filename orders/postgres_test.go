package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// at is a fixed clock for tests.
var at = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// sampleOrder is a valid order with two items and one delivered shipment.
func sampleOrder(number string) orders.Order {
	return orders.Order{
		Number:       number,
		CustomerName: "Ana Garcia",
		Email:        "ana.garcia@example.com",
		Phone:        "+34600111001",
		Currency:     "USD",
		Total:        11500,
		PlacedAt:     at.Add(-8 * 24 * time.Hour),
		PromisedBy:   ptr(at.Add(-3 * 24 * time.Hour)),
		Status:       orders.OrderOpen,
		Items: []orders.Item{
			{SKU: "TEE-M", Title: "T-shirt - Blue / M", Quantity: 1, Price: 2900},
			{SKU: "SOCKS", Title: "Socks", Quantity: 2, Price: 600, FinalSale: true},
		},
		Fulfillments: []orders.Fulfillment{{
			Carrier: "UPS", TrackingNumber: "1Z1", TrackingURL: "https://tracking.example.com/1Z1",
			Status: orders.FulfillmentDelivered, ShippedAt: ptr(at.Add(-6 * 24 * time.Hour)),
			DeliveredAt: ptr(at.Add(-3 * 24 * time.Hour)), LastScanAt: ptr(at.Add(-3 * 24 * time.Hour)),
			LabelURL: "https://labels.example.com/1.pdf",
		}},
	}
}

type testBundle struct {
	ctx context.Context
	db  store.DBTX
	src *orders.Postgres
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	tx := storetest.Tx(t)
	return &testBundle{ctx: context.Background(), db: tx, src: orders.NewPostgres(tx)}
}

func TestUpsertAndOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want := sampleOrder("1001")
	require.NoError(t, orders.Upsert(b.ctx, b.db, want))

	for _, number := range []string{"1001", "#1001", "  # 1001 ", "\t1001\n"} {
		got, err := b.src.Order(b.ctx, number)
		require.NoError(t, err, number)
		require.Equal(t, want, got, number)
	}

	_, err := b.src.Order(b.ctx, "1002")
	require.ErrorIs(t, err, orders.ErrNotFound)
	_, err = b.src.Order(b.ctx, " # ")
	require.ErrorIs(t, err, orders.ErrNotFound)
}

func TestUpsertReplacesLines(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := sampleOrder("1001")
	o.Items = append(o.Items, orders.Item{SKU: "CAP", Quantity: 1, Price: 1900})
	o.Fulfillments = append(o.Fulfillments, orders.Fulfillment{Status: orders.FulfillmentPending})
	require.NoError(t, orders.Upsert(b.ctx, b.db, o))

	// Fewer lines, reordered, changed: the stored order is exactly the new one.
	o2 := sampleOrder("1001")
	o2.CustomerName = "Ana García"
	o2.PromisedBy = nil
	o2.Status = orders.OrderClosed
	o2.Items = []orders.Item{{SKU: "SOCKS", Title: "Socks", Quantity: 1, Price: 600}}
	o2.Fulfillments = nil
	require.NoError(t, orders.Upsert(b.ctx, b.db, o2))
	got, err := b.src.Order(b.ctx, "1001")
	require.NoError(t, err)
	require.Equal(t, o2, got)

	var items, fulfillments int
	require.NoError(t, b.db.QueryRow(b.ctx, "SELECT count(*) FROM order_items").Scan(&items))
	require.NoError(t, b.db.QueryRow(b.ctx, "SELECT count(*) FROM fulfillments").Scan(&fulfillments))
	require.Equal(t, 1, items)
	require.Equal(t, 0, fulfillments)
}

func TestUpsertValidates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := sampleOrder("1001")
	o.Items[1].Quantity = 0
	err := orders.Upsert(b.ctx, b.db, o)
	require.EqualError(t, err, "items[1].quantity: must be greater than 0")
	_, err = b.src.Order(b.ctx, "1001")
	require.ErrorIs(t, err, orders.ErrNotFound)
}

func TestLookupFillsReturnedSKUs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, orders.Upsert(b.ctx, b.db, sampleOrder("1001")))
	_, err := orders.CreateReturn(b.ctx, b.db, orders.Return{OrderNumber: "1001", SKUs: []string{"TEE-M"}}, "")
	require.NoError(t, err)

	o, err := orders.Lookup(b.ctx, b.src, b.db, "#1001")
	require.NoError(t, err)
	require.Equal(t, []string{"TEE-M"}, o.ReturnedSKUs)

	_, err = orders.Lookup(b.ctx, b.src, b.db, "999")
	require.ErrorIs(t, err, orders.ErrNotFound)
}

// TestUpsertConcurrent upserts one order from several connections at once,
// given the pool: each upsert is atomic, and the result is one of the
// versions whole, never a mix of lines.
func TestUpsertConcurrent(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()
	versions := make([]orders.Order, 8)
	for i := range versions {
		o := sampleOrder("1001")
		o.Total = orders.Money(1000 + i)
		o.Items = nil
		for j := range i + 1 {
			o.Items = append(o.Items, orders.Item{SKU: "SKU", Title: "v" + string(rune('0'+i)), Quantity: j + 1, Price: 1})
		}
		versions[i] = o
	}
	for range 5 {
		errs := make(chan error, len(versions))
		for _, o := range versions {
			go func() { errs <- orders.Upsert(ctx, pool, o) }()
		}
		for range versions {
			require.NoError(t, <-errs)
		}
		got, err := orders.NewPostgres(pool).Order(ctx, "1001")
		require.NoError(t, err)
		require.Equal(t, versions[got.Total-1000], got)
	}
}
