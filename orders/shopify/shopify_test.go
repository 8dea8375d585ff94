package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/orders/shopify"
	"github.com/frontdesk/frontdesk/orders/shopify/shopifystub"
)

const (
	token   = "shpat_test_token"
	version = "2025-07"
)

var at = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

type testBundle struct {
	url    string
	stub   *shopifystub.Server
	client *shopify.Client
	ctx    context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	stub := shopifystub.New(token, version)
	url := stub.Start()
	t.Cleanup(stub.Close)
	return &testBundle{
		url:    url,
		stub:   stub,
		client: shopify.New(shopify.Config{BaseURL: url + "/", AccessToken: token, APIVersion: version}),
		ctx:    context.Background(),
	}
}

// delivered1001 is a delivered order with every field Frontdesk reads,
// times in a shop's own zone.
func delivered1001() shopifystub.Order {
	madrid := time.FixedZone("CET", 3600)
	return shopifystub.Order{
		ID: 450789469, Name: "#1001", OrderNumber: 1001,
		Email: "ana.garcia@example.com", Phone: ptr("+34600111001"),
		Currency: "USD", TotalPrice: "850.00", FinancialStatus: "paid",
		CreatedAt: at.Add(-7 * 24 * time.Hour).In(madrid), UpdatedAt: at.In(madrid),
		Customer:        &shopifystub.Customer{ID: 1, FirstName: "Ana", LastName: "Garcia", Phone: ptr("+34600999999")},
		ShippingAddress: &shopifystub.Address{FirstName: "Ana", LastName: "Garcia", City: "Madrid"},
		LineItems: []shopifystub.LineItem{
			{ID: 1, SKU: ptr("ESPRESSO-PRO"), Title: "Espresso machine", Name: "Espresso machine - Pro", Quantity: 1, Price: "820.00"},
			{ID: 2, SKU: ptr("MILK-JUG"), Title: "Milk jug", Quantity: 2, Price: "15.00"},
		},
		Fulfillments: []shopifystub.Fulfillment{
			{ID: 1, Status: "success", ShipmentStatus: ptr("delivered"), TrackingCompany: ptr("FedEx"),
				TrackingNumber: ptr("770000001006"), TrackingURL: ptr("https://www.fedex.com/track/770000001006"),
				CreatedAt: at.Add(-5 * 24 * time.Hour).In(madrid), UpdatedAt: at.Add(-2 * 24 * time.Hour).In(madrid)},
			{ID: 2, Status: "cancelled", ShipmentStatus: nil, CreatedAt: at, UpdatedAt: at},
		},
	}
}

func TestOrderMapsEveryField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Add(delivered1001())
	for _, number := range []string{"1001", "#1001", " #1001 "} {
		got, err := b.client.Order(b.ctx, number)
		require.NoError(t, err)
		require.Equal(t, orders.Order{
			Number: "1001", CustomerName: "Ana Garcia", Email: "ana.garcia@example.com", Phone: "+34600111001",
			Currency: "USD", Total: 85000, PlacedAt: at.Add(-7 * 24 * time.Hour), Status: orders.OrderOpen,
			Items: []orders.Item{
				{SKU: "ESPRESSO-PRO", Title: "Espresso machine - Pro", Quantity: 1, Price: 82000},
				{SKU: "MILK-JUG", Title: "Milk jug", Quantity: 2, Price: 1500},
			},
			Fulfillments: []orders.Fulfillment{{
				Carrier: "FedEx", TrackingNumber: "770000001006", TrackingURL: "https://www.fedex.com/track/770000001006",
				Status: orders.FulfillmentDelivered, ShippedAt: ptr(at.Add(-5 * 24 * time.Hour)),
				DeliveredAt: ptr(at.Add(-2 * 24 * time.Hour)), LastScanAt: ptr(at.Add(-2 * 24 * time.Hour)),
			}},
		}, got)
		require.NoError(t, got.Validate())
	}
	reqs := b.stub.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, shopifystub.Request{Method: "GET", Path: "/admin/api/2025-07/orders.json",
		Query: "name=%231001&status=any", Status: 200}, reqs[0])
}

func TestOrderStatusesAndFallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// As Shopify writes them: nulls, no customer phone, tracking_urls only.
	b.stub.Add(json.RawMessage(`{"id":2,"name":"#1002","email":null,"phone":null,"currency":"EUR","total_price":"0.29",
		"created_at":"2026-03-01T10:00:00-05:00","cancelled_at":"2026-03-02T10:00:00-05:00","closed_at":"2026-03-02T10:00:00-05:00",
		"customer":{"first_name":"Liam","last_name":null,"phone":null},
		"shipping_address":{"first_name":"L.","last_name":"Chen","phone":"+34600111002"},
		"line_items":[{"sku":null,"title":"Gift wrap","quantity":1,"price":"0.29"}],
		"fulfillments":[
			{"status":"success","shipment_status":null,"tracking_company":"UPS","tracking_number":"1Z","tracking_url":null,
			 "tracking_urls":["https://ups.example.com/1Z","https://ups.example.com/2"],"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T13:00:00Z"},
			{"status":"success","shipment_status":"attempted_delivery","created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-03T09:00:00Z"},
			{"status":"success","shipment_status":"failure","created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-04T09:00:00Z"},
			{"status":"open","shipment_status":null,"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z"},
			{"status":"error","shipment_status":null,"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z"}
		]}`))
	closed := delivered1001()
	closed.Name, closed.ClosedAt, closed.Phone, closed.Customer.Phone = "#1003", ptr(at), nil, nil
	closed.Customer.FirstName, closed.Customer.LastName = "", ""
	b.stub.Add(closed)

	got, err := b.client.Order(b.ctx, "1002")
	require.NoError(t, err)
	created, updated := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	require.Equal(t, orders.Order{
		Number: "1002", CustomerName: "Liam", Phone: "+34600111002", Currency: "EUR", Total: 29,
		PlacedAt: time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC), Status: orders.OrderCancelled,
		Items: []orders.Item{{Title: "Gift wrap", Quantity: 1, Price: 29}},
		Fulfillments: []orders.Fulfillment{
			{Carrier: "UPS", TrackingNumber: "1Z", TrackingURL: "https://ups.example.com/1Z", Status: orders.FulfillmentInTransit,
				ShippedAt: &created, LastScanAt: &updated},
			{Status: orders.FulfillmentInTransit, ShippedAt: &created, LastScanAt: ptr(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))},
			{Status: orders.FulfillmentFailed, ShippedAt: &created, LastScanAt: ptr(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))},
			{Status: orders.FulfillmentPending},
		},
	}, got)

	got, err = b.client.Order(b.ctx, "1003")
	require.NoError(t, err)
	require.Equal(t, orders.OrderClosed, got.Status)
	require.Equal(t, "Ana Garcia", got.CustomerName, "from the shipping address")
	require.Empty(t, got.Phone)
}

func TestOrderNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Add(delivered1001())
	for _, number := range []string{"1002", "100", "", "#"} {
		_, err := b.client.Order(b.ctx, number)
		require.ErrorIs(t, err, orders.ErrNotFound, number)
	}
	require.Len(t, b.stub.Requests(), 2, "no request for an empty number")
}

func TestOrderBadToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Add(delivered1001())
	client := shopify.New(shopify.Config{BaseURL: b.url, AccessToken: "shpat_wrong", APIVersion: version})
	_, err := client.Order(b.ctx, "1001")
	require.ErrorIs(t, err, shopify.ErrUnauthorized)
	require.NotErrorIs(t, err, shopify.ErrTransient)
	require.EqualError(t, err, "shopify refused the access token (HTTP 401: [API] Invalid API key or access token (unrecognized login or wrong password))")
	require.NotContains(t, err.Error(), "shpat_wrong")

	b.stub.Script(shopifystub.Response{Status: http.StatusForbidden, Body: `{"errors":"This action requires merchant approval for read_orders scope."}`})
	_, err = b.client.Order(b.ctx, "1001")
	require.ErrorIs(t, err, shopify.ErrUnauthorized)
}

func TestOrderTransientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Add(delivered1001())
	b.stub.Script(
		shopifystub.Response{Status: http.StatusTooManyRequests},
		shopifystub.Response{Status: http.StatusInternalServerError},
		shopifystub.Response{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"30"}}, Body: "<html>down</html>"},
	)

	_, err := b.client.Order(b.ctx, "1001")
	require.ErrorIs(t, err, shopify.ErrTransient)
	var te *shopify.TransientError
	require.True(t, errors.As(err, &te))
	require.Equal(t, http.StatusTooManyRequests, te.Status)
	require.Equal(t, 2*time.Second, te.RetryAfter)
	require.EqualError(t, err, "shopify is temporarily unavailable: HTTP 429: Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service. (retry after 2s)")

	_, err = b.client.Order(b.ctx, "1001")
	require.True(t, errors.As(err, &te))
	require.Equal(t, http.StatusInternalServerError, te.Status)
	require.Zero(t, te.RetryAfter)
	require.NotErrorIs(t, err, shopify.ErrUnauthorized)

	_, err = b.client.Order(b.ctx, "1001")
	require.True(t, errors.As(err, &te))
	require.Equal(t, 30*time.Second, te.RetryAfter)
	require.EqualError(t, err, "shopify is temporarily unavailable: HTTP 503 (retry after 30s)")

	// The script is used up: the next call succeeds.
	_, err = b.client.Order(b.ctx, "1001")
	require.NoError(t, err)
}

func TestOrderNetworkFailureIsTransient(t *testing.T) {
	t.Parallel()
	stub := shopifystub.New(token, version)
	url := stub.Start()
	stub.Close()
	client := shopify.New(shopify.Config{BaseURL: url, AccessToken: token})
	_, err := client.Order(context.Background(), "1001")
	require.ErrorIs(t, err, shopify.ErrTransient)
	require.NotContains(t, err.Error(), url)
}

func TestOrderOtherErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A version the shop does not serve: permanent, neither class.
	client := shopify.New(shopify.Config{BaseURL: b.url, AccessToken: token, APIVersion: "2019-01"})
	_, err := client.Order(b.ctx, "1001")
	require.EqualError(t, err, "shopify: look up order: HTTP 404: Not Found")
	require.NotErrorIs(t, err, shopify.ErrTransient)
	require.NotErrorIs(t, err, shopify.ErrUnauthorized)

	bad := delivered1001()
	bad.TotalPrice = "8.5e2"
	b.stub.Add(bad)
	_, err = b.client.Order(b.ctx, "1001")
	require.EqualError(t, err, `shopify: order #1001: total_price: "8.5e2" is not a decimal amount like 12.34`)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[shopify.Config]string{
		{AccessToken: "x"}: "shopify: BaseURL is required (https://{shop}.myshopify.com)",
		{BaseURL: "shop.myshopify.com", AccessToken: "x"}:         `shopify: BaseURL "shop.myshopify.com" is not an http(s) URL`,
		{BaseURL: "https://shop.myshopify.com"}:                   "shopify: AccessToken is required",
		{BaseURL: "https://shop.myshopify.com", AccessToken: "x"}: "",
	} {
		err := cfg.Validate()
		if want == "" {
			require.NoError(t, err)
			continue
		}
		require.EqualError(t, err, want)
		_, err = shopify.New(cfg).Order(context.Background(), "1001")
		require.EqualError(t, err, want)
	}
}
