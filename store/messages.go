package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Message is a row of messages.
type Message struct {
	ID                int64
	ConversationID    int64
	Direction         string
	Author            string
	Kind              string
	Platform          string
	PlatformMessageID *string
	Body              string
	Attachments       json.RawMessage
	QuickReplies      json.RawMessage
	Payload           string
	ReplyTo           string
	Seq               *int64
	InReplyTo         *int64
	Status            string
	FailureReason     string
	PlatformTime      *time.Time
	CreatedAt         time.Time
	SentAt            *time.Time
	DeliveredAt       *time.Time
	ReadAt            *time.Time
}

const messageColumns = `id, conversation_id, direction, author, kind, platform, platform_message_id, body,
	attachments, quick_replies, payload, reply_to, seq, in_reply_to, status, failure_reason,
	platform_time, created_at, sent_at, delivered_at, read_at`

func scanMessage(row interface{ Scan(...any) error }) (Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Author, &m.Kind, &m.Platform, &m.PlatformMessageID,
		&m.Body, &m.Attachments, &m.QuickReplies, &m.Payload, &m.ReplyTo, &m.Seq, &m.InReplyTo, &m.Status,
		&m.FailureReason, &m.PlatformTime, &m.CreatedAt, &m.SentAt, &m.DeliveredAt, &m.ReadAt)
	return m, interpret(err)
}

// NewMessage is a message to insert.
type NewMessage struct {
	ConversationID    int64
	Direction         string
	Author            string
	Kind              string
	Platform          string
	PlatformMessageID string // empty: none yet (outbound before sending)
	Body              string
	Attachments       any // JSON-encoded; nil means none
	QuickReplies      any
	Payload           string
	ReplyTo           string
	Seq               *int64
	InReplyTo         *int64
	Status            string
	PlatformTime      *time.Time
	SentAt            *time.Time
}

// InsertMessage inserts m unless a message with the same platform message
// id exists. inserted is false for such a duplicate, which is not an error:
// redelivered webhooks are expected.
func InsertMessage(ctx context.Context, db DBTX, m NewMessage, now time.Time) (id int64, inserted bool, err error) {
	attachments, err := encodeList(m.Attachments)
	if err != nil {
		return 0, false, fmt.Errorf("encode attachments: %w", err)
	}
	quickReplies, err := encodeList(m.QuickReplies)
	if err != nil {
		return 0, false, fmt.Errorf("encode quick replies: %w", err)
	}
	err = db.QueryRow(ctx, `INSERT INTO messages (conversation_id, direction, author, kind, platform,
			platform_message_id, body, attachments, quick_replies, payload, reply_to, seq, in_reply_to,
			status, platform_time, sent_at, created_at)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (platform, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
		RETURNING id`,
		m.ConversationID, m.Direction, m.Author, m.Kind, m.Platform, m.PlatformMessageID, m.Body,
		attachments, quickReplies, m.Payload, m.ReplyTo, m.Seq, m.InReplyTo, m.Status, m.PlatformTime,
		m.SentAt, now).Scan(&id)
	if err == pgx.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert message: %w", interpret(err))
	}
	return id, true, nil
}

func encodeList(v any) ([]byte, error) {
	if v == nil {
		return []byte("[]"), nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return []byte("[]"), err
	}
	return b, nil
}

// MessageByID returns one message.
func MessageByID(ctx context.Context, db DBTX, id int64) (Message, error) {
	return scanMessage(db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id))
}

// OutboundDelivery is an outbound message with what a sender needs to
// deliver it. Only the message fields a sender uses are loaded.
type OutboundDelivery struct {
	Message
	ChannelID     string // the store's account on the platform
	RecipientID   string // the shopper's channel-scoped id
	LastInboundAt *time.Time
	// ConversationStatus tells whether people watch the conversation
	// (anything but "bot"), and so must hear of delivery changes.
	ConversationStatus string
	// PartsSent counts the platform messages of a split message an
	// earlier try delivered (MarkPartsSent).
	PartsSent int
	// HeldBack says an earlier outbound message of the conversation, not
	// among those loaded with this one, is still queued (queuedBefore):
	// this one must wait for it.
	HeldBack bool
}

// HoldBackFor bounds how long an outbound message still queued holds back
// the later ones of its conversation, which keep their order while it is
// retried; past it, they go without it.
const HoldBackFor = 10 * time.Minute

// queuedBefore is true when an outbound message of conversation m older
// than m, not among $1, was written within HoldBackFor and is still queued.
const queuedBefore = `EXISTS (SELECT 1 FROM messages e
	WHERE e.conversation_id = m.conversation_id AND e.id < m.id AND e.direction = 'out'
	AND e.status = 'queued' AND e.id <> ALL($1) AND e.created_at > now() - $2::interval)`

// OutboundsForDelivery loads outbound messages with their addressing, in
// the order of ids. Ids that name no outbound message are left out.
func OutboundsForDelivery(ctx context.Context, db DBTX, ids []int64) ([]OutboundDelivery, error) {
	rows, err := db.Query(ctx, `SELECT m.id, m.conversation_id, m.author, m.platform, m.body, m.attachments,
			m.quick_replies, m.status, i.channel_id, i.external_id, c.last_inbound_at, c.status, m.parts_sent,
			m.status = 'queued' AND `+queuedBefore+`
		FROM unnest($1::bigint[]) WITH ORDINALITY AS wanted(id, n)
		JOIN messages m ON m.id = wanted.id
		JOIN conversations c ON c.id = m.conversation_id
		JOIN identities i ON i.id = c.identity_id
		WHERE m.direction = 'out'
		ORDER BY wanted.n`, ids, HoldBackFor)
	if err != nil {
		return nil, fmt.Errorf("load outbound messages: %w", interpret(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutboundDelivery, error) {
		var d OutboundDelivery
		m := &d.Message
		err := row.Scan(&m.ID, &m.ConversationID, &m.Author, &m.Platform, &m.Body, &m.Attachments, &m.QuickReplies,
			&m.Status, &d.ChannelID, &d.RecipientID, &d.LastInboundAt, &d.ConversationStatus, &d.PartsSent, &d.HeldBack)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("load outbound messages: %w", interpret(err))
	}
	return out, nil
}

// HeldBack says whether an outbound message of message id's conversation,
// older than it, is still queued (see OutboundDelivery.HeldBack).
func HeldBack(ctx context.Context, db DBTX, id int64) (bool, error) {
	var held bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages m WHERE m.id = $3 AND `+queuedBefore+`)`,
		[]int64{}, HoldBackFor, id).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("check earlier queued messages: %w", interpret(err))
	}
	return held, nil
}

// MarkPartsSent records that the first parts platform messages of a
// queued message that is split into several went out, so that a retry
// sends only the rest. The count only grows.
func MarkPartsSent(ctx context.Context, db DBTX, id int64, parts int) error {
	if _, err := db.Exec(ctx, `UPDATE messages SET parts_sent = $2
		WHERE id = $1 AND status = 'queued' AND parts_sent < $2`, id, parts); err != nil {
		return fmt.Errorf("mark message parts sent: %w", interpret(err))
	}
	return nil
}

// MarkSent records a successful send. Only a queued message moves to sent:
// a receipt that arrived first is not undone.
func MarkSent(ctx context.Context, db DBTX, id int64, platformMessageID string, now time.Time) error {
	if _, err := db.Exec(ctx, markSentSQL, id, platformMessageID, now); err != nil {
		return fmt.Errorf("mark message sent: %w", interpret(err))
	}
	return nil
}

const markSentSQL = `UPDATE messages SET status = 'sent', sent_at = $3,
	platform_message_id = COALESCE(platform_message_id, NULLIF($2, ''))
	WHERE id = $1 AND status = 'queued'`

// SentMark is one successful send to record.
type SentMark struct {
	ID                int64
	PlatformMessageID string
	At                time.Time
}

// Batcher sends several statements at once; a pool runs them in one
// implicit transaction.
type Batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// MarkSentMany records several sends, as MarkSent does, in one round trip
// and one transaction.
//
// Up to markSentScalarMax marks go as MarkSent's statement, once per mark:
// a statement over parameter arrays is planned again at every execution
// (a plan for the arrays' actual lengths always looks cheaper than one for
// any length), which for a few rows costs about as much as the updates,
// while MarkSent's is planned once per connection. More marks go as one
// statement over arrays, whose planning is then shared by all of them,
// and which spares PostgreSQL starting a statement for each.
func MarkSentMany(ctx context.Context, db Batcher, marks []SentMark) error {
	b := &pgx.Batch{}
	if len(marks) <= markSentScalarMax {
		for _, m := range marks {
			b.Queue(markSentSQL, m.ID, m.PlatformMessageID, m.At)
		}
	} else {
		ids, mids, ats := make([]int64, len(marks)), make([]string, len(marks)), make([]time.Time, len(marks))
		for i, m := range marks {
			ids[i], mids[i], ats[i] = m.ID, m.PlatformMessageID, m.At
		}
		b.Queue(markSentArraysSQL, ids, mids, ats)
	}
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("mark messages sent: %w", interpret(err))
	}
	return nil
}

// markSentScalarMax is the most marks MarkSentMany sends one by one.
const markSentScalarMax = 8

// markSentArraysSQL is markSentSQL over arrays of ids, platform message ids
// and times.
const markSentArraysSQL = `UPDATE messages m SET status = 'sent', sent_at = s.at,
	platform_message_id = COALESCE(m.platform_message_id, NULLIF(s.mid, ''))
	FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS s(id, mid, at)
	WHERE m.id = s.id AND m.status = 'queued'`

// MarkFailed records why an outbound message will not be delivered.
func MarkFailed(ctx context.Context, db DBTX, id int64, reason string) error {
	_, err := MarkQueuedFailed(ctx, db, []int64{id}, reason)
	return err
}

// MarkQueuedFailed is MarkFailed for those of ids still queued, and
// returns how many it failed.
func MarkQueuedFailed(ctx context.Context, db DBTX, ids []int64, reason string) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE messages SET status = 'failed', failure_reason = $2
		WHERE id = ANY($1) AND status = 'queued'`, ids, reason)
	if err != nil {
		return 0, fmt.Errorf("mark messages failed: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// statusRank orders outbound statuses; receipts only ever move a message forward.
func statusRank(column string) string {
	return `(CASE ` + column + ` WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 99 END)`
}

// MarkDelivered moves the named outbound messages to delivered and
// returns the conversations it changed.
func MarkDelivered(ctx context.Context, db DBTX, platform string, platformMessageIDs []string, at time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `UPDATE messages SET status = 'delivered', delivered_at = $3
		WHERE platform = $1 AND platform_message_id = ANY($2) AND direction = 'out' AND `+statusRank("status")+` < 2
		RETURNING conversation_id`,
		platform, platformMessageIDs, at)
	if err != nil {
		return nil, fmt.Errorf("mark delivered: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MarkUpTo moves the outbound messages a shopper was sent before watermark
// to status ("delivered" or "read"), and returns the conversations it changed.
func MarkUpTo(ctx context.Context, db DBTX, platform, channelID, externalID, status string, watermark, now time.Time) ([]int64, error) {
	rank := 2
	column := "delivered_at"
	if status == "read" {
		rank, column = 3, "read_at"
	}
	rows, err := db.Query(ctx, `UPDATE messages m SET status = $5, `+column+` = $6
		FROM conversations c JOIN identities i ON i.id = c.identity_id
		WHERE m.conversation_id = c.id AND i.platform = $1 AND i.channel_id = $2 AND i.external_id = $3
		AND m.direction = 'out' AND m.status IN ('sent', 'delivered') AND m.sent_at <= $4
		AND `+statusRank("m.status")+` < $7
		RETURNING m.conversation_id`,
		platform, channelID, externalID, watermark, status, now, rank)
	if err != nil {
		return nil, fmt.Errorf("mark %s up to watermark: %w", status, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MarkDeleted records that the shopper unsent a message; its content is
// removed, as the shopper asked, and the row stays so the history shows it.
func MarkDeleted(ctx context.Context, db DBTX, platform, platformMessageID string) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE messages SET status = 'deleted', body = '', attachments = '[]'
		WHERE platform = $1 AND platform_message_id = $2 AND direction = 'in'`, platform, platformMessageID)
	if err != nil {
		return 0, fmt.Errorf("mark deleted: %w", err)
	}
	return tag.RowsAffected(), nil
}

// RecentMessages returns a conversation's last n messages, newest first.
func RecentMessages(ctx context.Context, db DBTX, conversationID int64, n int) ([]Message, error) {
	rows, err := db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1
		ORDER BY id DESC LIMIT $2`, conversationID, n)
	if err != nil {
		return nil, fmt.Errorf("list recent messages: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) { return scanMessage(row) })
}
