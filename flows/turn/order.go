package turn

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/orders"
)

// Order is the looked-up order a conversation is about, as kept in its
// slots: the order without the customer's name, and without e-mail and
// phone once the shopper is verified.
type Order struct {
	orders.Order
}

// Order returns the looked-up order, if any.
func (t *Turn) Order() (Order, bool) {
	s := t.Data[KeySnapshot]
	if s == "" {
		return Order{}, false
	}
	var o Order
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return Order{}, false
	}
	return o, true
}

// SetOrder keeps o as the conversation's order.
func (t *Turn) SetOrder(o Order) {
	o.CustomerName = ""
	if t.Data[KeyVerified] != "" {
		o.Email, o.Phone = "", ""
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic("turn: encode order: " + err.Error()) // plain data always encodes
	}
	t.Data[KeySnapshot] = string(b)
	t.Data[KeyOrder] = o.Number
}

// ForgetOrder drops the order and everything learned about it.
func (t *Turn) ForgetOrder() {
	for _, k := range []string{KeyOrder, KeySnapshot, KeyVerified, KeyClaim} {
		delete(t.Data, k)
	}
}

// Item returns the order line of sku.
func (o Order) Item(sku string) (orders.Item, bool) {
	i := slices.IndexFunc(o.Items, func(it orders.Item) bool { return it.SKU == sku })
	if i < 0 {
		return orders.Item{}, false
	}
	return o.Items[i], true
}

// ItemTitles names the lines of comma-separated skus for people:
// "Blue vase (VASE-1), Mug ×2 (MUG-2)".
func (o Order) ItemTitles(skus string) string {
	if skus == "" {
		return ""
	}
	var names []string
	for _, sku := range strings.Split(skus, ",") {
		it, ok := o.Item(sku)
		if !ok {
			names = append(names, sku)
			continue
		}
		n := it.Title
		if it.Quantity > 1 {
			n += " ×" + strconv.Itoa(it.Quantity)
		}
		names = append(names, n+" ("+sku+")")
	}
	return strings.Join(names, ", ")
}

// Titles names the lines of comma-separated skus for the shopper.
func (o Order) Titles(skus []string) string {
	names := make([]string, 0, len(skus))
	for _, sku := range skus {
		if it, ok := o.Item(sku); ok {
			names = append(names, it.Title)
		}
	}
	return strings.Join(names, ", ")
}

// DeliveredAt is when the last delivered shipment arrived.
func (o Order) DeliveredAt() (time.Time, bool) {
	var last time.Time
	for _, f := range o.Fulfillments {
		if f.Status == orders.FulfillmentDelivered && f.DeliveredAt != nil && f.DeliveredAt.After(last) {
			last = *f.DeliveredAt
		}
	}
	return last, !last.IsZero()
}

// LabelURL is the prepaid return label of any shipment.
func (o Order) LabelURL() string {
	for _, f := range o.Fulfillments {
		if f.LabelURL != "" {
			return f.LabelURL
		}
	}
	return ""
}
