package shopifystub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders/shopify/shopifystub"
)

const path = "/admin/api/2025-07/orders.json"

func do(t *testing.T, s *shopifystub.Server, method, target, token string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("X-Shopify-Access-Token", token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, rec.Result().Header, string(body)
}

func TestStubChecksRequests(t *testing.T) {
	t.Parallel()
	s := shopifystub.New("tok", "2025-07")
	s.Add(shopifystub.Order{Name: "#1001", Currency: "USD", TotalPrice: "1.00"})
	ok := path + "?name=%231001&status=any"

	tests := []struct {
		name, method, target, token string
		status                      int
		body                        string
	}{
		{"served", "GET", ok, "tok", 200, ""},
		{"without #", "GET", path + "?name=1001&status=any", "tok", 200, ""},
		{"no token", "GET", ok, "", 401, shopifystub.BodyUnauthorized},
		{"wrong token", "GET", ok, "tok2", 401, shopifystub.BodyUnauthorized},
		{"other version", "GET", "/admin/api/2024-01/orders.json?name=%231001&status=any", "tok", 404, shopifystub.BodyNotFound},
		{"other resource", "GET", "/admin/api/2025-07/products.json", "tok", 404, shopifystub.BodyNotFound},
		{"method", "POST", ok, "tok", 405, shopifystub.BodyNotFound},
		{"no name", "GET", path + "?status=any", "tok", 400, `{"errors":"shopifystub: exactly one name parameter is required"}`},
		{"two names", "GET", path + "?name=1&name=2&status=any", "tok", 400, `{"errors":"shopifystub: exactly one name parameter is required"}`},
		{"no status", "GET", path + "?name=%231001", "tok", 400, `{"errors":"shopifystub: status=any is required (without it Shopify lists open orders only)"}`},
		{"unknown parameter", "GET", ok + "&access_token=tok", "tok", 400, `{"errors":"shopifystub: unexpected query parameter \"access_token\""}`},
	}
	for _, tt := range tests {
		status, header, body := do(t, s, tt.method, tt.target, tt.token)
		require.Equal(t, tt.status, status, tt.name)
		require.Equal(t, "2025-07", header.Get("X-Shopify-API-Version"), tt.name)
		if tt.body != "" {
			require.Equal(t, tt.body, body, tt.name)
		}
	}
	require.Len(t, s.Requests(), len(tests))
}

func TestStubServesOrders(t *testing.T) {
	t.Parallel()
	s := shopifystub.New("tok", "2025-07")
	s.Add(shopifystub.Order{Name: "#1001", Currency: "USD", TotalPrice: "1.00"})
	s.Add(map[string]any{"name": "#1002", "total_price": "2.00", "custom": true})
	s.Add(shopifystub.Order{Name: "#1001", Currency: "USD", TotalPrice: "9.00"}) // replaces

	var page struct {
		Orders []map[string]any `json:"orders"`
	}
	_, _, body := do(t, s, "GET", path+"?name=%231001&status=any", "tok")
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Len(t, page.Orders, 1)
	require.Equal(t, "9.00", page.Orders[0]["total_price"])
	require.Contains(t, page.Orders[0], "cancelled_at", "nullable fields are sent as null")

	_, _, body = do(t, s, "GET", path+"?name=%231002&status=any", "tok")
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Equal(t, true, page.Orders[0]["custom"])

	_, _, body = do(t, s, "GET", path+"?name=%23100&status=any", "tok")
	require.Equal(t, `{"orders":[]}`, body)

	require.Panics(t, func() { s.Add(map[string]any{"id": 1}) })
	require.Panics(t, func() { s.Add(func() {}) })
}

func TestStubScript(t *testing.T) {
	t.Parallel()
	s := shopifystub.New("tok", "2025-07")
	s.Script(shopifystub.Response{Status: 429}, shopifystub.Response{Status: 502}, shopifystub.Response{})
	ok := path + "?name=%231001&status=any"

	// A malformed request does not use up the script.
	status, _, _ := do(t, s, "GET", ok, "")
	require.Equal(t, 401, status)

	status, header, body := do(t, s, "GET", ok, "tok")
	require.Equal(t, 429, status)
	require.Equal(t, "2.0", header.Get("Retry-After"))
	require.Equal(t, shopifystub.BodyRateLimited, body)

	status, _, body = do(t, s, "GET", ok, "tok")
	require.Equal(t, 502, status)
	require.Equal(t, shopifystub.BodyServerError, body)

	// A zero Response lets the request through.
	status, _, body = do(t, s, "GET", ok, "tok")
	require.Equal(t, 200, status)
	require.Equal(t, `{"orders":[]}`, body)
}
