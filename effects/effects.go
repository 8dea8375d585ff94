// Package effects carries out the slow work the bot asks for — order
// look-ups, return and damage records, timers — in River workers, outside
// any webhook request, and gives each result back to its conversation as
// an event.
package effects

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/orders/shopify"
	"github.com/frontdesk/frontdesk/store"
)

// Effect kinds the bot may ask for (see conversation.Effect).
const (
	LookupOrder      = "lookup_order"
	CreateReturn     = "create_return"
	CreateDamageCase = "create_damage_case"
)

// EventApplier gives an event to a conversation's bot: the conversation
// service.
type EventApplier interface {
	ApplyBotEvent(ctx context.Context, id conversation.ConversationID, ev conversation.BotEvent) error
}

// Worker runs effects. A transient failure of the order system is retried
// by River; a permanent one becomes a result with Err, so the bot can say
// so and offer a person instead of leaving the shopper waiting.
type Worker struct {
	river.WorkerDefaults[store.EffectArgs]

	Pool   *pgxpool.Pool
	Orders orders.Source
	Events EventApplier
}

// Work runs the job's effect and applies its result.
func (w *Worker) Work(ctx context.Context, job *river.Job[store.EffectArgs]) error {
	var e conversation.Effect
	if err := json.Unmarshal(job.Args.Effect, &e); err != nil {
		return river.JobCancel(fmt.Errorf("decode effect: %w", err))
	}
	id := conversation.ConversationID(job.Args.ConversationID)
	log := zerolog.Ctx(ctx).With().Stringer("conversation_id", id).Str("effect", e.Kind).Logger()
	if e.Kind == conversation.EffectTimer {
		return w.Events.ApplyBotEvent(ctx, id, conversation.BotEvent{Kind: conversation.KindTimer, Timer: e.Args["name"]})
	}
	result, err := w.run(ctx, job.Args.ConversationID, e)
	if err != nil {
		// The shopper is waiting: a few quick retries, then the bot says
		// it could not check and offers a person.
		var transient *shopify.TransientError
		if job.Attempt < maxAttempts && !permanent(err) {
			log.Warn().Err(err).Int("attempt", job.Attempt).Msg("Effect failed; will retry")
			if errors.As(err, &transient) && transient.RetryAfter > 0 {
				return river.JobSnooze(transient.RetryAfter)
			}
			return err
		}
		log.Warn().Err(err).Msg("Effect failed for good")
		result = conversation.EffectResult{Err: err.Error()}
	}
	result.Kind, result.Args = e.Kind, e.Args
	return w.Events.ApplyBotEvent(ctx, id, conversation.BotEvent{Kind: conversation.KindEffectResult, Result: &result})
}

// maxAttempts bounds retries of an effect a shopper waits for.
const maxAttempts = 4

// NextRetry retries quickly: the shopper is waiting for the answer.
func (w *Worker) NextRetry(job *river.Job[store.EffectArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 2 * time.Second)
}

// errPermanent marks failures that retrying cannot fix.
var errPermanent = errors.New("permanent")

func permanent(err error) bool {
	return errors.Is(err, errPermanent) || errors.Is(err, orders.ErrInvalid) || errors.Is(err, shopify.ErrUnauthorized)
}

func (w *Worker) run(ctx context.Context, conversationID int64, e conversation.Effect) (conversation.EffectResult, error) {
	switch e.Kind {
	case LookupOrder:
		return w.lookupOrder(ctx, e.Args["order"])
	case CreateReturn:
		return w.createReturn(ctx, conversationID, e.Args)
	case CreateDamageCase:
		return w.createDamageCase(ctx, conversationID, e.Args)
	}
	return conversation.EffectResult{}, fmt.Errorf("%w: unknown effect %q", errPermanent, e.Kind)
}

func (w *Worker) lookupOrder(ctx context.Context, number string) (conversation.EffectResult, error) {
	order, err := orders.Lookup(ctx, w.Orders, w.Pool, number)
	if errors.Is(err, orders.ErrNotFound) {
		return conversation.EffectResult{NotFound: true}, nil
	}
	if err != nil {
		return conversation.EffectResult{}, fmt.Errorf("look up order: %w", err)
	}
	return valueResult(order)
}

func (w *Worker) createReturn(ctx context.Context, conversationID int64, args map[string]string) (conversation.EffectResult, error) {
	r := orders.Return{
		OrderNumber:    args["order"],
		ConversationID: conversationID,
		SKUs:           splitNonEmpty(args["skus"], ","),
		Reason:         args["reason"],
		Resolution:     args["resolution"],
		// The bot read the label from the order it looked up; asking the
		// order system again would cost a second (HTTP) call.
		LabelURL: args["label_url"],
		Status:   "requested",
	}
	created, err := orders.CreateReturn(ctx, w.Pool, r, args["key"])
	if err != nil {
		return conversation.EffectResult{}, fmt.Errorf("record return: %w", err)
	}
	return valueResult(created)
}

func (w *Worker) createDamageCase(ctx context.Context, conversationID int64, args map[string]string) (conversation.EffectResult, error) {
	value, err := strconv.ParseInt(cmp.Or(args["value"], "0"), 10, 64)
	if err != nil {
		return conversation.EffectResult{}, fmt.Errorf("%w: damage value %q", errPermanent, args["value"])
	}
	c := orders.DamageCase{
		OrderNumber:    args["order"],
		ConversationID: conversationID,
		SKU:            args["sku"],
		Description:    args["description"],
		EvidenceURLs:   splitNonEmpty(args["evidence"], "\n"),
		Value:          orders.Money(value),
		Resolution:     args["resolution"],
		Status:         cmp.Or(args["status"], "open"),
	}
	created, err := orders.CreateDamageCase(ctx, w.Pool, c, args["key"])
	if err != nil {
		return conversation.EffectResult{}, fmt.Errorf("record damage case: %w", err)
	}
	return valueResult(created)
}

func valueResult(v any) (conversation.EffectResult, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return conversation.EffectResult{}, fmt.Errorf("%w: encode result: %v", errPermanent, err)
	}
	return conversation.EffectResult{Value: raw}, nil
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
