// Package shopify reads orders from a Shopify store through the Admin REST
// API, as an orders.Source. It needs an Admin API access token with the
// read_orders scope (and read_all_orders for orders older than 60 days).
//
// Errors are classified for workers: ErrUnauthorized (wrapped) means the
// token was refused and retrying will not help; *TransientError (wrapping
// ErrTransient) means retry later, no sooner than its RetryAfter when set.
// Anything else is permanent for this request.
package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/orders"
)

// DefaultAPIVersion is the Admin API version used when Config leaves it empty.
const DefaultAPIVersion = "2025-07"

// maxResponse bounds a response body; an orders.json page is far smaller.
const maxResponse = 8 << 20

// Config says which store to ask and how.
type Config struct {
	// BaseURL is the store's admin address: https://{shop}.myshopify.com.
	BaseURL string
	// AccessToken is the Admin API access token (a secret: never logged).
	AccessToken string
	// APIVersion is the Admin API version, "2025-07"; DefaultAPIVersion
	// when empty.
	APIVersion string
	// HTTPClient makes the calls; a client with a 15-second timeout when nil.
	HTTPClient *http.Client
}

// Validate names the first missing or malformed setting. Its messages
// never include the token.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		return errors.New("shopify: BaseURL is required (https://{shop}.myshopify.com)")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("shopify: BaseURL %q is not an http(s) URL", c.BaseURL)
	case c.AccessToken == "":
		return errors.New("shopify: AccessToken is required")
	}
	return nil
}

var (
	// ErrUnauthorized is wrapped by errors of Client.Order when Shopify
	// answers 401 or 403: the token is wrong, revoked, or lacks the
	// read_orders scope. Retrying will not help; someone must fix the token.
	ErrUnauthorized = errors.New("shopify refused the access token")
	// ErrTransient is wrapped by *TransientError: a rate limit (429), a
	// Shopify outage (5xx) or a network failure. Retry later.
	ErrTransient = errors.New("shopify is temporarily unavailable")
)

// TransientError is a failure worth retrying. It wraps ErrTransient.
type TransientError struct {
	// Status is the HTTP status, 0 for a network failure.
	Status int
	// RetryAfter is Shopify's Retry-After, 0 when it gave none.
	RetryAfter time.Duration
	// Reason says what happened, for logs.
	Reason string
}

func (e *TransientError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: %s (retry after %s)", ErrTransient, e.Reason, e.RetryAfter)
	}
	return fmt.Sprintf("%s: %s", ErrTransient, e.Reason)
}

func (e *TransientError) Unwrap() error { return ErrTransient }

// Client is an orders.Source over one Shopify store. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ orders.Source = (*Client)(nil)

// New returns a client for cfg. Configuration problems (see
// Config.Validate) are reported by each call.
func New(cfg Config) *Client {
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{cfg: cfg, http: hc}
}

// Order looks the order up by its name ("#1001"; number may be given with
// or without the "#"), among open, closed and cancelled orders. It returns
// orders.ErrNotFound when no order has exactly that name.
//
// Mapping: a cancelled order is orders.OrderCancelled, a closed one
// OrderClosed, any other OrderOpen. Amounts are read exactly from
// Shopify's decimal strings. An item's Title is its line item name (title
// and variant, "T-shirt - Blue / M"), or title when there is none. Each
// fulfillment that is not cancelled or failed becomes one Fulfillment:
// shipment_status delivered → delivered (DeliveredAt = updated_at),
// failure → failed, any other or none → in_transit, except that a
// fulfillment still pending or open at the warehouse is pending.
// ShippedAt is created_at and LastScanAt updated_at. PromisedBy and
// FinalSale are not in Shopify's order and stay empty.
func (c *Client) Order(ctx context.Context, number string) (orders.Order, error) {
	number = orders.NormalizeNumber(number)
	if number == "" {
		return orders.Order{}, orders.ErrNotFound
	}
	if err := c.cfg.Validate(); err != nil {
		return orders.Order{}, err
	}
	q := url.Values{"name": {"#" + number}, "status": {"any"}}
	endpoint := c.cfg.BaseURL + "/admin/api/" + url.PathEscape(c.cfg.APIVersion) + "/orders.json?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return orders.Order{}, fmt.Errorf("shopify: build request: %w", err)
	}
	req.Header.Set("X-Shopify-Access-Token", c.cfg.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return orders.Order{}, ctx.Err()
		}
		return orders.Order{}, &TransientError{Reason: "request failed: " + redactURL(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return orders.Order{}, &TransientError{Status: resp.StatusCode, Reason: "read response: " + err.Error()}
	}
	if err := classify(resp, body); err != nil {
		return orders.Order{}, err
	}
	var page struct {
		Orders []orderJSON `json:"orders"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return orders.Order{}, fmt.Errorf("shopify: read orders: %w", err)
	}
	for _, o := range page.Orders {
		if strings.EqualFold(orders.NormalizeNumber(o.Name), number) {
			return o.toOrder()
		}
	}
	return orders.Order{}, orders.ErrNotFound
}

// classify turns a non-2xx answer into a classified error.
func classify(resp *http.Response, body []byte) error {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return nil
	}
	reason := fmt.Sprintf("HTTP %d", status)
	if msg := errorMessage(body); msg != "" {
		reason += ": " + msg
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w (%s)", ErrUnauthorized, reason)
	case status == http.StatusTooManyRequests || status >= 500:
		return &TransientError{Status: status, RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Reason: reason}
	default:
		return fmt.Errorf("shopify: look up order: %s", reason)
	}
}

// errorMessage reads Shopify's {"errors": "..."} or {"errors": {...}}.
func errorMessage(body []byte) string {
	var e struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	var s string
	msg := string(e.Errors)
	if json.Unmarshal(e.Errors, &s) == nil {
		msg = s
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return msg
}

// retryAfter reads Retry-After in seconds ("2" or Shopify's "2.0").
func retryAfter(v string) time.Duration {
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || secs <= 0 || secs > 3600 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// redactURL drops the URL from a transport error: it holds the shop's
// address and the looked-up order, which logs need not repeat.
func redactURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
