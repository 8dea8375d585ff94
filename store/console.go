package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsoleConversation is a conversation as the agent console sees it: the
// row, its identity's channel, its customer and its assignee.
type ConsoleConversation struct {
	ID              int64
	CustomerID      int64
	IdentityID      int64
	Status          string
	HandoffReason   string
	Priority        int
	HandoffSummary  json.RawMessage // nil when there is none
	LastInboundAt   *time.Time
	CreatedAt       time.Time
	HandedOffAt     *time.Time
	ResolvedAt      *time.Time
	AssigneeID      *int64 // set only while the status is 'assigned'
	AssigneeName    string
	AssignedAt      *time.Time
	ResolvedBy      *int64
	FirstResponseAt *time.Time
	CSATRequestedAt *time.Time
	CSATScore       *int
	CSATAt          *time.Time
	ReopenedCount   int

	Platform     string
	ChannelID    string
	ExternalID   string
	CustomerName string // the customer's name, else the identity's; may be empty
}

const consoleConversationSelect = `SELECT c.id, c.customer_id, c.identity_id, c.status, c.handoff_reason, c.priority,
	c.handoff_summary, c.last_inbound_at, c.created_at, c.handed_off_at, c.resolved_at,
	a.id, COALESCE(a.name, ''), c.assigned_at, c.resolved_by, c.first_response_at,
	c.csat_requested_at, c.csat_score, c.csat_at, c.reopened_count,
	i.platform, i.channel_id, i.external_id, COALESCE(NULLIF(cu.display_name, ''), i.display_name)
	FROM conversations c
	JOIN identities i ON i.id = c.identity_id
	JOIN customers cu ON cu.id = c.customer_id
	LEFT JOIN agents a ON a.id = c.assignee_id AND c.status = 'assigned' `

func scanConsoleConversation(row interface{ Scan(...any) error }) (ConsoleConversation, error) {
	var c ConsoleConversation
	var score *int16
	err := row.Scan(&c.ID, &c.CustomerID, &c.IdentityID, &c.Status, &c.HandoffReason, &c.Priority,
		&c.HandoffSummary, &c.LastInboundAt, &c.CreatedAt, &c.HandedOffAt, &c.ResolvedAt,
		&c.AssigneeID, &c.AssigneeName, &c.AssignedAt, &c.ResolvedBy, &c.FirstResponseAt,
		&c.CSATRequestedAt, &score, &c.CSATAt, &c.ReopenedCount,
		&c.Platform, &c.ChannelID, &c.ExternalID, &c.CustomerName)
	if score != nil {
		s := int(*score)
		c.CSATScore = &s
	}
	return c, interpret(err)
}

// ConsoleConversationByID returns one conversation, or ErrNotFound.
func ConsoleConversationByID(ctx context.Context, db DBTX, id int64) (ConsoleConversation, error) {
	return scanConsoleConversation(db.QueryRow(ctx, consoleConversationSelect+`WHERE c.id = $1`, id))
}

// LockConsoleConversation returns conversation id and holds its row lock
// until db's transaction ends — the same lock the conversation service
// takes, so a console action and a shopper's message apply one at a time.
func LockConsoleConversation(ctx context.Context, db DBTX, id int64) (ConsoleConversation, error) {
	return scanConsoleConversation(db.QueryRow(ctx, consoleConversationSelect+`WHERE c.id = $1 FOR UPDATE OF c`, id))
}

// QueueFilter narrows the queue. Zero values do not filter.
type QueueFilter struct {
	// Statuses to list; empty means the handed-off ones (queued, assigned).
	Statuses   []string
	AssigneeID int64 // only this agent's
	Unassigned bool  // only those nobody holds
	Platform   string
	Priority   *int
	Reason     string
	// Search matches the customer's name, the order number of the hand-off
	// summary and the text of the conversation's messages (case-insensitive).
	Search string
	// ConversationID lists only this conversation.
	ConversationID int64
	Limit          int
}

// QueueItem is one row of the queue.
type QueueItem struct {
	ConversationID int64
	CustomerID     int64
	CustomerName   string
	Platform       string
	Status         string
	HandoffReason  string
	Priority       int
	Order          string
	Intent         string
	HandedOffAt    *time.Time
	LastInboundAt  *time.Time
	AssigneeID     *int64 // set only while the status is 'assigned'
	AssigneeName   string
	// WaitingSince is when the shopper started waiting for a person: the
	// hand-off when no person has answered since, else the shopper's last
	// message if it came after the last answer. Nil when the shopper is the
	// one to answer.
	WaitingSince *time.Time
	// Preview is the shopper's last message.
	Preview string
}

// Queue lists conversations for the console: by priority, highest first,
// then by how long the shopper has waited, longest first.
func Queue(ctx context.Context, db DBTX, f QueueFilter) ([]QueueItem, error) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{"queued", "assigned"}
	}
	args := []any{statuses}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where []string
	if f.ConversationID != 0 {
		where = append(where, "c.id = "+arg(f.ConversationID))
	}
	if f.AssigneeID != 0 {
		where = append(where, "c.status = 'assigned' AND c.assignee_id = "+arg(f.AssigneeID))
	}
	if f.Unassigned {
		where = append(where, "c.status = 'queued'")
	}
	if f.Platform != "" {
		where = append(where, "i.platform = "+arg(f.Platform))
	}
	if f.Priority != nil {
		where = append(where, "c.priority = "+arg(*f.Priority))
	}
	if f.Reason != "" {
		where = append(where, "c.handoff_reason = "+arg(f.Reason))
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		pattern := arg("%" + escapeLike(q) + "%")
		order := arg("%" + escapeLike(strings.TrimLeft(q, "#")) + "%")
		where = append(where, `(cu.display_name ILIKE `+pattern+` OR i.display_name ILIKE `+pattern+`
			OR COALESCE(c.handoff_summary->>'order', '') ILIKE `+order+`
			OR EXISTS (SELECT 1 FROM messages sm WHERE sm.conversation_id = c.id AND sm.body ILIKE `+pattern+`))`)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	sql := `SELECT c.id, c.customer_id, COALESCE(NULLIF(cu.display_name, ''), i.display_name), i.platform, c.status,
			c.handoff_reason, c.priority, COALESCE(c.handoff_summary->>'order', ''), COALESCE(c.handoff_summary->>'intent', ''),
			c.handed_off_at, c.last_inbound_at, a.id, COALESCE(a.name, ''), w.since, COALESCE(lm.body, '')
		FROM conversations c
		JOIN identities i ON i.id = c.identity_id
		JOIN customers cu ON cu.id = c.customer_id
		LEFT JOIN agents a ON a.id = c.assignee_id AND c.status = 'assigned'
		LEFT JOIN LATERAL (SELECT max(created_at) AS at FROM messages
			WHERE conversation_id = c.id AND author = 'agent' AND direction = 'out') la ON true
		LEFT JOIN LATERAL (SELECT body FROM messages
			WHERE conversation_id = c.id AND direction = 'in' ORDER BY id DESC LIMIT 1) lm ON true
		CROSS JOIN LATERAL (SELECT CASE
			WHEN c.status NOT IN ('queued', 'assigned') THEN NULL
			WHEN la.at IS NULL OR la.at < c.handed_off_at THEN COALESCE(c.handed_off_at, c.created_at)
			WHEN c.last_inbound_at > la.at THEN c.last_inbound_at
			END AS since) w
		WHERE c.status = ANY($1)`
	for _, w := range where {
		sql += " AND " + w
	}
	sql += ` ORDER BY c.priority DESC, w.since ASC NULLS LAST, c.handed_off_at ASC NULLS LAST, c.id DESC LIMIT ` + arg(limit)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (QueueItem, error) {
		var q QueueItem
		err := row.Scan(&q.ConversationID, &q.CustomerID, &q.CustomerName, &q.Platform, &q.Status,
			&q.HandoffReason, &q.Priority, &q.Order, &q.Intent, &q.HandedOffAt, &q.LastInboundAt,
			&q.AssigneeID, &q.AssigneeName, &q.WaitingSince, &q.Preview)
		return q, err
	})
}

// escapeLike makes s match itself in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// HandoffReasons returns the hand-off reasons of the handed-off
// conversations, for the queue's filter.
func HandoffReasons(ctx context.Context, db DBTX) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT handoff_reason FROM conversations
		WHERE status IN ('queued', 'assigned') AND handoff_reason <> '' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list hand-off reasons: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ClaimConversation gives a queued conversation to agentID. It reports
// false, changing nothing, when the conversation is not queued: of two
// concurrent claims exactly one wins, because the second UPDATE waits for
// the first's row lock and then finds the status changed. Queued means
// nobody holds the conversation (holding is status 'assigned'), whatever
// assignee_id an older path left behind, so that condition alone decides.
func ClaimConversation(ctx context.Context, db DBTX, id, agentID int64, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE conversations SET status = 'assigned', assignee_id = $2, assigned_at = $3, updated_at = $3
		WHERE id = $1 AND status = 'queued'`, id, agentID, now)
	if err != nil {
		return false, fmt.Errorf("claim conversation: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AssignConversation gives a handed-off conversation to agentID. The
// caller holds the conversation's lock and has checked its status.
func AssignConversation(ctx context.Context, db DBTX, id, agentID int64, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'assigned', assignee_id = $2, assigned_at = $3, updated_at = $3
		WHERE id = $1`, id, agentID, now)
	if err != nil {
		return fmt.Errorf("assign conversation: %w", interpret(err))
	}
	return nil
}

// UnassignConversation puts a conversation back in the queue, held by
// nobody. The caller holds the conversation's lock.
func UnassignConversation(ctx context.Context, db DBTX, id int64, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'queued', assignee_id = NULL, assigned_at = NULL, updated_at = $2
		WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("unassign conversation: %w", err)
	}
	return nil
}

// ReleaseAgentConversations puts the conversations agentID holds back in
// the queue and returns their ids: a deactivated agent answers no one.
func ReleaseAgentConversations(ctx context.Context, db DBTX, agentID int64, now time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `UPDATE conversations SET status = 'queued', assignee_id = NULL, assigned_at = NULL, updated_at = $2
		WHERE assignee_id = $1 AND status = 'assigned' RETURNING id`, agentID, now)
	if err != nil {
		return nil, fmt.Errorf("release conversations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("release conversations: %w", err)
	}
	return ids, nil
}

// TakeOverConversation moves a conversation the bot holds to agentID, as
// if the bot had handed it off. The caller holds the conversation's lock.
func TakeOverConversation(ctx context.Context, db DBTX, id, agentID int64, reason string, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'assigned', assignee_id = $2, assigned_at = $3,
			handed_off_at = $3, handoff_reason = $4, updated_at = $3
		WHERE id = $1`, id, agentID, now, reason)
	if err != nil {
		return fmt.Errorf("take over conversation: %w", err)
	}
	return nil
}

// ResolveConversation closes a conversation: resolved_by records who, and
// nobody holds it any more, so that a reopened conversation the bot hands
// off again comes back to the queue unclaimed. csatRequestedAt is when the
// satisfaction question was queued (nil: it was not). The caller holds the
// conversation's lock.
func ResolveConversation(ctx context.Context, db DBTX, id, agentID int64, csatRequestedAt *time.Time, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = $3, resolved_by = $2,
			assignee_id = NULL, assigned_at = NULL,
			csat_requested_at = $4, csat_score = NULL, csat_at = NULL, updated_at = $3
		WHERE id = $1`, id, agentID, now, csatRequestedAt)
	if err != nil {
		return fmt.Errorf("resolve conversation: %w", err)
	}
	return nil
}

// HandBackConversation gives a conversation back to the bot, which starts
// over from its first state on the shopper's next message. The caller
// holds the conversation's lock.
func HandBackConversation(ctx context.Context, db DBTX, id int64, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE conversations SET status = 'bot', assignee_id = NULL, assigned_at = NULL,
			flow = '', flow_state = '', flow_data = '{}', updated_at = $2
		WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("hand conversation back: %w", err)
	}
	return nil
}

// OutboundMessage is a message the console queues for sending.
type OutboundMessage struct {
	ConversationID int64
	Author         string // agent, or bot for the satisfaction question
	AgentID        *int64
	Platform       string
	Body           string
	Attachments    any // JSON-encoded; nil means none
	QuickReplies   any // JSON-encoded; nil means none
}

// InsertOutbound inserts a queued outbound message and returns its id.
// When the author is an agent it also records the conversation's first
// response. The caller queues the send job in the same transaction.
func InsertOutbound(ctx context.Context, db DBTX, m OutboundMessage, now time.Time) (int64, error) {
	attachments, err := encodeList(m.Attachments)
	if err != nil {
		return 0, fmt.Errorf("encode attachments: %w", err)
	}
	quickReplies, err := encodeList(m.QuickReplies)
	if err != nil {
		return 0, fmt.Errorf("encode quick replies: %w", err)
	}
	var id int64
	err = db.QueryRow(ctx, `WITH msg AS (
			INSERT INTO messages (conversation_id, direction, author, kind, platform, body, attachments, quick_replies,
				status, agent_id, created_at)
			VALUES ($1, 'out', $2, 'message', $3, $4, $5, $6, 'queued', $7, $8) RETURNING id),
		first AS (
			UPDATE conversations SET first_response_at = $8, updated_at = $8
			WHERE id = $1 AND $2 = 'agent' AND first_response_at IS NULL)
		SELECT id FROM msg`,
		m.ConversationID, m.Author, m.Platform, m.Body, attachments, quickReplies, m.AgentID, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert outbound message: %w", interpret(err))
	}
	return id, nil
}

// HistoryMessage is a message in a customer's history, with the agent who
// wrote it.
type HistoryMessage struct {
	Message
	AgentID   *int64
	AgentName string
}

// CustomerHistory returns the last limit messages of every conversation of
// the customer, on every channel, oldest first, and whether older ones
// were left out.
func CustomerHistory(ctx context.Context, db DBTX, customerID int64, limit int) ([]HistoryMessage, bool, error) {
	rows, err := db.Query(ctx, `SELECT m.id, m.conversation_id, m.direction, m.author, m.kind, m.platform,
			m.platform_message_id, m.body, m.attachments, m.quick_replies, m.payload, m.reply_to, m.seq,
			m.in_reply_to, m.status, m.failure_reason, m.platform_time, m.created_at, m.sent_at,
			m.delivered_at, m.read_at, m.agent_id, COALESCE(a.name, '')
		FROM messages m
		JOIN conversations c ON c.id = m.conversation_id
		LEFT JOIN agents a ON a.id = m.agent_id
		WHERE c.customer_id = $1
		ORDER BY m.created_at DESC, m.id DESC LIMIT $2`, customerID, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list customer history: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryMessage, error) {
		var h HistoryMessage
		m := &h.Message
		err := row.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Author, &m.Kind, &m.Platform,
			&m.PlatformMessageID, &m.Body, &m.Attachments, &m.QuickReplies, &m.Payload, &m.ReplyTo, &m.Seq,
			&m.InReplyTo, &m.Status, &m.FailureReason, &m.PlatformTime, &m.CreatedAt, &m.SentAt,
			&m.DeliveredAt, &m.ReadAt, &h.AgentID, &h.AgentName)
		return h, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list customer history: %w", err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, more, nil
}

// Note is a row of notes, with its author's name.
type Note struct {
	ID             int64
	ConversationID int64
	AgentID        int64
	AgentName      string
	Body           string
	CreatedAt      time.Time
}

// InsertNote stores an internal note.
func InsertNote(ctx context.Context, db DBTX, conversationID, agentID int64, body string, now time.Time) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO notes (conversation_id, agent_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		conversationID, agentID, body, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert note: %w", interpret(err))
	}
	return id, nil
}

// CustomerNotes returns the notes on every conversation of the customer,
// oldest first.
func CustomerNotes(ctx context.Context, db DBTX, customerID int64) ([]Note, error) {
	rows, err := db.Query(ctx, `SELECT n.id, n.conversation_id, n.agent_id, a.name, n.body, n.created_at
		FROM notes n JOIN conversations c ON c.id = n.conversation_id JOIN agents a ON a.id = n.agent_id
		WHERE c.customer_id = $1 ORDER BY n.created_at, n.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Note, error) {
		var n Note
		err := row.Scan(&n.ID, &n.ConversationID, &n.AgentID, &n.AgentName, &n.Body, &n.CreatedAt)
		return n, err
	})
}

// AuditEntry is a row of audit_log, with the acting agent's name.
type AuditEntry struct {
	ID             int64
	AgentID        *int64
	AgentName      string
	Action         string
	ConversationID *int64
	CustomerID     *int64
	Details        map[string]any
	At             time.Time
}

// InsertAudit records what someone did.
func InsertAudit(ctx context.Context, db DBTX, e AuditEntry, now time.Time) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	_, err := db.Exec(ctx, `INSERT INTO audit_log (agent_id, action, conversation_id, customer_id, details, at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.AgentID, e.Action, e.ConversationID, e.CustomerID, details, now)
	if err != nil {
		return fmt.Errorf("record audit entry: %w", interpret(err))
	}
	return nil
}

// CustomerAudit returns what was done to the customer and to their
// conversations, oldest first.
func CustomerAudit(ctx context.Context, db DBTX, customerID int64) ([]AuditEntry, error) {
	rows, err := db.Query(ctx, `SELECT l.id, l.agent_id, COALESCE(a.name, ''), l.action, l.conversation_id,
			l.customer_id, l.details, l.at
		FROM audit_log l LEFT JOIN agents a ON a.id = l.agent_id
		WHERE l.customer_id = $1 OR l.conversation_id IN (SELECT id FROM conversations WHERE customer_id = $1)
		ORDER BY l.at, l.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.AgentID, &e.AgentName, &e.Action, &e.ConversationID, &e.CustomerID, &e.Details, &e.At)
		return e, err
	})
}

// Customer is a row of customers.
type Customer struct {
	ID          int64
	DisplayName string
	MergedInto  *int64
	CreatedAt   time.Time
}

// CustomerByID returns one customer, or ErrNotFound.
func CustomerByID(ctx context.Context, db DBTX, id int64) (Customer, error) {
	var c Customer
	err := db.QueryRow(ctx, `SELECT id, display_name, merged_into, created_at FROM customers WHERE id = $1`, id).
		Scan(&c.ID, &c.DisplayName, &c.MergedInto, &c.CreatedAt)
	return c, interpret(err)
}

// CustomerIdentities returns the customer's identities, oldest first.
func CustomerIdentities(ctx context.Context, db DBTX, customerID int64) ([]Identity, error) {
	rows, err := db.Query(ctx, `SELECT `+identityColumns+` FROM identities WHERE customer_id = $1 ORDER BY id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Identity, error) { return scanIdentity(row) })
}

// CustomerConversationIDs returns the ids of the customer's conversations.
func CustomerConversationIDs(ctx context.Context, db DBTX, customerID int64) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM conversations WHERE customer_id = $1 ORDER BY id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// CustomerMatch is a customer who may be the same person as another.
type CustomerMatch struct {
	ID        int64
	Name      string
	Platforms []string
}

// SimilarCustomers returns other unmerged customers with the same display
// name (case-insensitive), as candidates for linking.
func SimilarCustomers(ctx context.Context, db DBTX, customerID int64, name string, limit int) ([]CustomerMatch, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT cu.id, cu.display_name,
			ARRAY(SELECT DISTINCT i.platform FROM identities i WHERE i.customer_id = cu.id ORDER BY 1)
		FROM customers cu
		WHERE cu.id <> $1 AND cu.merged_into IS NULL
		AND (lower(cu.display_name) = lower($2)
			OR EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = cu.id AND lower(i.display_name) = lower($2)))
		ORDER BY cu.id LIMIT $3`, customerID, name, limit)
	if err != nil {
		return nil, fmt.Errorf("find similar customers: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (CustomerMatch, error) {
		var m CustomerMatch
		err := row.Scan(&m.ID, &m.Name, &m.Platforms)
		return m, err
	})
}

// MergeResult says what a merge moved.
type MergeResult struct {
	Identities      int64
	ConversationIDs []int64
}

// MergeCustomers moves customer fromID's identities and conversations to
// intoID and marks fromID merged into it; intoID takes fromID's name if it
// has none. Both rows are locked, in id order, for the caller's
// transaction. It returns ErrNotFound when either customer does not exist
// and ErrAlreadyMerged when either was merged before.
func MergeCustomers(ctx context.Context, db DBTX, intoID, fromID int64) (MergeResult, error) {
	var res MergeResult
	rows, err := db.Query(ctx, `SELECT id, merged_into FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, intoID, fromID)
	if err != nil {
		return res, fmt.Errorf("lock customers: %w", err)
	}
	type locked struct {
		ID         int64
		MergedInto *int64
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[locked])
	if err != nil {
		return res, fmt.Errorf("lock customers: %w", err)
	}
	if len(found) != 2 {
		return res, ErrNotFound
	}
	for _, c := range found {
		if c.MergedInto != nil {
			return res, ErrAlreadyMerged
		}
	}
	tag, err := db.Exec(ctx, `UPDATE identities SET customer_id = $1 WHERE customer_id = $2`, intoID, fromID)
	if err != nil {
		return res, fmt.Errorf("move identities: %w", err)
	}
	res.Identities = tag.RowsAffected()
	rows, err = db.Query(ctx, `UPDATE conversations SET customer_id = $1 WHERE customer_id = $2 RETURNING id`, intoID, fromID)
	if err != nil {
		return res, fmt.Errorf("move conversations: %w", err)
	}
	if res.ConversationIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return res, fmt.Errorf("move conversations: %w", err)
	}
	_, err = db.Exec(ctx, `WITH src AS (UPDATE customers SET merged_into = $1 WHERE id = $2 RETURNING display_name)
		UPDATE customers SET display_name = src.display_name FROM src
		WHERE customers.id = $1 AND customers.display_name = '' AND src.display_name <> ''`, intoID, fromID)
	if err != nil {
		return res, fmt.Errorf("mark customer merged: %w", err)
	}
	return res, nil
}

// ErrAlreadyMerged is returned by MergeCustomers for a customer that was
// merged into another before.
var ErrAlreadyMerged = errors.New("customer already merged")
