package orders

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jsonDecoder reads one order from decoded JSON (numbers as json.Number)
// field by field, so that every problem names its field and quotes its
// value, which encoding/json's errors do not. Unknown fields are errors:
// a typo must not silently drop data.
type jsonDecoder struct {
	now time.Time
	// relative accepts times like "now-6d" (import files, not the API).
	relative bool
	errs     []*FieldError
	failed   map[string]bool // fields with a decoding error, not to be re-reported by Validate
}

// decodeOrder reads v as an Order and validates it. It returns the order
// and the problems found, with field paths but no At.
func decodeOrder(v any, now time.Time, relative bool) (Order, []*FieldError) {
	d := &jsonDecoder{now: now, relative: relative, failed: map[string]bool{}}
	m, ok := v.(map[string]any)
	if !ok {
		return Order{}, []*FieldError{{Problem: "must be a JSON object (an order)"}}
	}
	obj := jsonObject{d: d, m: m}
	o := Order{
		Number:       NormalizeNumber(obj.str("number")),
		CustomerName: obj.str("customer_name"),
		Email:        obj.str("email"),
		Phone:        obj.str("phone"),
		Currency:     obj.str("currency"),
		Total:        obj.money("total"),
		PromisedBy:   obj.time("promised_by"),
		Status:       obj.str("status"),
	}
	if t := obj.time("placed_at"); t != nil {
		o.PlacedAt = *t
	}
	for i, v := range obj.array("items") {
		it, ok := obj.object(fmt.Sprintf("items[%d]", i), v)
		if !ok {
			continue
		}
		o.Items = append(o.Items, Item{
			SKU:       it.str("sku"),
			Title:     it.str("title"),
			Quantity:  int(it.integer("quantity", maxQuantity+1)),
			Price:     it.money("price"),
			FinalSale: it.boolean("final_sale"),
		})
		it.checkUnknown("sku", "title", "quantity", "price", "final_sale")
	}
	for i, v := range obj.array("fulfillments") {
		f, ok := obj.object(fmt.Sprintf("fulfillments[%d]", i), v)
		if !ok {
			continue
		}
		o.Fulfillments = append(o.Fulfillments, Fulfillment{
			Carrier:        f.str("carrier"),
			TrackingNumber: f.str("tracking_number"),
			TrackingURL:    f.str("tracking_url"),
			Status:         f.str("status"),
			ShippedAt:      f.time("shipped_at"),
			DeliveredAt:    f.time("delivered_at"),
			LastScanAt:     f.time("last_scan_at"),
			LabelURL:       f.str("label_url"),
		})
		f.checkUnknown("carrier", "tracking_number", "tracking_url", "status", "shipped_at", "delivered_at",
			"last_scan_at", "label_url")
	}
	if _, ok := m["returned_skus"]; ok {
		d.bad("returned_skus", "is kept by Frontdesk from its own returns and cannot be imported")
	}
	obj.checkUnknown("number", "customer_name", "email", "phone", "currency", "total", "placed_at",
		"promised_by", "status", "items", "fulfillments", "returned_skus")
	for _, fe := range FieldErrors(o.Validate()) {
		if !d.failed[fe.Field] {
			d.errs = append(d.errs, fe)
		}
	}
	return o, d.errs
}

func (d *jsonDecoder) bad(field, format string, args ...any) {
	d.failed[field] = true
	d.errs = append(d.errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

type jsonObject struct {
	d    *jsonDecoder
	path string // "" at the top, "items[1]." inside
	m    map[string]any
}

func (o jsonObject) field(name string) string { return o.path + name }

// object reads v, found at path, as a nested object.
func (o jsonObject) object(path string, v any) (jsonObject, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		o.d.bad(path, "must be an object")
		return jsonObject{}, false
	}
	return jsonObject{d: o.d, path: path + ".", m: m}, true
}

func (o jsonObject) str(name string) string {
	switch v := o.m[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		o.d.bad(o.field(name), "%s must be a string", jsonText(v))
		return ""
	}
}

// integer reads a whole number below limit.
func (o jsonObject) integer(name string, limit int64) int64 {
	switch v := o.m[name].(type) {
	case nil:
		return 0
	case json.Number:
		n, ok := wholeNumber(v)
		if !ok {
			o.d.bad(o.field(name), "%s is not a whole number", v)
			return 0
		}
		if n >= limit {
			o.d.bad(o.field(name), "%s is too large", v)
			return 0
		}
		return n
	default:
		o.d.bad(o.field(name), "%s is not a whole number", jsonText(v))
		return 0
	}
}

// money reads an amount in minor units: a whole JSON number.
func (o jsonObject) money(name string) Money {
	const hint = "is not a whole number of minor units (write 1234 for 12.34)"
	switch v := o.m[name].(type) {
	case nil:
		return 0
	case json.Number:
		n, ok := wholeNumber(v)
		if !ok {
			o.d.bad(o.field(name), "%s %s", v, hint)
			return 0
		}
		return Money(n)
	default:
		o.d.bad(o.field(name), "%s %s", jsonText(v), hint)
		return 0
	}
}

// wholeNumber reads a JSON number that is an integer: 12, or 12.0 and
// 1.2e1 written as floats (exact up to 2^53).
func wholeNumber(v json.Number) (int64, bool) {
	if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v.String(), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func (o jsonObject) boolean(name string) bool {
	switch v := o.m[name].(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		o.d.bad(o.field(name), "%s must be true or false", jsonText(v))
		return false
	}
}

func (o jsonObject) time(name string) *time.Time {
	switch v := o.m[name].(type) {
	case nil:
		return nil
	case string:
		t, err := parseTime(v, o.d.now, o.d.relative)
		if err != nil {
			o.d.bad(o.field(name), "%s", err)
			return nil
		}
		return &t
	default:
		o.d.bad(o.field(name), "%s must be a time as a string", jsonText(v))
		return nil
	}
}

func (o jsonObject) array(name string) []any {
	switch v := o.m[name].(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		o.d.bad(o.field(name), "must be an array")
		return nil
	}
}

func (o jsonObject) checkUnknown(known ...string) {
	var unknown []string
	for k := range o.m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		o.d.bad(o.field(k), "is not a known field")
	}
}

// jsonText shows a decoded JSON value as it was written.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}

// parseTime reads an RFC 3339 time ("2026-03-01T15:04:05Z"), a date
// ("2026-03-01", midnight UTC) or, when relative is set, a time relative
// to now: "now", "now-6d", "now+2d", "now-36h", "now-1d12h" (units d, h,
// m, s; a day is 24 hours).
func parseTime(s string, now time.Time, relative bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		if !relative {
			return time.Time{}, fmt.Errorf("%q: relative times are accepted in import files only; use RFC 3339 (2026-03-01T15:04:05Z)", s)
		}
		d, err := parseOffset(rest)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a relative time like now-6d, now+2d or now-36h", s)
		}
		return now.Add(d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if relative {
		return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-03-01T15:04:05Z), a date (2026-03-01) or now±N with d, h, m or s (now-6d)", s)
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-03-01T15:04:05Z) or a date (2026-03-01)", s)
}

// parseOffset reads what follows "now": empty, or a sign and one or more
// number-unit pairs.
func parseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	sign := time.Duration(1)
	switch s[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, fmt.Errorf("missing sign")
	}
	s = s[1:]
	if s == "" {
		return 0, fmt.Errorf("missing amount")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(s) {
			return 0, fmt.Errorf("bad amount")
		}
		n, _ := strconv.Atoi(s[:i])
		var unit time.Duration
		switch s[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, fmt.Errorf("bad unit")
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	return sign * total, nil
}
