package channels

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/conversation"
)

// Receiver commits inbound events. It returns nil only when every event is
// durably stored or known to be a duplicate.
type Receiver interface {
	Receive(ctx context.Context, events []conversation.Inbound) error
}

// Quarantine keeps a correctly signed body that could not be parsed.
type Quarantine func(ctx context.Context, source, reason string, body []byte) error

// WebhookHandlers serve one platform's webhook endpoint.
type WebhookHandlers struct {
	Source      string // names the platform in logs and the quarantine
	Adapter     WebhookAdapter
	VerifyToken string
	Receiver    Receiver
	Quarantine  Quarantine
}

// Verify answers the platform's subscription handshake (GET): it echoes
// hub.challenge when hub.verify_token matches, compared in constant time.
func (h *WebhookHandlers) Verify(c *fiber.Ctx) error {
	token := c.Query("hub.verify_token")
	if c.Query("hub.mode") != "subscribe" || h.VerifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(h.VerifyToken)) != 1 {
		return c.Status(fiber.StatusForbidden).SendString("verification failed")
	}
	return c.SendString(c.Query("hub.challenge"))
}

// Receive handles a webhook delivery (POST). It answers 200 only after what
// the body carried is committed: a signature failure stores nothing (401
// when missing, 403 when wrong), nor does a compressed body (415); a
// storage failure answers 500 so the platform redelivers, and an
// unreadable body is quarantined and answered
// 200 because redelivering it would not make it readable. A body with
// some unreadable entries is quarantined too, and its readable events are
// stored as usual.
func (h *WebhookHandlers) Receive(c *fiber.Ctx) error {
	ctx := c.UserContext()
	log := zerolog.Ctx(ctx).With().Str("source", h.Source).Logger()
	// The signature covers the bytes as sent, and the size cap must hold
	// for what is parsed: fiber's c.Body() would inflate a compressed body
	// first, unbounded. Platforms send webhooks uncompressed.
	if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		log.Warn().Str("content_encoding", enc).Msg("Webhook refused: compressed body")
		return c.Status(fiber.StatusUnsupportedMediaType).SendString("compressed bodies are not accepted")
	}
	body := c.Request().Body()
	signature := c.Get("X-Hub-Signature-256")
	if err := h.Adapter.Verify(signature, body); err != nil {
		log.Warn().Err(err).Msg("Webhook refused")
		if signature == "" {
			return c.Status(fiber.StatusUnauthorized).SendString("missing signature")
		}
		return c.Status(fiber.StatusForbidden).SendString("invalid signature")
	}
	events, err := h.Adapter.Parse(body)
	if err != nil {
		// Keep the body for inspection; then store what could be read.
		var malformed *MalformedError
		log.Warn().Err(err).Int("bytes", len(body)).Int("events", len(events)).Msg("Unreadable webhook content quarantined")
		if qerr := h.Quarantine(ctx, h.Source, err.Error(), append([]byte(nil), body...)); qerr != nil {
			log.Err(qerr).Msg("Failed to quarantine webhook")
			return c.Status(fiber.StatusInternalServerError).SendString("not stored")
		}
		if !errors.As(err, &malformed) {
			return c.SendString("EVENT_RECEIVED")
		}
	}
	if err := h.Receiver.Receive(ctx, events); err != nil {
		if errors.Is(err, context.Canceled) {
			log.Debug().Err(err).Msg("Webhook abandoned by the caller")
		} else {
			log.Err(err).Msg("Failed to store webhook events")
		}
		return c.Status(fiber.StatusInternalServerError).SendString("not stored")
	}
	return c.SendString("EVENT_RECEIVED")
}
