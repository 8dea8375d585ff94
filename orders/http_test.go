package orders_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store/storetest"
)

const apiToken = "s3cret-token"

type apiBundle struct {
	*testBundle
	app *fiber.App
}

func setupAPI(t *testing.T, token string) *apiBundle {
	t.Helper()
	tx := storetest.Tx(t)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/orders", orders.UpsertHandler(tx, token))
	return &apiBundle{testBundle: &testBundle{ctx: context.Background(), db: tx, src: orders.NewPostgres(tx)}, app: app}
}

// post sends body and returns the status and the decoded JSON answer.
func (b *apiBundle) post(t *testing.T, contentType, auth, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := b.app.Test(req, -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out
}

func orderJSON(t *testing.T, o orders.Order) string {
	t.Helper()
	b, err := json.Marshal(o)
	require.NoError(t, err)
	return string(b)
}

func TestUpsertHandler(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, apiToken)
	bearer := "Bearer " + apiToken

	status, out := b.post(t, "application/json", bearer, orderJSON(t, sampleOrder("1001")))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"upserted": 1.0}, out)
	got, err := b.src.Order(b.ctx, "1001")
	require.NoError(t, err)
	require.Equal(t, sampleOrder("1001"), got)

	status, out = b.post(t, "application/json; charset=utf-8", "bearer "+apiToken,
		"["+orderJSON(t, sampleOrder("1002"))+",\n"+orderJSON(t, sampleOrder("1003"))+"]")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"upserted": 2.0}, out)

	changed := sampleOrder("1001")
	changed.Status = orders.OrderClosed
	status, out = b.post(t, "application/x-ndjson", bearer,
		orderJSON(t, changed)+"\n\n"+orderJSON(t, sampleOrder("1004"))+"\n")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"upserted": 2.0}, out)
	got, err = b.src.Order(b.ctx, "1001")
	require.NoError(t, err)
	require.Equal(t, orders.OrderClosed, got.Status)
	require.Equal(t, [3]int{4, 8, 4}, countRows(t, b.db))
}

func TestUpsertHandlerRefuses(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, apiToken)
	bearer := "Bearer " + apiToken
	valid := orderJSON(t, sampleOrder("1001"))
	errs := func(msgs ...string) map[string]any {
		list := make([]any, len(msgs))
		for i, m := range msgs {
			list[i] = m
		}
		return map[string]any{"errors": list}
	}

	tests := []struct {
		name        string
		contentType string
		auth        string
		body        string
		status      int
		want        map[string]any
	}{
		{"no token", "application/json", "", valid, 401, errs("missing or wrong bearer token")},
		{"wrong token", "application/json", "Bearer s3cret-tokem", valid, 401, errs("missing or wrong bearer token")},
		{"token prefix", "application/json", "Bearer s3cret", valid, 401, errs("missing or wrong bearer token")},
		{"basic", "application/json", "Basic " + apiToken, valid, 401, errs("missing or wrong bearer token")},
		{"content type", "text/plain", bearer, valid, 415,
			errs(`Content-Type "text/plain" is not accepted: use application/json or application/x-ndjson`)},
		{"no content type", "", bearer, valid, 415,
			errs(`Content-Type "" is not accepted: use application/json or application/x-ndjson`)},
		{"not JSON", "application/json", bearer, "{", 400, errs("not valid JSON: unexpected EOF")},
		{"empty array", "application/json", bearer, "[]", 400, errs("the body holds no orders")},
		{"empty ndjson", "application/x-ndjson", bearer, "\n", 400, errs("the body holds no orders")},
		{"single order", "application/json", bearer, `{"number":"1","currency":"EUR","placed_at":"2026-03-01","status":"open","items":[{"sku":"A","quantity":0}]}`,
			400, errs("items[0].quantity: must be greater than 0")},
		{"array", "application/json", bearer,
			`[` + valid + `,{"number":"1001","currency":"EUR","placed_at":"now-1d","status":"open","total":1.5},7]`, 400, errs(
				`[1]: total: 1.5 is not a whole number of minor units (write 1234 for 12.34)`,
				`[1]: placed_at: "now-1d": relative times are accepted in import files only; use RFC 3339 (2026-03-01T15:04:05Z)`,
				`[1]: number: "1001" already appears at [0]`,
				`[2]: must be a JSON object (an order)`)},
		{"ndjson", "application/x-ndjson", bearer, valid + "\n" + `{"number":"2","currency":"EUR","placed_at":"2026-03-01","status":"gone"}`, 400,
			errs(`line 2: status: "gone" is not one of open, cancelled, closed`)},
	}
	for _, tt := range tests {
		status, out := b.post(t, tt.contentType, tt.auth, tt.body)
		require.Equal(t, tt.status, status, tt.name)
		require.Equal(t, tt.want, out, tt.name)
	}
	require.Equal(t, [3]int{}, countRows(t, b.db), "nothing stored")
}

func TestUpsertHandlerUnauthorizedHeader(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, apiToken)
	req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader("{}"))
	resp, err := b.app.Test(req, -1)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, `Bearer realm="frontdesk"`, resp.Header.Get("WWW-Authenticate"))
}

func TestUpsertHandlerDisabled(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, "")
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		status, out := b.post(t, "application/json", auth, orderJSON(t, sampleOrder("1001")))
		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, map[string]any{"errors": []any{"the orders API is disabled: no token is configured"}}, out)
	}
}

func TestUpsertHandlerDatabaseFailure(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	require.NoError(t, tx.Rollback(context.Background()))
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/orders", orders.UpsertHandler(tx, apiToken))
	b := &apiBundle{app: app}
	status, out := b.post(t, "application/json", "Bearer "+apiToken, orderJSON(t, sampleOrder("1001")))
	require.Equal(t, http.StatusInternalServerError, status)
	require.Equal(t, map[string]any{"errors": []any{"internal error; nothing was stored"}}, out)
}
