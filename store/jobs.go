package store

import (
	"encoding/json"

	"github.com/riverqueue/river"
)

// SendArgs is the outbox job: deliver these outbound messages. A job
// carries the replies one transaction wrote, when no dispatcher sends them
// (outbox.Dispatcher), or the ones a dispatcher handed over, or rescued
// ones; the worker sends each conversation's in the order of MessageIDs.
// It carries ids only; the worker reads the rows.
type SendArgs struct {
	MessageIDs []int64 `json:"message_ids"`
	// Tried counts the attempts made before the job: 1 for sends the
	// dispatcher handed over after its try failed.
	Tried int `json:"tried,omitempty"`
}

// Kind names the job in River.
func (SendArgs) Kind() string { return "send_messages" }

// RescueArgs is the periodic job that hands River the sends whose
// dispatcher's claim lapsed (see TakeLapsedSendClaims).
type RescueArgs struct{}

// Kind names the job in River.
func (RescueArgs) Kind() string { return "rescue_sends" }

// FetchProfileArgs asks for a new identity's display name.
type FetchProfileArgs struct {
	IdentityID int64 `json:"identity_id"`
}

// Kind names the job in River.
func (FetchProfileArgs) Kind() string { return "fetch_profile" }

// InsertOpts keeps profile fetches on their own queue, so a burst of new
// shoppers never delays replies.
func (FetchProfileArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueProfiles} }

// Queues of the outbox.
const (
	QueueSend     = river.QueueDefault
	QueueProfiles = "profiles"
	QueueEffects  = "effects"
)

// EffectArgs runs one effect the bot asked for and gives its result back
// to the conversation.
type EffectArgs struct {
	ConversationID int64           `json:"conversation_id"`
	Effect         json.RawMessage `json:"effect"`
}

// Kind names the job in River.
func (EffectArgs) Kind() string { return "bot_effect" }

// InsertOpts keeps effects (order look-ups, timers) off the reply queue.
func (EffectArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueEffects} }
