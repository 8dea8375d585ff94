package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Conversation is a row of conversations.
type Conversation struct {
	ID            int64
	CustomerID    int64
	IdentityID    int64
	Status        string
	Flow          string
	FlowState     string
	FlowData      map[string]string
	EventsApplied int64
	HandoffReason string
	Priority      int
	LastInboundAt *time.Time
	CreatedAt     time.Time
	HandedOffAt   *time.Time
}

const conversationColumns = `id, customer_id, identity_id, status, flow, flow_state, flow_data,
	events_applied, handoff_reason, priority, last_inbound_at, created_at, handed_off_at`

func scanConversation(row interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.CustomerID, &c.IdentityID, &c.Status, &c.Flow, &c.FlowState, &c.FlowData,
		&c.EventsApplied, &c.HandoffReason, &c.Priority, &c.LastInboundAt, &c.CreatedAt, &c.HandedOffAt)
	return c, interpret(err)
}

// LockOpenConversation returns the identity's open conversation, creating
// one when there is none, and holds its row lock until db's transaction
// ends. Every change to a conversation happens under this lock, so the
// events of one conversation apply one at a time, across processes.
// Callers reach it when LockOpenConversationOf found nothing, so it tries
// the insert first.
func LockOpenConversation(ctx context.Context, db DBTX, identityID, customerID int64) (Conversation, error) {
	// A concurrent transaction may insert the same identity's conversation
	// first; ours then waits for it and inserts nothing, and the select
	// below finds and locks the winner's row.
	conv, err := scanConversation(db.QueryRow(ctx, `
		INSERT INTO conversations (identity_id, customer_id) VALUES ($1, $2)
		ON CONFLICT (identity_id) WHERE status <> 'resolved' DO NOTHING
		RETURNING `+conversationColumns, identityID, customerID))
	if !errors.Is(err, ErrNotFound) {
		return conv, err
	}
	return scanConversation(db.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE identity_id = $1 AND status <> 'resolved' FOR UPDATE`, identityID))
}

// LockOpenConversationOf finds and locks the open conversation of the
// identity (platform, channel, external id) in one statement: the path of
// every message from a shopper who already has one. It returns ErrNotFound
// when the identity or its open conversation does not exist yet.
func LockOpenConversationOf(ctx context.Context, db DBTX, platform, channelID, externalID string) (Conversation, error) {
	return scanConversation(db.QueryRow(ctx, `SELECT `+prefixed("c", conversationColumns)+`
		FROM conversations c JOIN identities i ON i.id = c.identity_id
		WHERE i.platform = $1 AND i.channel_id = $2 AND i.external_id = $3 AND c.status <> 'resolved'
		FOR UPDATE OF c`, platform, channelID, externalID))
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// ConversationByID returns one conversation.
func ConversationByID(ctx context.Context, db DBTX, id int64) (Conversation, error) {
	return scanConversation(db.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id))
}

// ConversationUpdate is what applying one event changes (see ApplyInbound).
type ConversationUpdate struct {
	Status        string
	Flow          string
	FlowState     string
	FlowData      map[string]string
	EventsApplied int64
	LastInboundAt *time.Time
	// HandoffReason and Priority are written when the update hands off.
	HandoffReason string
	Priority      int
	HandedOffAt   *time.Time
}
