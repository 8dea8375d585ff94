// Package shopifystub is a strict stand-in for the part of Shopify's Admin
// REST API that Frontdesk uses: GET /admin/api/{version}/orders.json with
// name and status=any. Tests and demos point shopify.Config.BaseURL at it.
//
// It checks requests as Shopify would, and more strictly: the method, the
// configured API version in the path, the X-Shopify-Access-Token header
// (401 with Shopify's error JSON otherwise), and the query, which must
// name one order and ask for status=any (Frontdesk looks orders up by name
// among open, closed and cancelled ones; Shopify would silently list
// recent open orders instead). Orders are served in Shopify's JSON shape
// as given to Add. Script queues failures, such as a 429 with Retry-After.
package shopifystub

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Order is a Shopify order in the Admin API's JSON shape, the fields
// Frontdesk reads and a few more. Add also takes any other value that
// marshals to such an object (a map, a json.RawMessage), for payloads
// this type cannot express.
type Order struct {
	ID              int64         `json:"id"`
	Name            string        `json:"name"` // "#1001"
	OrderNumber     int           `json:"order_number,omitempty"`
	Email           string        `json:"email,omitempty"`
	Phone           *string       `json:"phone"`
	Currency        string        `json:"currency"`
	TotalPrice      string        `json:"total_price"` // decimal string, "850.00"
	FinancialStatus string        `json:"financial_status,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
	CancelledAt     *time.Time    `json:"cancelled_at"`
	CancelReason    *string       `json:"cancel_reason"`
	ClosedAt        *time.Time    `json:"closed_at"`
	Customer        *Customer     `json:"customer,omitempty"`
	ShippingAddress *Address      `json:"shipping_address,omitempty"`
	LineItems       []LineItem    `json:"line_items"`
	Fulfillments    []Fulfillment `json:"fulfillments"`
}

// Customer is an order's customer.
type Customer struct {
	ID        int64   `json:"id"`
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Email     string  `json:"email,omitempty"`
	Phone     *string `json:"phone"`
}

// Address is a shipping address.
type Address struct {
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Name      string  `json:"name,omitempty"`
	Address1  string  `json:"address1,omitempty"`
	City      string  `json:"city,omitempty"`
	Zip       string  `json:"zip,omitempty"`
	Country   string  `json:"country,omitempty"`
	Phone     *string `json:"phone"`
}

// LineItem is one line of an order.
type LineItem struct {
	ID       int64   `json:"id"`
	SKU      *string `json:"sku"`
	Title    string  `json:"title"`
	Name     string  `json:"name,omitempty"` // title and variant: "T-shirt - Blue / M"
	Quantity int     `json:"quantity"`
	Price    string  `json:"price"` // per unit, decimal string
}

// Fulfillment is one shipment.
type Fulfillment struct {
	ID              int64     `json:"id"`
	Status          string    `json:"status"`          // pending, open, success, cancelled, error, failure
	ShipmentStatus  *string   `json:"shipment_status"` // in_transit, delivered, failure, ... or null
	TrackingCompany *string   `json:"tracking_company"`
	TrackingNumber  *string   `json:"tracking_number"`
	TrackingNumbers []string  `json:"tracking_numbers"`
	TrackingURL     *string   `json:"tracking_url"`
	TrackingURLs    []string  `json:"tracking_urls"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Ptr returns a pointer to v, for Order's nullable fields.
func Ptr[T any](v T) *T { return &v }

// Error bodies as Shopify writes them.
const (
	BodyUnauthorized = `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`
	BodyRateLimited  = `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`
	BodyServerError  = `{"errors":"Internal Server Error"}`
	BodyNotFound     = `{"errors":"Not Found"}`
)

// Response is a scripted answer (see Script). Status 429 without Body and
// Header gets Shopify's rate-limit body and "Retry-After: 2.0"; a 5xx
// without Body gets Shopify's server-error body.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Request is a request the stub answered, for inspection.
type Request struct {
	Method string
	Path   string
	Query  string
	Status int
}

// Server is the stand-in: an http.Handler serving the Admin API at its
// root; Start serves it on a loopback port. It is safe for concurrent use.
type Server struct {
	token   string
	version string

	mu       sync.Mutex
	orders   []stored
	script   []Response
	requests []Request
	http     *http.Server
}

type stored struct {
	name string
	raw  json.RawMessage
}

// New returns a stub accepting the access token token on API version
// version ("2025-07").
func New(token, version string) *Server {
	return &Server{token: token, version: version}
}

// Start serves the stub on a free port of 127.0.0.1 and returns its base
// URL, for shopify.Config.BaseURL. It panics if it cannot listen, as
// httptest.NewServer does. Stop it with Close.
func (s *Server) Start() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("shopifystub: failed to listen: %v", err))
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.http != nil {
		s.mu.Unlock()
		ln.Close()
		panic("shopifystub: Start called twice")
	}
	s.http = srv
	s.mu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close.
	return "http://" + ln.Addr().String()
}

// Close stops the server Start started, if any.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.http
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Add registers an order: an Order, or anything marshalling to a JSON
// object with a "name". An order with the name of an earlier one replaces
// it. Add panics on a value it cannot serve: it is test setup.
func (s *Server) Add(order any) {
	raw, err := json.Marshal(order)
	if err != nil {
		panic(fmt.Sprintf("shopifystub: Add: %v", err))
	}
	var head struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.Name == "" {
		panic(fmt.Sprintf("shopifystub: Add: not an order object with a name: %s", raw))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.orders {
		if o.name == head.Name {
			s.orders[i].raw = raw
			return
		}
	}
	s.orders = append(s.orders, stored{name: head.Name, raw: raw})
}

// Script queues answers for the next well-formed, authorized requests,
// one each, in order; requests after the queue is empty are served
// normally.
func (s *Server) Script(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var allowedParams = map[string]bool{"name": true, "status": true, "fields": true, "limit": true}

// ServeHTTP answers one Admin API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, *rec)
		s.mu.Unlock()
	}()
	answer := func(status int, header http.Header, body string) {
		rec.Status = status
		for k, vs := range header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Shopify-API-Version", s.version)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
	invalid := func(format string, args ...any) {
		msg, _ := json.Marshal(fmt.Sprintf(format, args...))
		answer(http.StatusBadRequest, nil, `{"errors":`+string(msg)+`}`)
	}

	if r.Header.Get("X-Shopify-Access-Token") != s.token {
		answer(http.StatusUnauthorized, nil, BodyUnauthorized)
		return
	}
	if r.URL.Path != "/admin/api/"+s.version+"/orders.json" {
		answer(http.StatusNotFound, nil, BodyNotFound)
		return
	}
	if r.Method != http.MethodGet {
		answer(http.StatusMethodNotAllowed, http.Header{"Allow": {http.MethodGet}}, BodyNotFound)
		return
	}
	q := r.URL.Query()
	for k := range q {
		if !allowedParams[k] {
			invalid("shopifystub: unexpected query parameter %q", k)
			return
		}
	}
	name := q.Get("name")
	if name == "" || len(q["name"]) > 1 {
		invalid("shopifystub: exactly one name parameter is required")
		return
	}
	if q.Get("status") != "any" {
		invalid("shopifystub: status=any is required (without it Shopify lists open orders only)")
		return
	}

	s.mu.Lock()
	var scripted *Response
	if len(s.script) > 0 {
		scripted = &s.script[0]
		s.script = s.script[1:]
	}
	var found []json.RawMessage
	for _, o := range s.orders {
		if o.name == name || strings.TrimPrefix(o.name, "#") == strings.TrimPrefix(name, "#") {
			found = append(found, o.raw)
		}
	}
	s.mu.Unlock()

	if scripted != nil && scripted.Status != 0 && scripted.Status != http.StatusOK {
		status, header, body := scripted.Status, scripted.Header, scripted.Body
		if status == http.StatusTooManyRequests && body == "" && header == nil {
			header = http.Header{"Retry-After": {"2.0"}}
		}
		if body == "" {
			switch {
			case status == http.StatusTooManyRequests:
				body = BodyRateLimited
			case status >= 500:
				body = BodyServerError
			case status == http.StatusUnauthorized || status == http.StatusForbidden:
				body = BodyUnauthorized
			default:
				body = BodyNotFound
			}
		}
		answer(status, header, body)
		return
	}
	if found == nil {
		found = []json.RawMessage{}
	}
	out, err := json.Marshal(map[string]any{"orders": found})
	if err != nil {
		answer(http.StatusInternalServerError, nil, BodyServerError)
		return
	}
	answer(http.StatusOK, nil, string(out))
}
