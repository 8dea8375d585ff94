package conversation

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/store"
)

const (
	// ReopenWindow: a shopper writing within this time after resolution
	// reopens the conversation (and it no longer counts as resolved on
	// first contact); later, a new conversation starts.
	ReopenWindow = 7 * 24 * time.Hour
	// CSATWindow: an answer to the satisfaction question counts within
	// this time of asking.
	CSATWindow = 3 * 24 * time.Hour
	// CSATPayloadPrefix starts the quick-reply payloads of the
	// satisfaction question: CSAT_1 … CSAT_5.
	CSATPayloadPrefix = "CSAT_"
	// CSATThanks answers a satisfaction score.
	CSATThanks = "Thank you for your feedback!"
)

// afterResolution decides where a message goes when its sender has no open
// conversation: an answer to the satisfaction question stays with the
// resolved conversation that asked it (score > 0), and so does a reaction,
// which is history, not a request; a message soon after resolution reopens
// that conversation; otherwise ok is false and a new conversation starts.
func afterResolution(ctx context.Context, tx pgx.Tx, ev Inbound, now time.Time) (conv store.Conversation, score int, ok bool, err error) {
	last, err := store.LockLastResolvedConversation(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID)
	if errors.Is(err, store.ErrNotFound) {
		return conv, 0, false, nil
	}
	if err != nil {
		return conv, 0, false, err
	}
	if last.CSATRequestedAt != nil && last.CSATScore == nil && now.Sub(*last.CSATRequestedAt) < CSATWindow {
		if score := csatScore(ev); score > 0 {
			return last.Conversation, score, true, store.RecordCSAT(ctx, tx, last.ID, score, now)
		}
	}
	if ev.Kind == KindReaction {
		return last.Conversation, 0, true, nil
	}
	if now.Sub(last.ResolvedAt) >= ReopenWindow {
		return conv, 0, false, nil
	}
	conv, err = store.ReopenConversation(ctx, tx, last.ID, now)
	return conv, 0, err == nil, err
}

// csatScore reads a satisfaction answer: a CSAT_n quick reply, or the
// bare digit on channels without buttons. 0 means it is not one.
func csatScore(ev Inbound) int {
	answer, ok := strings.CutPrefix(ev.Payload, CSATPayloadPrefix)
	if !ok {
		answer = strings.TrimSpace(ev.Text)
	}
	n, err := strconv.Atoi(answer)
	if err != nil || n < 1 || n > 5 {
		return 0
	}
	return n
}
