package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Conversation is a row of conversations, with the identity it is held on.
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

	// From the identity.
	Platform    string
	ChannelID   string
	ExternalID  string
	ShopperName string
}

// conversationSelect reads a Conversation from conversations c joined
// with identities i.
const conversationSelect = `SELECT c.id, c.customer_id, c.identity_id, c.status, c.flow, c.flow_state, c.flow_data,
	c.events_applied, c.handoff_reason, c.priority, c.last_inbound_at, c.created_at, c.handed_off_at,
	i.platform, i.channel_id, i.external_id, i.display_name
	FROM conversations c JOIN identities i ON i.id = c.identity_id `

func scanConversation(row interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.CustomerID, &c.IdentityID, &c.Status, &c.Flow, &c.FlowState, &c.FlowData,
		&c.EventsApplied, &c.HandoffReason, &c.Priority, &c.LastInboundAt, &c.CreatedAt, &c.HandedOffAt,
		&c.Platform, &c.ChannelID, &c.ExternalID, &c.ShopperName)
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
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO conversations (identity_id, customer_id) VALUES ($1, $2)
		ON CONFLICT (identity_id) WHERE status <> 'resolved' DO NOTHING
		RETURNING id`, identityID, customerID).Scan(&id)
	if err == nil {
		return LockConversation(ctx, db, id)
	}
	if err = interpret(err); !errors.Is(err, ErrNotFound) {
		return Conversation{}, err
	}
	return scanConversation(db.QueryRow(ctx, conversationSelect+`
		WHERE c.identity_id = $1 AND c.status <> 'resolved' FOR UPDATE OF c`, identityID))
}

// LockOpenConversationOf finds and locks the open conversation of the
// identity (platform, channel, external id) in one statement: the path of
// every message from a shopper who already has one. It returns ErrNotFound
// when the identity or its open conversation does not exist yet.
func LockOpenConversationOf(ctx context.Context, db DBTX, platform, channelID, externalID string) (Conversation, error) {
	return scanConversation(db.QueryRow(ctx, conversationSelect+`
		WHERE i.platform = $1 AND i.channel_id = $2 AND i.external_id = $3 AND c.status <> 'resolved'
		FOR UPDATE OF c`, platform, channelID, externalID))
}

// Sender names a shopper's identity: platform, the store's channel and
// the shopper's id on it.
type Sender struct {
	Platform, ChannelID, ExternalID string
}

// Sender is the shopper of c.
func (c Conversation) Sender() Sender { return Sender{c.Platform, c.ChannelID, c.ExternalID} }

// LockOpenConversationsOf locks, in one statement, the open conversations
// of several senders, in the byte order of their keys (platform, channel,
// external id), as Go compares strings: transactions that lock several
// conversations all take them in that order. Senders without an open
// conversation are left out.
func LockOpenConversationsOf(ctx context.Context, db DBTX, senders []Sender) (map[Sender]Conversation, error) {
	if len(senders) == 1 {
		// A lone webhook's: a lookup by value costs PostgreSQL half as much
		// as one over arrays (about 50 against 100 µs).
		s := senders[0]
		c, err := LockOpenConversationOf(ctx, db, s.Platform, s.ChannelID, s.ExternalID)
		if errors.Is(err, ErrNotFound) {
			return map[Sender]Conversation{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("lock conversations: %w", err)
		}
		return map[Sender]Conversation{s: c}, nil
	}
	platforms := make([]string, len(senders))
	channels := make([]string, len(senders))
	externals := make([]string, len(senders))
	for i, s := range senders {
		platforms[i], channels[i], externals[i] = s.Platform, s.ChannelID, s.ExternalID
	}
	rows, err := db.Query(ctx, conversationSelect+`
		WHERE (i.platform, i.channel_id, i.external_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
			AND c.status <> 'resolved'
		ORDER BY i.platform COLLATE "C", i.channel_id COLLATE "C", i.external_id COLLATE "C"
		FOR UPDATE OF c`, platforms, channels, externals)
	if err != nil {
		return nil, fmt.Errorf("lock conversations: %w", interpret(err))
	}
	locked := map[Sender]Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("lock conversations: %w", err)
		}
		locked[c.Sender()] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock conversations: %w", interpret(err))
	}
	return locked, nil
}

// LockConversation locks conversation id until db's transaction ends.
func LockConversation(ctx context.Context, db DBTX, id int64) (Conversation, error) {
	return scanConversation(db.QueryRow(ctx, conversationSelect+`WHERE c.id = $1 FOR UPDATE OF c`, id))
}

// ConversationUpdate is what applying one event changes (see ApplyInbound).
type ConversationUpdate struct {
	Status        string
	Flow          string
	FlowState     string
	FlowData      map[string]string
	EventsApplied int64
	LastInboundAt *time.Time
	// HandoffReason, Priority and HandoffSummary are written when the
	// update hands off.
	HandoffReason  string
	Priority       int
	HandedOffAt    *time.Time
	HandoffSummary any // JSON-encoded; nil keeps the stored one
}

// ApplyEvent writes the result of an event that is not a stored message —
// an effect result, a timer — and queues its replies, in one statement,
// with rescueAt as InboundEvent.RescueAt. The caller holds the
// conversation's lock.
func ApplyEvent(ctx context.Context, db DBTX, conversationID int64, platform string, u ConversationUpdate,
	replyAuthor string, replies []Reply, rescueAt *time.Time, now time.Time) ([]int64, error) {
	flowData, err := json.Marshal(u.FlowData)
	if err != nil {
		return nil, fmt.Errorf("encode flow data: %w", err)
	}
	summary, err := encodeOptional(u.HandoffSummary)
	if err != nil {
		return nil, fmt.Errorf("encode hand-off summary: %w", err)
	}
	bodies, quickReplies := replyColumns(replies)
	var ids []int64
	err = db.QueryRow(ctx, `
		WITH conversation AS (
			UPDATE conversations SET status = $2, flow = $3, flow_state = $4, flow_data = $5,
				events_applied = $6, handoff_reason = $7, priority = $8,
				handed_off_at = COALESCE($9, handed_off_at), handoff_summary = COALESCE($10, handoff_summary),
				updated_at = $11
			WHERE id = $1),
		replies AS (
			INSERT INTO messages (conversation_id, direction, author, kind, platform, body, quick_replies, status,
				created_at, rescue_at)
			SELECT $1, 'out', $12, 'message', $13, r.body, r.quick_replies::jsonb, 'queued', $11, $16
			FROM unnest($14::text[], $15::text[]) WITH ORDINALITY AS r(body, quick_replies, n)
			ORDER BY r.n
			RETURNING id)
		SELECT ARRAY(SELECT id FROM replies ORDER BY id)`,
		conversationID, u.Status, u.Flow, u.FlowState, flowData, u.EventsApplied, u.HandoffReason, u.Priority,
		u.HandedOffAt, summary, now, replyAuthor, platform, bodies, quickReplies, rescueAt).Scan(&ids)
	if err != nil {
		return nil, fmt.Errorf("apply event: %w", err)
	}
	return ids, nil
}

func encodeOptional(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// replyColumns lays replies out as the text arrays the reply inserts unnest.
func replyColumns(replies []Reply) (bodies, quickReplies []string) {
	bodies = make([]string, len(replies))
	quickReplies = make([]string, len(replies))
	for i, r := range replies {
		bodies[i], quickReplies[i] = r.Body, string(r.quickRepliesJSON())
	}
	return bodies, quickReplies
}

// ResolvedConversation is a shopper's last resolved conversation, with
// what decides whether a new message belongs to it.
type ResolvedConversation struct {
	Conversation
	ResolvedAt      time.Time
	CSATRequestedAt *time.Time
	CSATScore       *int
}

// LockLastResolvedConversation locks the identity's most recently resolved
// conversation, or returns ErrNotFound.
func LockLastResolvedConversation(ctx context.Context, db DBTX, platform, channelID, externalID string) (ResolvedConversation, error) {
	var r ResolvedConversation
	c := &r.Conversation
	err := db.QueryRow(ctx, `SELECT c.id, c.customer_id, c.identity_id, c.status, c.flow, c.flow_state, c.flow_data,
			c.events_applied, c.handoff_reason, c.priority, c.last_inbound_at, c.created_at, c.handed_off_at,
			i.platform, i.channel_id, i.external_id, i.display_name,
			c.resolved_at, c.csat_requested_at, c.csat_score
		FROM conversations c JOIN identities i ON i.id = c.identity_id
		WHERE i.platform = $1 AND i.channel_id = $2 AND i.external_id = $3
			AND c.status = 'resolved' AND c.resolved_at IS NOT NULL
		ORDER BY c.resolved_at DESC LIMIT 1
		FOR UPDATE OF c`, platform, channelID, externalID).
		Scan(&c.ID, &c.CustomerID, &c.IdentityID, &c.Status, &c.Flow, &c.FlowState, &c.FlowData,
			&c.EventsApplied, &c.HandoffReason, &c.Priority, &c.LastInboundAt, &c.CreatedAt, &c.HandedOffAt,
			&c.Platform, &c.ChannelID, &c.ExternalID, &c.ShopperName,
			&r.ResolvedAt, &r.CSATRequestedAt, &r.CSATScore)
	return r, interpret(err)
}

// ReopenConversation gives a resolved conversation back to the bot, from
// the start, and counts the reopening (first-contact resolution counts
// conversations never reopened). It returns the reopened conversation.
func ReopenConversation(ctx context.Context, db DBTX, id int64, now time.Time) (Conversation, error) {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'bot', flow = '', flow_state = '', flow_data = '{}',
		handoff_reason = '', priority = 0, resolved_at = NULL, reopened_count = reopened_count + 1, updated_at = $2
		WHERE id = $1 AND status = 'resolved'`, id, now)
	if err != nil {
		return Conversation{}, fmt.Errorf("reopen conversation: %w", interpret(err))
	}
	return LockConversation(ctx, db, id)
}

// RecordCSAT stores the shopper's satisfaction score (1–5).
func RecordCSAT(ctx context.Context, db DBTX, id int64, score int, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET csat_score = $2, csat_at = $3, updated_at = $3 WHERE id = $1`,
		id, score, now)
	if err != nil {
		return fmt.Errorf("record satisfaction score: %w", err)
	}
	return nil
}
