package orders

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Bounds no real order reaches.
const (
	maxNumberLen = 64
	maxQuantity  = 1_000_000
)

// NormalizeNumber turns what a shopper or a caller typed ("#1001",
// " 1001 ") into an order number ("1001"): surrounding space and one
// leading "#" are dropped.
func NormalizeNumber(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	return strings.TrimSpace(s)
}

// ErrInvalid matches every *FieldError (errors.Is(err, ErrInvalid)), and so
// any error of Validate, Parse, Import, Upsert, CreateReturn or
// CreateDamageCase that is about the data rather than the database:
// retrying it will not help.
var ErrInvalid = errors.New("invalid order data")

// FieldError is one problem with one field of an order, as Validate and
// the importers report it. It matches ErrInvalid.
type FieldError struct {
	// At says where the order is in the input: "line 3", "orders[2]".
	// Validate leaves it empty.
	At string
	// Field names the field by its JSON name and position:
	// "currency", "items[1].quantity". The CSV importer uses column names.
	Field string
	// Problem says what is wrong, quoting the value where that helps.
	Problem string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	for _, part := range []string{e.At, e.Field} {
		if part != "" {
			b.WriteString(part)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Problem)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// FieldErrors returns the *FieldError values inside err (a single one or
// an errors.Join of them), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}

// Validate checks that o can be stored and reasoned about: a number
// without "#" or spaces, a three-letter upper-case currency code, a status
// among OrderOpen, OrderCancelled and OrderClosed, a placement time, items
// with a SKU, a positive quantity and a price not below zero, fulfillments
// with a known status (a delivered one with its delivery time), and http(s)
// links. It returns nil or an errors.Join of *FieldError, one per problem.
func (o Order) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case o.Number == "":
		bad("number", "is required")
	case strings.Contains(o.Number, "#"):
		bad("number", "%q must not contain \"#\" (write 1001, not #1001)", o.Number)
	case strings.IndexFunc(o.Number, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		bad("number", "%q must not contain spaces", o.Number)
	case len(o.Number) > maxNumberLen:
		bad("number", "is longer than %d characters", maxNumberLen)
	}
	if !isCurrencyCode(o.Currency) {
		bad("currency", "%q is not a three-letter upper-case currency code like USD", o.Currency)
	}
	if o.Total < 0 {
		bad("total", "must not be negative")
	}
	if o.PlacedAt.IsZero() {
		bad("placed_at", "is required")
	}
	switch o.Status {
	case OrderOpen, OrderCancelled, OrderClosed:
	case "":
		bad("status", "is required (open, cancelled or closed)")
	default:
		bad("status", "%q is not one of open, cancelled, closed", o.Status)
	}
	if o.Email != "" && !strings.Contains(o.Email, "@") {
		bad("email", "%q is not an e-mail address", o.Email)
	}
	for i, it := range o.Items {
		p := fmt.Sprintf("items[%d].", i)
		if strings.TrimSpace(it.SKU) == "" {
			bad(p+"sku", "is required")
		}
		if it.Quantity <= 0 {
			bad(p+"quantity", "must be greater than 0")
		} else if it.Quantity > maxQuantity {
			bad(p+"quantity", "must be at most %d", maxQuantity)
		}
		if it.Price < 0 {
			bad(p+"price", "must not be negative")
		}
	}
	for i, f := range o.Fulfillments {
		p := fmt.Sprintf("fulfillments[%d].", i)
		switch f.Status {
		case FulfillmentPending, FulfillmentInTransit, FulfillmentFailed:
		case FulfillmentDelivered:
			if f.DeliveredAt == nil {
				bad(p+"delivered_at", "is required when the status is delivered")
			}
		case "":
			bad(p+"status", "is required (pending, in_transit, delivered or failed)")
		default:
			bad(p+"status", "%q is not one of pending, in_transit, delivered, failed", f.Status)
		}
		if f.TrackingURL != "" && !isWebURL(f.TrackingURL) {
			bad(p+"tracking_url", "%q is not an http(s) URL", f.TrackingURL)
		}
		if f.LabelURL != "" && !isWebURL(f.LabelURL) {
			bad(p+"label_url", "%q is not an http(s) URL", f.LabelURL)
		}
	}
	return errors.Join(errs...)
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// isWebURL accepts absolute http and https URLs: links shown to shoppers
// and agents must not be javascript: or relative.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
