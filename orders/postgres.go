package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/store"
)

// Postgres is the built-in order system: orders kept in Frontdesk's own
// tables, filled by Import, POST /api/orders or Upsert.
type Postgres struct {
	db store.DBTX
}

var _ Source = (*Postgres)(nil)

// NewPostgres returns a Source reading orders from db, normally the pool
// (any store.DBTX fits, so tests may pass a transaction).
func NewPostgres(db store.DBTX) *Postgres {
	return &Postgres{db: db}
}

// orderQuery reads an order with its items and fulfillments in one
// statement, so the three are one consistent snapshot. The JSON keys are
// Item's and Fulfillment's json tags.
const orderQuery = `SELECT o.number, o.customer_name, o.email, o.phone, o.currency, o.total,
	o.placed_at, o.promised_by, o.status,
	COALESCE((SELECT json_agg(json_build_object(
			'sku', i.sku, 'title', i.title, 'quantity', i.quantity, 'price', i.price, 'final_sale', i.final_sale)
			ORDER BY i.position)
		FROM order_items i WHERE i.order_number = o.number), '[]'),
	COALESCE((SELECT json_agg(json_build_object(
			'carrier', f.carrier, 'tracking_number', f.tracking_number, 'tracking_url', f.tracking_url,
			'status', f.status, 'shipped_at', f.shipped_at, 'delivered_at', f.delivered_at,
			'last_scan_at', f.last_scan_at, 'label_url', f.label_url)
			ORDER BY f.position)
		FROM fulfillments f WHERE f.order_number = o.number), '[]')
FROM orders o WHERE o.number = $1`

// Order returns the order with this number ("1001"; surrounding space and
// a leading "#" are ignored), items and fulfillments in their stored order,
// times in UTC. It returns ErrNotFound when there is no such order.
// ReturnedSKUs is left empty: Lookup fills it.
func (p *Postgres) Order(ctx context.Context, number string) (Order, error) {
	number = NormalizeNumber(number)
	if number == "" {
		return Order{}, ErrNotFound
	}
	var o Order
	var items, fulfillments []byte
	err := p.db.QueryRow(ctx, orderQuery, number).Scan(&o.Number, &o.CustomerName, &o.Email, &o.Phone,
		&o.Currency, &o.Total, &o.PlacedAt, &o.PromisedBy, &o.Status, &items, &fulfillments)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("read order: %w", err)
	}
	if err := json.Unmarshal(items, &o.Items); err != nil {
		return Order{}, fmt.Errorf("read order items: %w", err)
	}
	if err := json.Unmarshal(fulfillments, &o.Fulfillments); err != nil {
		return Order{}, fmt.Errorf("read fulfillments: %w", err)
	}
	if len(o.Fulfillments) == 0 {
		o.Fulfillments = nil
	}
	o.PlacedAt = o.PlacedAt.UTC()
	o.PromisedBy = utc(o.PromisedBy)
	for i := range o.Fulfillments {
		f := &o.Fulfillments[i]
		f.ShippedAt, f.DeliveredAt, f.LastScanAt = utc(f.ShippedAt), utc(f.DeliveredAt), utc(f.LastScanAt)
	}
	return o, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// upsertOrderQuery writes the order row. Its ON CONFLICT DO UPDATE locks
// the row until the transaction ends, so upserts of one order run one at
// a time and each replaces the lines the previous one committed.
const upsertOrderQuery = `INSERT INTO orders (number, customer_name, email, phone, currency, total, placed_at,
	promised_by, status, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
ON CONFLICT (number) DO UPDATE SET customer_name = EXCLUDED.customer_name, email = EXCLUDED.email,
	phone = EXCLUDED.phone, currency = EXCLUDED.currency, total = EXCLUDED.total,
	placed_at = EXCLUDED.placed_at, promised_by = EXCLUDED.promised_by, status = EXCLUDED.status,
	updated_at = now()`

// replaceLinesQuery replaces an order's items and fulfillments in one
// statement: lines are upserted by position and those past the new count
// deleted, so the statement's parts touch disjoint rows.
const replaceLinesQuery = `WITH items AS (
	INSERT INTO order_items (order_number, position, sku, title, quantity, price, final_sale)
	SELECT $1, t.n - 1, t.sku, t.title, t.quantity, t.price, t.final_sale
	FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::boolean[])
		WITH ORDINALITY AS t (sku, title, quantity, price, final_sale, n)
	ON CONFLICT (order_number, position) DO UPDATE SET sku = EXCLUDED.sku, title = EXCLUDED.title,
		quantity = EXCLUDED.quantity, price = EXCLUDED.price, final_sale = EXCLUDED.final_sale
), old_items AS (
	DELETE FROM order_items WHERE order_number = $1 AND position >= cardinality($2::text[])
), fulfillments AS (
	INSERT INTO fulfillments (order_number, position, carrier, tracking_number, tracking_url, status,
		shipped_at, delivered_at, last_scan_at, label_url)
	SELECT $1, t.n - 1, t.carrier, t.tracking_number, t.tracking_url, t.status,
		t.shipped_at, t.delivered_at, t.last_scan_at, t.label_url
	FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[],
			$13::timestamptz[], $14::text[])
		WITH ORDINALITY AS t (carrier, tracking_number, tracking_url, status, shipped_at, delivered_at,
			last_scan_at, label_url, n)
	ON CONFLICT (order_number, position) DO UPDATE SET carrier = EXCLUDED.carrier,
		tracking_number = EXCLUDED.tracking_number, tracking_url = EXCLUDED.tracking_url,
		status = EXCLUDED.status, shipped_at = EXCLUDED.shipped_at, delivered_at = EXCLUDED.delivered_at,
		last_scan_at = EXCLUDED.last_scan_at, label_url = EXCLUDED.label_url
), old_fulfillments AS (
	DELETE FROM fulfillments WHERE order_number = $1 AND position >= cardinality($7::text[])
)
SELECT 1`

// Upsert stores o in Frontdesk's order tables, replacing the order with
// the same number together with all its items and fulfillments. It
// validates o first (see Order.Validate) and returns its error unchanged.
//
// It runs in a transaction of its own when db can begin one (a pool), or
// in a savepoint of db's (a pgx.Tx), so an order is never half written
// and concurrent upserts of one order apply one after the other. Give it
// a transaction to upsert several orders all or nothing.
func Upsert(ctx context.Context, db store.DBTX, o Order) error {
	if err := o.Validate(); err != nil {
		return err
	}
	write := func(db store.DBTX) error {
		if _, err := db.Exec(ctx, upsertOrderQuery, o.Number, o.CustomerName, o.Email, o.Phone, o.Currency,
			int64(o.Total), o.PlacedAt, o.PromisedBy, o.Status); err != nil {
			return err
		}
		_, err := db.Exec(ctx, replaceLinesQuery, append([]any{o.Number}, lineArgs(o)...)...)
		return err
	}
	var err error
	if b, ok := db.(interface {
		Begin(context.Context) (pgx.Tx, error)
	}); ok {
		err = pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error { return write(tx) })
	} else {
		err = write(db)
	}
	if err != nil {
		return fmt.Errorf("upsert order %s: %w", o.Number, err)
	}
	return nil
}

// lineArgs returns replaceLinesQuery's arguments after the number: the
// items' and fulfillments' columns as arrays.
func lineArgs(o Order) []any {
	n := len(o.Items)
	skus, titles, prices := make([]string, n), make([]string, n), make([]int64, n)
	quantities, finalSale := make([]int32, n), make([]bool, n)
	for i, it := range o.Items {
		skus[i], titles[i], quantities[i], prices[i], finalSale[i] = it.SKU, it.Title, int32(it.Quantity), int64(it.Price), it.FinalSale
	}
	m := len(o.Fulfillments)
	carriers, trackingNumbers, trackingURLs := make([]string, m), make([]string, m), make([]string, m)
	statuses, labels := make([]string, m), make([]string, m)
	shipped, delivered, scanned := make([]*time.Time, m), make([]*time.Time, m), make([]*time.Time, m)
	for i, f := range o.Fulfillments {
		carriers[i], trackingNumbers[i], trackingURLs[i], statuses[i], labels[i] = f.Carrier, f.TrackingNumber, f.TrackingURL, f.Status, f.LabelURL
		shipped[i], delivered[i], scanned[i] = f.ShippedAt, f.DeliveredAt, f.LastScanAt
	}
	return []any{skus, titles, quantities, prices, finalSale,
		carriers, trackingNumbers, trackingURLs, statuses, shipped, delivered, scanned, labels}
}

// Lookup is how the bot should read an order: src.Order, then
// ReturnedSKUs filled from the returns Frontdesk recorded in db. Errors
// from src (ErrNotFound, an order system's classified errors) are
// returned unwrapped so callers can branch on them.
func Lookup(ctx context.Context, src Source, db store.DBTX, number string) (Order, error) {
	o, err := src.Order(ctx, number)
	if err != nil {
		return Order{}, err
	}
	returned, err := ReturnedSKUs(ctx, db, o.Number)
	if err != nil {
		return Order{}, err
	}
	o.ReturnedSKUs = returned
	return o, nil
}
