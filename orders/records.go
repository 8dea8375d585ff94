package orders

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/store"
)

// Validate checks a return before it is recorded: an order number, at
// least one SKU, a known resolution (or none yet) and a known status. It
// returns nil or an errors.Join of *FieldError.
func (r Return) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if NormalizeNumber(r.OrderNumber) == "" {
		bad("order_number", "is required")
	}
	if len(r.SKUs) == 0 {
		bad("skus", "name at least one item")
	}
	for i, s := range r.SKUs {
		if strings.TrimSpace(s) == "" {
			bad(fmt.Sprintf("skus[%d]", i), "is empty")
		}
	}
	switch r.Resolution {
	case "", ResolutionRefund, ResolutionExchange, ResolutionCredit:
	default:
		bad("resolution", "%q is not one of refund, exchange, store_credit", r.Resolution)
	}
	switch r.Status {
	case ReturnRequested, ReturnApproved, ReturnReceived, ReturnRefunded, ReturnRejected:
	default:
		bad("status", "%q is not one of requested, approved, received, refunded, rejected", r.Status)
	}
	return errors.Join(errs...)
}

// Validate checks a damage case before it is recorded: an order number, a
// value not below zero, a known resolution (or none yet) and a known
// status. It returns nil or an errors.Join of *FieldError.
func (c DamageCase) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if NormalizeNumber(c.OrderNumber) == "" {
		bad("order_number", "is required")
	}
	if c.Value < 0 {
		bad("value", "must not be negative")
	}
	switch c.Resolution {
	case "", ResolutionRefund, ResolutionReplacement:
	default:
		bad("resolution", "%q is not one of refund, replacement", c.Resolution)
	}
	switch c.Status {
	case DamageOpen, DamageApproved, DamageEscalated, DamageClosed:
	default:
		bad("status", "%q is not one of open, approved, escalated, closed", c.Status)
	}
	return errors.Join(errs...)
}

// rmaAlphabet is Crockford's base32: no I, L, O or U to misread.
const rmaAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// rmaAttempts bounds retries when a generated RMA is taken (1 in 2^20 per
// existing return of the same order).
const rmaAttempts = 8

// NewRMA returns a fresh return authorization for an order:
// "RMA-1001-3F9K", the order number and four random base32 characters.
func NewRMA(orderNumber string) string {
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = rmaAlphabet[b[i]&31]
	}
	return "RMA-" + NormalizeNumber(orderNumber) + "-" + string(b)
}

const returnColumns = `id, rma, order_number, COALESCE(conversation_id, 0), skus, reason, resolution, label_url, status, created_at`

// CreateReturn records a return and returns it with its ID, RMA (generated
// by NewRMA when r.RMA is empty) and CreatedAt (now when zero). Status
// defaults to ReturnRequested. ConversationID 0 records a return made
// outside a conversation.
//
// It is idempotent per (r.ConversationID, key): when a return with that
// key exists, it is returned unchanged and nothing is written, whatever r
// says, so a worker may retry freely. An empty key disables this. A
// caller-chosen RMA that is already taken gives an error wrapping
// store.ErrDuplicate. Validation problems are returned as from
// Return.Validate.
func CreateReturn(ctx context.Context, db store.DBTX, r Return, key string) (Return, error) {
	r.OrderNumber = NormalizeNumber(r.OrderNumber)
	if r.Status == "" {
		r.Status = ReturnRequested
	}
	if err := r.Validate(); err != nil {
		return Return{}, err
	}
	if r.SKUs == nil {
		r.SKUs = []string{}
	}
	generated := r.RMA == ""
	for range rmaAttempts {
		if generated {
			r.RMA = NewRMA(r.OrderNumber)
		}
		err := db.QueryRow(ctx, `INSERT INTO returns (rma, order_number, conversation_id, idempotency_key, skus,
				reason, resolution, label_url, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()))
			ON CONFLICT DO NOTHING
			RETURNING id, created_at`,
			r.RMA, r.OrderNumber, nullID(r.ConversationID), nullKey(key), r.SKUs, r.Reason, r.Resolution,
			r.LabelURL, r.Status, nullTime(r.CreatedAt)).Scan(&r.ID, &r.CreatedAt)
		if err == nil {
			r.CreatedAt = r.CreatedAt.UTC()
			return r, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Return{}, fmt.Errorf("create return: %w", err)
		}
		// Nothing inserted: the key was used before, or the RMA is taken.
		if key != "" {
			where, args := keyFilter(r.ConversationID, key)
			existing, err := queryReturns(ctx, db, where, args...)
			if err != nil {
				return Return{}, err
			}
			if len(existing) > 0 {
				return existing[0], nil
			}
		}
		if !generated {
			return Return{}, fmt.Errorf("create return: RMA %s: %w", r.RMA, store.ErrDuplicate)
		}
	}
	return Return{}, fmt.Errorf("create return: no free RMA for order %s after %d attempts", r.OrderNumber, rmaAttempts)
}

// ReturnsForConversation lists the returns recorded in a conversation,
// oldest first.
func ReturnsForConversation(ctx context.Context, db store.DBTX, conversationID int64) ([]Return, error) {
	return queryReturns(ctx, db, "conversation_id = $1", conversationID)
}

// ReturnsForOrder lists an order's returns, oldest first.
func ReturnsForOrder(ctx context.Context, db store.DBTX, orderNumber string) ([]Return, error) {
	return queryReturns(ctx, db, "order_number = $1", NormalizeNumber(orderNumber))
}

// ReturnsFor lists the returns recorded in any of the conversations or for
// any of the orders, oldest first: what an agent sees beside a thread.
func ReturnsFor(ctx context.Context, db store.DBTX, conversationIDs []int64, orderNumbers []string) ([]Return, error) {
	return queryReturns(ctx, db, "conversation_id = ANY($1) OR order_number = ANY($2)", conversationIDs, orderNumbers)
}

// ReturnedSKUs returns the SKUs of an order that have a return other than
// a rejected one, sorted, each once.
func ReturnedSKUs(ctx context.Context, db store.DBTX, orderNumber string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT s FROM returns, unnest(skus) AS s
		WHERE order_number = $1 AND status <> 'rejected' ORDER BY s`, NormalizeNumber(orderNumber))
	if err != nil {
		return nil, fmt.Errorf("read returned items: %w", err)
	}
	skus, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read returned items: %w", err)
	}
	return skus, nil
}

func queryReturns(ctx context.Context, db store.DBTX, where string, args ...any) ([]Return, error) {
	rows, err := db.Query(ctx, `SELECT `+returnColumns+` FROM returns WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read returns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Return, error) {
		var r Return
		err := row.Scan(&r.ID, &r.RMA, &r.OrderNumber, &r.ConversationID, &r.SKUs, &r.Reason, &r.Resolution,
			&r.LabelURL, &r.Status, &r.CreatedAt)
		r.CreatedAt = r.CreatedAt.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read returns: %w", err)
	}
	return out, nil
}

const damageColumns = `id, order_number, COALESCE(conversation_id, 0), sku, description, evidence_urls, value,
	resolution, status, created_at`

// CreateDamageCase records a damage report and returns it with its ID and
// CreatedAt (now when zero). Status defaults to DamageOpen.
// ConversationID 0 records a case made outside a conversation.
//
// Like CreateReturn it is idempotent per (c.ConversationID, key): a second
// call with the same key returns the first case unchanged. An empty key
// disables this. Validation problems are returned as from
// DamageCase.Validate.
func CreateDamageCase(ctx context.Context, db store.DBTX, c DamageCase, key string) (DamageCase, error) {
	c.OrderNumber = NormalizeNumber(c.OrderNumber)
	if c.Status == "" {
		c.Status = DamageOpen
	}
	if err := c.Validate(); err != nil {
		return DamageCase{}, err
	}
	if c.EvidenceURLs == nil {
		c.EvidenceURLs = []string{}
	}
	err := db.QueryRow(ctx, `INSERT INTO damage_cases (order_number, conversation_id, idempotency_key, sku,
			description, evidence_urls, value, resolution, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()))
		ON CONFLICT DO NOTHING
		RETURNING id, created_at`,
		c.OrderNumber, nullID(c.ConversationID), nullKey(key), c.SKU, c.Description, c.EvidenceURLs,
		int64(c.Value), c.Resolution, c.Status, nullTime(c.CreatedAt)).Scan(&c.ID, &c.CreatedAt)
	if err == nil {
		c.CreatedAt = c.CreatedAt.UTC()
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return DamageCase{}, fmt.Errorf("create damage case: %w", err)
	}
	// Only the idempotency key can conflict (a NULL key never does).
	where, args := keyFilter(c.ConversationID, key)
	existing, err := queryDamageCases(ctx, db, where, args...)
	if err != nil {
		return DamageCase{}, err
	}
	if len(existing) == 0 {
		return DamageCase{}, errors.New("create damage case: conflicting case not found")
	}
	return existing[0], nil
}

// DamageCasesForOrder lists an order's damage cases, oldest first.
func DamageCasesForOrder(ctx context.Context, db store.DBTX, orderNumber string) ([]DamageCase, error) {
	return queryDamageCases(ctx, db, "order_number = $1", NormalizeNumber(orderNumber))
}

// DamageCasesForConversation lists the damage cases recorded in a
// conversation, oldest first.
func DamageCasesForConversation(ctx context.Context, db store.DBTX, conversationID int64) ([]DamageCase, error) {
	return queryDamageCases(ctx, db, "conversation_id = $1", conversationID)
}

// DamageCasesFor lists the damage cases recorded in any of the
// conversations or for any of the orders, oldest first.
func DamageCasesFor(ctx context.Context, db store.DBTX, conversationIDs []int64, orderNumbers []string) ([]DamageCase, error) {
	return queryDamageCases(ctx, db, "conversation_id = ANY($1) OR order_number = ANY($2)", conversationIDs, orderNumbers)
}

func queryDamageCases(ctx context.Context, db store.DBTX, where string, args ...any) ([]DamageCase, error) {
	rows, err := db.Query(ctx, `SELECT `+damageColumns+` FROM damage_cases WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read damage cases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DamageCase, error) {
		var c DamageCase
		err := row.Scan(&c.ID, &c.OrderNumber, &c.ConversationID, &c.SKU, &c.Description, &c.EvidenceURLs,
			&c.Value, &c.Resolution, &c.Status, &c.CreatedAt)
		c.CreatedAt = c.CreatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read damage cases: %w", err)
	}
	return out, nil
}

// keyFilter selects the record made with an idempotency key. The two
// forms match the two unique indexes (NULL conversation ids are distinct
// in the composite one).
func keyFilter(conversationID int64, key string) (string, []any) {
	if conversationID == 0 {
		return "conversation_id IS NULL AND idempotency_key = $1", []any{key}
	}
	return "conversation_id = $1 AND idempotency_key = $2", []any{conversationID, key}
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func nullKey(key string) *string {
	if key == "" {
		return nil
	}
	return &key
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
