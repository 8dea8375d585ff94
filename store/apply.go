package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reply is an outbound message written with the event that caused it.
type Reply struct {
	Body string
	// QuickReplies is the JSON list of quick replies; empty means none.
	QuickReplies json.RawMessage
}

// NewReply encodes quickReplies once, for the row and for the dispatcher.
func NewReply(body string, quickReplies any) (Reply, error) {
	qr, err := encodeList(quickReplies)
	if err != nil {
		return Reply{}, fmt.Errorf("encode quick replies: %w", err)
	}
	return Reply{Body: body, QuickReplies: qr}, nil
}

func (r Reply) quickRepliesJSON() json.RawMessage {
	if len(r.QuickReplies) == 0 {
		return json.RawMessage("[]")
	}
	return r.QuickReplies
}

// InboundEvent is one shopper message applied to a locked conversation:
// the message, the conversation's new state and the replies it caused.
type InboundEvent struct {
	Message     NewMessage
	Update      ConversationUpdate
	ReplyAuthor string
	Replies     []Reply
	// RescueAt, when set, is when the claim of the process that will send
	// the replies lapses (see migration 00007); nil leaves them to River.
	RescueAt *time.Time
	// Xmin, when set, says the conversation is not locked yet and was last
	// seen at this row version (Applied.Xmin of the previous event). The
	// statement then takes the lock itself and applies the event only if
	// the row is still that version; otherwise it fails with
	// ErrConversationChanged, which fails the transaction.
	Xmin *uint32
}

// Applied is what ApplyInbound wrote.
type Applied struct {
	// Inserted is false for a duplicate message, which changed nothing.
	Inserted  bool
	InboundID int64
	ReplyIDs  []int64
	// Xmin is the conversation's new row version (this transaction's id),
	// for InboundEvent.Xmin of the next event.
	Xmin uint32
}

// ApplyInbound writes ev in one statement: it inserts the inbound message
// and — only if it is not a duplicate — updates the conversation and
// inserts the replies, queued, in order. The caller holds the
// conversation's lock (LockOpenConversation), unless ev.Xmin is set.
func ApplyInbound(ctx context.Context, db DBTX, ev InboundEvent, now time.Time) (Applied, error) {
	args, err := applyInboundArgs(ev, now)
	if err != nil {
		return Applied{}, err
	}
	return scanApplied(db.QueryRow(ctx, applyInboundSQL, args...))
}

// QueueApplyInbound queues ApplyInbound's statement in b; done receives
// its result when b is sent.
func QueueApplyInbound(b *pgx.Batch, ev InboundEvent, now time.Time, done func(Applied)) error {
	args, err := applyInboundArgs(ev, now)
	if err != nil {
		return err
	}
	b.Queue(applyInboundSQL, args...).QueryRow(func(row pgx.Row) error {
		a, err := scanApplied(row)
		if err == nil {
			done(a)
		}
		return err
	})
	return nil
}

const applyInboundSQL = `
	WITH inbound AS (
		INSERT INTO messages (conversation_id, direction, author, kind, platform, platform_message_id,
			body, attachments, payload, reply_to, seq, status, platform_time, created_at)
		VALUES ($1, 'in', $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (platform, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
		RETURNING id),
	conversation AS (
		UPDATE conversations SET status = $14, flow = $15, flow_state = $16, flow_data = $17,
			events_applied = $18, last_inbound_at = COALESCE($19, last_inbound_at),
			handoff_reason = $20, priority = $21, handed_off_at = COALESCE($22, handed_off_at),
			handoff_summary = COALESCE($24, handoff_summary), updated_at = $13
		WHERE id = $1 AND ($26::xid IS NULL OR xmin = $26::xid) AND EXISTS (SELECT 1 FROM inbound)
		RETURNING xmin),
	replies AS (
		INSERT INTO messages (conversation_id, direction, author, kind, platform, body, quick_replies,
			in_reply_to, status, created_at, rescue_at)
		SELECT $1, 'out', $23, 'message', $4, r.body, r.quick_replies::jsonb, inbound.id, 'queued', $13, $25
		FROM inbound, unnest($27::text[], $28::text[]) WITH ORDINALITY AS r(body, quick_replies, n)
		ORDER BY r.n
		RETURNING id)
	SELECT (SELECT id FROM inbound), ARRAY(SELECT id FROM replies ORDER BY id), (SELECT xmin FROM conversation),
		CASE WHEN EXISTS (SELECT 1 FROM inbound) AND NOT EXISTS (SELECT 1 FROM conversation)
			THEN frontdesk_conversation_changed($1) END`

// applyInboundArgs are applyInboundSQL's parameters: the event's columns
// ($1–$26), then its replies' ($27, $28).
func applyInboundArgs(ev InboundEvent, now time.Time) ([]any, error) {
	args, err := applyInboundColumns(ev, now)
	if err != nil {
		return nil, err
	}
	bodies, quickReplies := replyColumns(ev.Replies)
	return append(args, bodies, quickReplies), nil
}

// applyInboundColumns are the parameters applyInboundSQL and, one element
// per event, applyInboundManySQL take for everything but the replies.
func applyInboundColumns(ev InboundEvent, now time.Time) ([]any, error) {
	m, u := ev.Message, ev.Update
	attachments, err := encodeList(m.Attachments)
	if err != nil {
		return nil, fmt.Errorf("encode attachments: %w", err)
	}
	flowData, err := json.Marshal(u.FlowData)
	if err != nil {
		return nil, fmt.Errorf("encode flow data: %w", err)
	}
	summary, err := encodeOptional(u.HandoffSummary)
	if err != nil {
		return nil, fmt.Errorf("encode hand-off summary: %w", err)
	}
	return []any{m.ConversationID, m.Author, m.Kind, m.Platform, m.PlatformMessageID,
		m.Body, attachments, m.Payload, m.ReplyTo, m.Seq, m.Status, m.PlatformTime, now,
		u.Status, u.Flow, u.FlowState, flowData, u.EventsApplied, u.LastInboundAt,
		u.HandoffReason, u.Priority, u.HandedOffAt,
		ev.ReplyAuthor, summary, ev.RescueAt, ev.Xmin}, nil
}

func scanApplied(row pgx.Row) (Applied, error) {
	var (
		id        *int64
		replyIDs  []int64
		xmin      *uint32
		unchanged *int64 // NULL: the statement raises instead
	)
	if err := row.Scan(&id, &replyIDs, &xmin, &unchanged); err != nil {
		return Applied{}, fmt.Errorf("apply inbound message: %w", interpret(err))
	}
	if id == nil || xmin == nil {
		return Applied{}, nil
	}
	return Applied{Inserted: true, InboundID: *id, ReplyIDs: replyIDs, Xmin: *xmin}, nil
}

// Applied returns c as ApplyInbound leaves it after writing u, so a
// transaction applying several events to c need not read it again.
func (c Conversation) Applied(u ConversationUpdate) Conversation {
	c.Status, c.Flow, c.FlowState, c.FlowData = u.Status, u.Flow, u.FlowState, u.FlowData
	c.EventsApplied, c.HandoffReason, c.Priority = u.EventsApplied, u.HandoffReason, u.Priority
	if u.LastInboundAt != nil {
		c.LastInboundAt = u.LastInboundAt
	}
	if u.HandedOffAt != nil {
		c.HandedOffAt = u.HandedOffAt
	}
	return c
}

// QueuedDeliveries describes the replies just written to conv (as it is
// after the write) under ids, as OutboundsForDelivery would load them.
func QueuedDeliveries(conv Conversation, author string, replies []Reply, ids []int64) ([]OutboundDelivery, error) {
	if len(ids) != len(replies) {
		return nil, fmt.Errorf("%d replies written, %d ids returned", len(replies), len(ids))
	}
	out := make([]OutboundDelivery, len(ids))
	for i, r := range replies {
		out[i] = OutboundDelivery{
			Message: Message{ID: ids[i], ConversationID: conv.ID, Direction: "out", Author: author, Kind: "message",
				Platform: conv.Platform, Body: r.Body, Attachments: json.RawMessage("[]"), QuickReplies: r.quickRepliesJSON(),
				Status: "queued"},
			ChannelID: conv.ChannelID, RecipientID: conv.ExternalID, LastInboundAt: conv.LastInboundAt,
			ConversationStatus: conv.Status,
		}
	}
	return out, nil
}

// QueueApplyInboundMany queues in b one statement that writes evs, each at
// its time in nows, as ApplyInbound would write them one after another; done
// receives their results, in order, when b is sent. The events must be of
// distinct conversations: one statement cannot update a row twice.
//
// A shared transaction applies dozens of messages, and each statement of
// its own paid PostgreSQL's per-statement costs — binding, the executor's
// start-up, opening both tables and their indexes — which came to more than
// writing the rows.
func QueueApplyInboundMany(b *pgx.Batch, evs []InboundEvent, nows []time.Time, done func([]Applied)) error {
	args, err := applyInboundManyArgs(evs, nows)
	if err != nil {
		return err
	}
	b.Queue(applyInboundManySQL, args...).Query(func(rows pgx.Rows) error {
		applied := make([]Applied, 0, len(evs))
		for rows.Next() {
			a, err := scanApplied(rows)
			if err != nil {
				return err
			}
			applied = append(applied, a)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("apply inbound messages: %w", interpret(err))
		}
		if len(applied) != len(evs) {
			return fmt.Errorf("apply inbound messages: %d events, %d results", len(evs), len(applied))
		}
		done(applied)
		return nil
	})
	return nil
}

// applyInboundManySQL is applyInboundSQL over arrays, one element per event
// (e.n), with the replies of all events flattened into $27–$29 (r.event is
// the e.n of the event they answer). It returns one row per event, in order.
// It locks the conversations in the events' order (locked), as the
// statements one by one did, whichever join the planner picks for the
// update: two transactions locking shared conversations in different
// orders would deadlock.
const applyInboundManySQL = `
	WITH e AS (
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::timestamptz[], $13::timestamptz[],
			$14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::timestamptz[],
			$20::text[], $21::int[], $22::timestamptz[], $23::text[], $24::text[], $25::timestamptz[], $26::xid[])
			WITH ORDINALITY AS e(conversation_id, author, kind, platform, platform_message_id, body,
				attachments, payload, reply_to, seq, status, platform_time, now,
				new_status, flow, flow_state, flow_data, events_applied, last_inbound_at,
				handoff_reason, priority, handed_off_at, reply_author, summary, rescue_at, xmin, n)),
	inbound AS (
		INSERT INTO messages (conversation_id, direction, author, kind, platform, platform_message_id,
			body, attachments, payload, reply_to, seq, status, platform_time, created_at)
		SELECT conversation_id, 'in', author, kind, platform, NULLIF(platform_message_id, ''),
			body, attachments::jsonb, payload, reply_to, seq, status, platform_time, now
		FROM e ORDER BY n
		ON CONFLICT (platform, platform_message_id) WHERE platform_message_id IS NOT NULL DO NOTHING
		RETURNING id, conversation_id),
	locked AS (
		SELECT c.id FROM e JOIN conversations c ON c.id = e.conversation_id
		WHERE EXISTS (SELECT 1 FROM inbound WHERE inbound.conversation_id = e.conversation_id)
		ORDER BY e.n
		FOR UPDATE OF c),
	conversation AS (
		UPDATE conversations c SET status = e.new_status, flow = e.flow, flow_state = e.flow_state,
			flow_data = e.flow_data::jsonb, events_applied = e.events_applied,
			last_inbound_at = COALESCE(e.last_inbound_at, c.last_inbound_at),
			handoff_reason = e.handoff_reason, priority = e.priority,
			handed_off_at = COALESCE(e.handed_off_at, c.handed_off_at),
			handoff_summary = COALESCE(e.summary::jsonb, c.handoff_summary), updated_at = e.now
		FROM e JOIN locked ON locked.id = e.conversation_id
		WHERE c.id = e.conversation_id AND (e.xmin IS NULL OR c.xmin = e.xmin)
		RETURNING c.id, c.xmin),
	replies AS (
		INSERT INTO messages (conversation_id, direction, author, kind, platform, body, quick_replies,
			in_reply_to, status, created_at, rescue_at)
		SELECT e.conversation_id, 'out', e.reply_author, 'message', e.platform, r.body, r.quick_replies::jsonb,
			inbound.id, 'queued', e.now, e.rescue_at
		FROM unnest($27::bigint[], $28::text[], $29::text[]) WITH ORDINALITY AS r(event, body, quick_replies, k)
		JOIN e ON e.n = r.event JOIN inbound USING (conversation_id)
		ORDER BY r.k
		RETURNING id, conversation_id)
	SELECT inbound.id, ARRAY(SELECT id FROM replies WHERE replies.conversation_id = e.conversation_id ORDER BY id),
		conversation.xmin,
		CASE WHEN inbound.id IS NOT NULL AND conversation.id IS NULL
			THEN frontdesk_conversation_changed(e.conversation_id) END
	FROM e LEFT JOIN inbound USING (conversation_id) LEFT JOIN conversation ON conversation.id = e.conversation_id
	ORDER BY e.n`

// applyInboundManyArgs lays evs out as the arrays applyInboundManySQL
// unnests: applyInboundColumns of each event, one element each, then their
// replies, flattened.
func applyInboundManyArgs(evs []InboundEvent, nows []time.Time) ([]any, error) {
	if len(nows) != len(evs) {
		return nil, fmt.Errorf("%d events, %d times", len(evs), len(nows))
	}
	var columns [][]any
	var replyEvents []int64
	var replies []Reply
	for i, ev := range evs {
		args, err := applyInboundColumns(ev, nows[i])
		if err != nil {
			return nil, err
		}
		if columns == nil {
			columns = make([][]any, len(args))
		}
		for c, v := range args {
			columns[c] = append(columns[c], v)
		}
		for range ev.Replies {
			replyEvents = append(replyEvents, int64(i+1))
		}
		replies = append(replies, ev.Replies...)
	}
	args := make([]any, 0, len(columns)+3)
	for _, c := range columns {
		args = append(args, c)
	}
	bodies, quickReplies := replyColumns(replies)
	return append(args, replyEvents, bodies, quickReplies), nil
}
