package orders

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// UpsertHandler serves POST /api/orders, through which a store pushes its
// orders into Frontdesk's tables (the built-in order system). The body is
// one order as a JSON object, a JSON array of orders (Content-Type
// application/json), or one order per line (application/x-ndjson), with
// the json names of Order, Item and Fulfillment, money in minor units and
// times in RFC 3339. Orders are upserted as by Upsert, all in one
// transaction begun on db (a pool, or a transaction for a savepoint).
//
// Authorization: Bearer <token> is required. With an empty token the
// endpoint is disabled and answers 404. Answers:
//   - 200 {"upserted": n}
//   - 400 {"errors": ["[1]: items[0].quantity: must be greater than 0", ...]}:
//     nothing was stored; each problem names the order (its index in an
//     array, or "line N" for NDJSON) and the field, up to 20
//   - 401 without the right token, 415 for another content type, 500 when
//     the database fails.
//
// The body size limit is the Fiber app's.
func UpsertHandler(db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, token string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if token == "" {
			return c.Status(fiber.StatusNotFound).JSON(errorList("the orders API is disabled: no token is configured"))
		}
		scheme, got, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="frontdesk"`)
			return c.Status(fiber.StatusUnauthorized).JSON(errorList("missing or wrong bearer token"))
		}
		orders, err := parseUpsertBody(c.Get(fiber.HeaderContentType), c.Body(), time.Now())
		if err != nil {
			var unsupported errUnsupportedType
			if errors.As(err, &unsupported) {
				return c.Status(fiber.StatusUnsupportedMediaType).JSON(errorList(err.Error()))
			}
			return c.Status(fiber.StatusBadRequest).JSON(errorList(problemStrings(err)...))
		}
		ctx := c.UserContext()
		err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return upsertAll(ctx, tx, orders) })
		if err != nil {
			zerolog.Ctx(ctx).Err(err).Int("orders", len(orders)).Msg("Failed to upsert orders")
			return c.Status(fiber.StatusInternalServerError).JSON(errorList("internal error; nothing was stored"))
		}
		zerolog.Ctx(ctx).Info().Int("orders", len(orders)).Msg("Upserted orders")
		return c.JSON(fiber.Map{"upserted": len(orders)})
	}
}

type errUnsupportedType struct{ contentType string }

func (e errUnsupportedType) Error() string {
	return fmt.Sprintf("Content-Type %q is not accepted: use application/json or application/x-ndjson", e.contentType)
}

// parseUpsertBody reads the orders of a POST /api/orders body. Relative
// times are refused: they are a convenience of import files only.
func parseUpsertBody(contentType string, body []byte, now time.Time) ([]Order, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, errUnsupportedType{contentType}
	}
	switch mediaType {
	case "application/x-ndjson", "application/jsonl":
		orders, err := parseJSONL(bytes.NewReader(body), now, false)
		if err == nil && len(orders) == 0 {
			err = errors.New("the body holds no orders")
		}
		return orders, err
	case "application/json":
	default:
		return nil, errUnsupportedType{contentType}
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	list, isArray := v.([]any)
	if !isArray {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, errors.New("the body holds no orders")
	}
	var (
		probs  problems
		orders = make([]Order, 0, len(list))
		seen   = map[string]int{}
	)
	for i, v := range list {
		at := ""
		if isArray {
			at = fmt.Sprintf("[%d]", i)
		}
		o, errs := decodeOrder(v, now, false)
		for _, fe := range errs {
			fe.At = at
			probs.add(fe)
		}
		if first, ok := seen[o.Number]; ok && o.Number != "" {
			probs.add(&FieldError{At: at, Field: "number", Problem: fmt.Sprintf("%q already appears at [%d]", o.Number, first)})
		} else {
			seen[o.Number] = i
		}
		orders = append(orders, o)
		if probs.full() {
			break
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return orders, nil
}

func errorList(msgs ...string) fiber.Map {
	return fiber.Map{"errors": msgs}
}

// problemStrings lists the problems joined in err.
func problemStrings(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}
