package orders_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
)

func TestNormalizeNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"1001": "1001", "#1001": "1001", " #1001\n": "1001", "# 1001": "1001",
		"##1001": "#1001", "": "", "#": "", "EU-1001": "EU-1001"} {
		require.Equal(t, want, orders.NormalizeNumber(in), in)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(o *orders.Order)
		want   string // "" for valid
	}{
		{"valid", func(*orders.Order) {}, ""},
		{"no items or fulfillments", func(o *orders.Order) { o.Items, o.Fulfillments = nil, nil }, ""},
		{"missing number", func(o *orders.Order) { o.Number = "" }, "number: is required"},
		{"hash", func(o *orders.Order) { o.Number = "#1001" }, `number: "#1001" must not contain "#" (write 1001, not #1001)`},
		{"space", func(o *orders.Order) { o.Number = "10 01" }, `number: "10 01" must not contain spaces`},
		{"long number", func(o *orders.Order) { o.Number = strings.Repeat("1", 65) }, "number: is longer than 64 characters"},
		{"lower-case currency", func(o *orders.Order) { o.Currency = "usd" }, `currency: "usd" is not a three-letter upper-case currency code like USD`},
		{"no currency", func(o *orders.Order) { o.Currency = "" }, `currency: "" is not a three-letter upper-case currency code like USD`},
		{"negative total", func(o *orders.Order) { o.Total = -1 }, "total: must not be negative"},
		{"no placed_at", func(o *orders.Order) { o.PlacedAt = time.Time{} }, "placed_at: is required"},
		{"bad status", func(o *orders.Order) { o.Status = "paid" }, `status: "paid" is not one of open, cancelled, closed`},
		{"no status", func(o *orders.Order) { o.Status = "" }, "status: is required (open, cancelled or closed)"},
		{"bad email", func(o *orders.Order) { o.Email = "ana" }, `email: "ana" is not an e-mail address`},
		{"item problems", func(o *orders.Order) { o.Items[1] = orders.Item{SKU: " ", Quantity: -1, Price: -5} },
			"items[1].sku: is required\nitems[1].quantity: must be greater than 0\nitems[1].price: must not be negative"},
		{"huge quantity", func(o *orders.Order) { o.Items[0].Quantity = 2_000_000 }, "items[0].quantity: must be at most 1000000"},
		{"fulfillment status", func(o *orders.Order) { o.Fulfillments[0].Status = "shipped" },
			`fulfillments[0].status: "shipped" is not one of pending, in_transit, delivered, failed`},
		{"delivered without time", func(o *orders.Order) { o.Fulfillments[0].DeliveredAt = nil },
			"fulfillments[0].delivered_at: is required when the status is delivered"},
		{"links", func(o *orders.Order) {
			o.Fulfillments[0].TrackingURL = "javascript:alert(1)"
			o.Fulfillments[0].LabelURL = "/labels/1.pdf"
		}, "fulfillments[0].tracking_url: \"javascript:alert(1)\" is not an http(s) URL\nfulfillments[0].label_url: \"/labels/1.pdf\" is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := sampleOrder("1001")
			tt.change(&o)
			err := o.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
			for _, fe := range orders.FieldErrors(err) {
				require.NotEmpty(t, fe.Field)
			}
		})
	}
}
