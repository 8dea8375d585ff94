// Package channels holds what every platform adapter shares: the adapter
// interfaces, the classified send errors and the registry the gateway uses
// to find an adapter. Platform formats live in the adapter packages only.
package channels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/conversation"
)

// SendResult is what a platform says about a delivered send.
type SendResult struct {
	// PlatformMessageID is the platform's id for the sent message (mid).
	PlatformMessageID string
}

// Sender delivers one outbound message. It returns classified errors so
// that workers never read platform error codes:
//   - an error wrapping ErrPermanent: do not retry; the message has failed;
//   - *RetryAfterError: retry no sooner than After;
//   - any other error: transient, retry with backoff.
type Sender interface {
	Send(ctx context.Context, out conversation.Outbound) (SendResult, error)
}

// BatchSender is an optional ability of a Sender: delivering several
// messages, to different recipients, in one call to the platform.
type BatchSender interface {
	Sender
	// SendBatch delivers each of outs as Send would, and returns each one's
	// result or error, classified as Send's, at the same index. outs holds
	// at most one message per recipient: the platform may deliver the
	// messages of a batch in any order.
	SendBatch(ctx context.Context, outs []conversation.Outbound) ([]SendResult, []error)
}

// WebhookAdapter is a platform that calls our webhook (Meta's platforms).
// Verify and Parse do no I/O: they run inside the webhook request.
type WebhookAdapter interface {
	Sender
	// Verify checks the request signature over the raw body.
	// It returns an error wrapping ErrSignature when the check fails.
	Verify(signature string, body []byte) error
	// Parse turns a verified body into normalized events. Events of kinds
	// Frontdesk does not use are conversation.KindUnused, not errors; the
	// conversation service logs and skips them. A *MalformedError
	// comes with the events that could be read; any other error means the
	// body is not a webhook payload at all.
	Parse(body []byte) ([]conversation.Inbound, error)
}

// Profile is what a platform tells about a shopper.
type Profile struct {
	Name string
}

// ProfileFetcher is an optional ability: fetching a shopper's display name.
// It runs in a worker, never in the webhook request.
type ProfileFetcher interface {
	FetchProfile(ctx context.Context, platform conversation.Platform, channelID, userID string) (Profile, error)
}

var (
	// ErrPermanent marks a send that will never succeed as it is: the
	// platform refused the message, the recipient is gone, or the token is
	// no longer valid. Returned (wrapped) by Sender.Send.
	ErrPermanent = errors.New("permanent platform error")
	// ErrReauthorize marks a permanent error caused by an expired or
	// revoked access token: the channel needs a new token. It wraps
	// ErrPermanent.
	ErrReauthorize = fmt.Errorf("channel needs re-authorization: %w", ErrPermanent)
	// ErrSignature is returned by WebhookAdapter.Verify for a missing,
	// malformed or wrong signature.
	ErrSignature = errors.New("invalid webhook signature")
)

// PermanentError is a permanent failure with the platform's reason, which
// is shown to agents on the failed message.
type PermanentError struct {
	Reason string
	Err    error // ErrPermanent or ErrReauthorize
}

func (e *PermanentError) Error() string { return e.Reason }
func (e *PermanentError) Unwrap() error { return e.Err }

// PartlySentError is a failed send of a message that went out as several
// platform messages (a long text, attachments), after the first Parts of
// them were delivered. Err is the failure, classified as any other; a
// retry sets conversation.Outbound.FromPart to Parts.
type PartlySentError struct {
	Parts int
	Err   error
}

func (e *PartlySentError) Error() string { return e.Err.Error() }
func (e *PartlySentError) Unwrap() error { return e.Err }

// MalformedError is returned by WebhookAdapter.Parse together with the
// events it could read, when some entries or events of an otherwise valid
// body could not be read. The caller stores the good events and keeps the
// body for inspection, so nothing is lost.
type MalformedError struct {
	Reasons []string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%d unreadable entries or events: %s", len(e.Reasons), strings.Join(e.Reasons, "; "))
}

// RetryAfterError is a transient failure (rate limit, platform outage)
// with a hint of how long to wait before the next attempt.
type RetryAfterError struct {
	After  time.Duration
	Reason string
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s (retry after %s)", e.Reason, e.After)
}
