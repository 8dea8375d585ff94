package shopify

import (
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/orders"
)

// orderJSON is the part of Shopify's Order resource Frontdesk reads.
// JSON null leaves a string empty, which is what we want for every field.
type orderJSON struct {
	Name            string            `json:"name"`
	Email           string            `json:"email"`
	Phone           string            `json:"phone"`
	Currency        string            `json:"currency"`
	TotalPrice      string            `json:"total_price"`
	CreatedAt       time.Time         `json:"created_at"`
	CancelledAt     *time.Time        `json:"cancelled_at"`
	ClosedAt        *time.Time        `json:"closed_at"`
	Customer        *personJSON       `json:"customer"`
	ShippingAddress *personJSON       `json:"shipping_address"`
	LineItems       []lineItemJSON    `json:"line_items"`
	Fulfillments    []fulfillmentJSON `json:"fulfillments"`
}

// personJSON covers both customer and shipping_address.
type personJSON struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
}

type lineItemJSON struct {
	SKU      string `json:"sku"`
	Title    string `json:"title"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	Price    string `json:"price"`
}

type fulfillmentJSON struct {
	Status          string    `json:"status"`
	ShipmentStatus  string    `json:"shipment_status"`
	TrackingCompany string    `json:"tracking_company"`
	TrackingNumber  string    `json:"tracking_number"`
	TrackingURL     string    `json:"tracking_url"`
	TrackingURLs    []string  `json:"tracking_urls"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func (o orderJSON) toOrder() (orders.Order, error) {
	out := orders.Order{
		Number:   orders.NormalizeNumber(o.Name),
		Email:    o.Email,
		Currency: strings.ToUpper(o.Currency),
		PlacedAt: o.CreatedAt.UTC(),
		Status:   orders.OrderOpen,
		Phone:    o.Phone,
	}
	switch {
	case o.CancelledAt != nil:
		out.Status = orders.OrderCancelled
	case o.ClosedAt != nil:
		out.Status = orders.OrderClosed
	}
	for _, p := range []*personJSON{o.Customer, o.ShippingAddress} {
		if p == nil {
			continue
		}
		if out.CustomerName == "" {
			out.CustomerName = strings.TrimSpace(p.FirstName + " " + p.LastName)
		}
		if out.Phone == "" {
			out.Phone = p.Phone
		}
	}
	total, err := orders.ParseMoney(o.TotalPrice, out.Currency)
	if err != nil {
		return orders.Order{}, fmt.Errorf("shopify: order %s: total_price: %w", o.Name, err)
	}
	out.Total = total
	for i, li := range o.LineItems {
		price, err := orders.ParseMoney(li.Price, out.Currency)
		if err != nil {
			return orders.Order{}, fmt.Errorf("shopify: order %s: line_items[%d].price: %w", o.Name, i, err)
		}
		title := li.Name
		if title == "" {
			title = li.Title
		}
		out.Items = append(out.Items, orders.Item{SKU: li.SKU, Title: title, Quantity: li.Quantity, Price: price})
	}
	for _, f := range o.Fulfillments {
		if ff, ok := f.toFulfillment(); ok {
			out.Fulfillments = append(out.Fulfillments, ff)
		}
	}
	return out, nil
}

// toFulfillment maps a fulfillment; cancelled and failed ones (Shopify's
// fulfillment status, not the shipment's) never shipped and are dropped.
func (f fulfillmentJSON) toFulfillment() (orders.Fulfillment, bool) {
	switch f.Status {
	case "cancelled", "error", "failure":
		return orders.Fulfillment{}, false
	}
	out := orders.Fulfillment{
		Carrier:        f.TrackingCompany,
		TrackingNumber: f.TrackingNumber,
		TrackingURL:    f.TrackingURL,
	}
	if out.TrackingURL == "" && len(f.TrackingURLs) > 0 {
		out.TrackingURL = f.TrackingURLs[0]
	}
	created, updated := f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	switch {
	case f.ShipmentStatus == "delivered":
		out.Status = orders.FulfillmentDelivered
		if !f.UpdatedAt.IsZero() {
			out.DeliveredAt = &updated
		}
	case f.ShipmentStatus == "failure":
		out.Status = orders.FulfillmentFailed
	case f.ShipmentStatus == "" && (f.Status == "pending" || f.Status == "open"):
		// Accepted by the warehouse, not handed to a carrier yet.
		out.Status = orders.FulfillmentPending
		return out, true
	default:
		// in_transit, out_for_delivery, attempted_delivery (the carrier
		// tries again), confirmed, label_printed, label_purchased,
		// ready_for_pickup, or no carrier updates at all.
		out.Status = orders.FulfillmentInTransit
	}
	if !f.CreatedAt.IsZero() {
		out.ShippedAt = &created
	}
	if !f.UpdatedAt.IsZero() {
		out.LastScanAt = &updated
	}
	return out, true
}
