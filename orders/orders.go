// Package orders is Frontdesk's view of a store's orders: the types the
// bot reasons about, the Source interface an order system implements
// (built-in PostgreSQL tables or Shopify), and the return and damage
// records Frontdesk itself keeps. It imports nothing of Frontdesk's but
// store.
package orders

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Source.Order when no order has that number.
var ErrNotFound = errors.New("order not found")

// Source is a store's order system. Calls may be slow (HTTP); they run in
// workers, never in a webhook request.
type Source interface {
	// Order returns the order with this number ("1001"; a leading "#" is
	// ignored), or ErrNotFound.
	Order(ctx context.Context, number string) (Order, error)
}

// Order is one order with what support needs to answer about it.
type Order struct {
	Number       string     `json:"number"` // without "#"
	CustomerName string     `json:"customer_name,omitempty"`
	Email        string     `json:"email,omitempty"`
	Phone        string     `json:"phone,omitempty"` // E.164 when known, e.g. +34600111222
	Currency     string     `json:"currency"`
	Total        Money      `json:"total"`
	PlacedAt     time.Time  `json:"placed_at"`
	PromisedBy   *time.Time `json:"promised_by,omitempty"` // delivery promised to the shopper
	Status       string     `json:"status"`                // open, cancelled, closed
	Items        []Item     `json:"items"`
	// Fulfillments are the order's shipments. None (or only pending ones)
	// means nothing has shipped yet.
	Fulfillments []Fulfillment `json:"fulfillments,omitempty"`
	// ReturnedSKUs are items Frontdesk already recorded a return for;
	// filled when the bot looks an order up.
	ReturnedSKUs []string `json:"returned_skus,omitempty"`
}

// Order statuses.
const (
	OrderOpen      = "open"
	OrderCancelled = "cancelled"
	OrderClosed    = "closed"
)

// Money is an amount in the currency's minor unit (cents).
type Money int64

// Item is one line of an order.
type Item struct {
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	Price     Money  `json:"price"` // per unit
	FinalSale bool   `json:"final_sale,omitempty"`
}

// Fulfillment statuses.
const (
	FulfillmentPending   = "pending"    // not shipped yet
	FulfillmentInTransit = "in_transit" // shipped, moving
	FulfillmentDelivered = "delivered"
	FulfillmentFailed    = "failed" // delivery failed or returned to sender
)

// Fulfillment is one shipment of some or all of an order's items.
type Fulfillment struct {
	Carrier        string     `json:"carrier,omitempty"`
	TrackingNumber string     `json:"tracking_number,omitempty"`
	TrackingURL    string     `json:"tracking_url,omitempty"`
	Status         string     `json:"status"`
	ShippedAt      *time.Time `json:"shipped_at,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	// LastScanAt is the carrier's last tracking event; a shipment with no
	// scan for days is stalled.
	LastScanAt *time.Time `json:"last_scan_at,omitempty"`
	// LabelURL is a prepaid return label, when the order system has one.
	LabelURL string `json:"label_url,omitempty"`
}

// Return resolutions.
const (
	ResolutionRefund   = "refund"
	ResolutionExchange = "exchange"
	ResolutionCredit   = "store_credit"
	// ResolutionReplacement resolves a damage case with a new item.
	ResolutionReplacement = "replacement"
)

// Return statuses.
const (
	ReturnRequested = "requested"
	ReturnApproved  = "approved"
	ReturnReceived  = "received"
	ReturnRefunded  = "refunded"
	ReturnRejected  = "rejected"
)

// Damage case statuses.
const (
	DamageOpen      = "open"
	DamageApproved  = "approved"
	DamageEscalated = "escalated"
	DamageClosed    = "closed"
)

// Return is a return Frontdesk recorded for a shopper.
type Return struct {
	ID             int64     `json:"id"`
	RMA            string    `json:"rma"` // e.g. "RMA-1001-3F9K"
	OrderNumber    string    `json:"order_number"`
	ConversationID int64     `json:"conversation_id"` // 0: not from a conversation
	SKUs           []string  `json:"skus"`
	Reason         string    `json:"reason"`
	Resolution     string    `json:"resolution"`
	LabelURL       string    `json:"label_url,omitempty"`
	Status         string    `json:"status"` // requested, approved, received, refunded, rejected
	CreatedAt      time.Time `json:"created_at"`
}

// DamageCase is a damaged-item report with its evidence.
type DamageCase struct {
	ID             int64     `json:"id"`
	OrderNumber    string    `json:"order_number"`
	ConversationID int64     `json:"conversation_id"`
	SKU            string    `json:"sku"`
	Description    string    `json:"description"`
	EvidenceURLs   []string  `json:"evidence_urls"`
	Value          Money     `json:"value"`
	Resolution     string    `json:"resolution,omitempty"` // refund, replacement; empty while an agent decides
	Status         string    `json:"status"`               // open, approved, escalated, closed
	CreatedAt      time.Time `json:"created_at"`
}
