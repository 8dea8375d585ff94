package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// scriptBot answers from a table keyed by event kind, recording what it was told.
type scriptBot struct {
	seen []conversation.BotEvent
	next func(conversation.FlowState, conversation.BotEvent) conversation.Decision
}

func (b *scriptBot) Decide(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
	b.seen = append(b.seen, ev)
	return b.next(s, ev)
}

type testBundle struct {
	pool *pgxpool.Pool
	svc  *conversation.Service
	bot  *scriptBot
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := storetest.NewDB(t)
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert-only
	require.NoError(t, err)
	bot := &scriptBot{}
	return &testBundle{pool: pool, svc: conversation.NewService(pool, jobs, bot), bot: bot}
}

func (b *testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// greet answers every message with "hello".
func greet(conversation.FlowState, conversation.BotEvent) conversation.Decision {
	return conversation.Decision{Replies: []conversation.Reply{{Text: "hello"}}}
}

func inbound(mid, text string) conversation.Inbound {
	return conversation.Inbound{Kind: conversation.KindMessage, Platform: conversation.Messenger,
		ChannelID: "page", SenderID: "psid", PlatformMessageID: mid, Text: text, Timestamp: time.Now()}
}

func TestEffectsRunAsJobsAndTheirResultsComeBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		switch ev.Kind {
		case conversation.KindMessage:
			return conversation.Decision{
				Next:    conversation.FlowState{Flow: "tracking", State: "looking_up"},
				Replies: []conversation.Reply{{Text: "Let me check order #1001."}},
				Effects: []conversation.Effect{
					{Kind: "lookup_order", Args: map[string]string{"order": "1001"}},
					{Kind: conversation.EffectTimer, Args: map[string]string{"name": "nudge"}, Delay: time.Hour},
				},
			}
		default:
			return conversation.Decision{
				Next:    conversation.FlowState{Flow: "tracking", State: "answered"},
				Replies: []conversation.Reply{{Text: "It is on its way."}},
			}
		}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "where is #1001")}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'bot_effect' AND state = 'available'
		AND args->'effect'->>'kind' = 'lookup_order'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'bot_effect' AND state = 'scheduled'
		AND scheduled_at > now() + interval '50 minutes'`), "a timer is a delayed job")

	var convID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM conversations`).Scan(&convID))
	result := &conversation.EffectResult{Kind: "lookup_order", Value: json.RawMessage(`{"number":"1001"}`)}
	require.NoError(t, b.svc.ApplyBotEvent(ctx, conversation.ConversationID(convID),
		conversation.BotEvent{Kind: conversation.KindEffectResult, Result: result}))

	last := b.bot.seen[len(b.bot.seen)-1]
	require.Equal(t, conversation.KindEffectResult, last.Kind)
	require.JSONEq(t, `{"number":"1001"}`, string(last.Result.Value))
	require.Equal(t, "psid", last.Shopper.ChannelUserID)
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE flow_state = 'answered' AND events_applied = 2`))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'queued'`))
}

func TestHandoffStoresASummaryAndStopsTheBot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		if ev.Text != "it never arrived" {
			return conversation.Decision{Next: s, Replies: []conversation.Reply{{Text: "ok"}}}
		}
		return conversation.Decision{
			Next:    s,
			Replies: []conversation.Reply{{Text: "A person will take it from here."}},
			Handoff: &conversation.Handoff{Reason: "missing shipment", Priority: conversation.PriorityHigh,
				Summary: conversation.HandoffSummary{Intent: "tracking", Order: "1007", Trigger: "it never arrived"}},
		}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hi"), inbound("m2", "it never arrived")}))

	var status, reason string
	var priority int
	var raw []byte
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, handoff_reason, priority, handoff_summary FROM conversations`).
		Scan(&status, &reason, &priority, &raw))
	require.Equal(t, "queued", status)
	require.Equal(t, "missing shipment", reason)
	require.Equal(t, conversation.PriorityHigh, priority)
	var summary conversation.HandoffSummary
	require.NoError(t, json.Unmarshal(raw, &summary))
	require.Equal(t, "1007", summary.Order)
	require.Equal(t, conversation.Messenger, summary.Channel)
	texts := []string{}
	for _, m := range summary.LastMessages {
		texts = append(texts, string(m.Author)+": "+m.Text)
	}
	require.Equal(t, []string{"customer: hi", "bot: ok", "customer: it never arrived"}, texts)

	// A person owns it now: the bot is not asked, effects arriving late change nothing.
	asked := len(b.bot.seen)
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m3", "hello?")}))
	var convID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM conversations`).Scan(&convID))
	require.NoError(t, b.svc.ApplyBotEvent(ctx, conversation.ConversationID(convID),
		conversation.BotEvent{Kind: conversation.KindTimer, Timer: "late"}))
	require.Len(t, b.bot.seen, asked)
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`))
}

func TestWhatsAppShopperPhoneIsKnownToTheBot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		return conversation.Decision{Next: s}
	}
	ev := inbound("wamid.1", "hola")
	ev.Platform, ev.SenderID = conversation.WhatsApp, "34600111001"
	require.NoError(t, b.svc.Receive(context.Background(), []conversation.Inbound{ev}))
	require.Equal(t, "+34600111001", b.bot.seen[0].Shopper.Phone)
}

func TestAfterResolutionScoresThenReopens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		return conversation.Decision{Next: conversation.FlowState{Flow: "menu", State: "menu"},
			Replies: []conversation.Reply{{Text: "bot: " + ev.Text}}}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hi")}))
	// An agent resolved it and asked the satisfaction question.
	_, err := b.pool.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now(), csat_requested_at = now()`)
	require.NoError(t, err)
	asked := len(b.bot.seen)

	score := inbound("m2", "Great")
	score.Payload = "CSAT_5"
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{score}))
	require.Len(t, b.bot.seen, asked, "a score is not a request for the bot")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE status = 'resolved' AND csat_score = 5 AND reopened_count = 0`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE body = $1 AND status = 'queued'`, conversation.CSATThanks))

	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m3", "one more thing")}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations`), "writing again soon reopens, it does not start over")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE status = 'bot' AND reopened_count = 1`))
	require.Equal(t, "one more thing", b.bot.seen[len(b.bot.seen)-1].Text)

	// Long after resolution, a new conversation starts.
	_, err = b.pool.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() - interval '30 days'`)
	require.NoError(t, err)
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m4", "hello again")}))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM conversations`))
}

// A reaction after resolution is history: it joins the resolved
// conversation, even long after, and reopens nothing.
func TestReactionAfterResolutionReopensNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = greet
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hi")}))
	asked := len(b.bot.seen)
	for i, resolvedAgo := range []string{"1 hour", "30 days"} {
		_, err := b.pool.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() - $1::interval`, resolvedAgo)
		require.NoError(t, err)
		thumbsUp := inbound("", "")
		thumbsUp.Kind, thumbsUp.Reaction, thumbsUp.ReplyTo = conversation.KindReaction, "👍", "m_reply"
		thumbsUp.PlatformMessageID = fmt.Sprintf("reaction:%d", i)
		require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{thumbsUp}))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations`), "resolved %s ago", resolvedAgo)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE status = 'resolved' AND reopened_count = 0`))
		require.Equal(t, i+1, b.count(t, `SELECT count(*) FROM messages WHERE kind = 'reaction' AND body = '👍'`))
	}
	require.Len(t, b.bot.seen, asked)
}

// What a shopper writes while another app owns the thread (standby) is
// stored and left to whoever owns it: the bot does not answer.
func TestStandbyMessageIsStoredNotAnswered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.bot.next = greet
	ev := inbound("m1", "is anyone there?")
	ev.Standby = true
	require.NoError(t, b.svc.Receive(context.Background(), []conversation.Inbound{ev}))
	require.Empty(t, b.bot.seen)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND body = 'is anyone there?'`))
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`))

	require.NoError(t, b.svc.Receive(context.Background(), []conversation.Inbound{inbound("m2", "hello")}))
	require.Len(t, b.bot.seen, 1, "once the thread is the app's again, the bot answers")
}

// Only the echo of a split message's last part confirms that it went out:
// a later part may still fail, and the message must stay queued for it.
func TestEchoOfAnEarlierPartConfirmsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(conversation.FlowState, conversation.BotEvent) conversation.Decision {
		return conversation.Decision{}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hi")}))
	var convID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM conversations`).Scan(&convID))
	id, _, err := store.InsertMessage(ctx, b.pool, store.NewMessage{ConversationID: convID, Direction: "out",
		Author: "agent", Kind: "message", Platform: "messenger", Body: "a long answer", Status: "queued"}, time.Now())
	require.NoError(t, err)

	echo := func(mid string, part int) conversation.Inbound {
		return conversation.Inbound{Kind: conversation.KindEcho, Platform: conversation.Messenger, ChannelID: "page",
			SenderID: "psid", PlatformMessageID: mid, Text: "part", Timestamp: time.Now(),
			Metadata: conversation.OutboundMetadata(conversation.MessageID(id), part, 2)}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{echo("m_part1", 1)}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'queued'`, id))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages`), "our own echo is not stored as a message")

	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{echo("m_part2", 2)}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'sent' AND platform_message_id = 'm_part2'`, id))
}

func TestOutboundMetadata(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		metadata string
		id       int64
		last, ok bool
	}{
		{conversation.OutboundMetadata(42, 1, 1), 42, true, true},
		{conversation.OutboundMetadata(42, 3, 3), 42, true, true},
		{conversation.OutboundMetadata(42, 2, 3), 42, false, true},
		{"frontdesk:42", 42, true, true},
		{"frontdesk:42/x", 0, false, false},
		{"frontdesk:", 0, false, false},
		{"someone else's", 0, false, false},
		{"", 0, false, false},
	} {
		id, last, ok := conversation.ParseOutboundMetadata(tt.metadata)
		require.Equal(t, []any{tt.id, tt.last, tt.ok}, []any{id, last, ok}, tt.metadata)
	}
}

// A message unsent before its own webhook got through (it failed and came
// again) is not stored with its text, and the bot does not answer it.
func TestUnsendBeforeTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = greet
	unsend := inbound("m1", "")
	unsend.Kind = conversation.KindDeleted
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{unsend}))
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "my card number is 4111…")}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages`), "no reply")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE platform_message_id = 'm1' AND status = 'deleted' AND body = ''`))

	// An unsend after the message removes its text, as before.
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m2", "hi")}))
	unsend.PlatformMessageID = "m2"
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{unsend}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE platform_message_id = 'm2' AND status = 'deleted' AND body = ''`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations`))
}

// TestDuplicateBeforeNewMessageOfOneShopper redelivers a stored message in
// one webhook with the shopper's next message. The transaction holds the
// first back and decides the second as if the first were new; finding it
// a duplicate, it applies the webhook again, and the second message is
// decided on the conversation's real state.
func TestDuplicateBeforeNewMessageOfOneShopper(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		n := len(s.Data) + 1 // messages the bot has seen in this conversation
		data := map[string]string{}
		for i := range n {
			data[string(rune('a'+i))] = ev.Text
		}
		return conversation.Decision{Next: conversation.FlowState{Flow: "count", State: "s", Data: data},
			Replies: []conversation.Reply{{Text: ev.Text}}}
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "one")}))
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{inbound("m1", "one"), inbound("m2", "two")}))

	require.Equal(t, 2, b.count(t, `SELECT events_applied FROM conversations`))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Equal(t, 2, b.count(t, `SELECT seq FROM messages WHERE platform_message_id = 'm2'`))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM jsonb_object_keys((SELECT flow_data FROM conversations))`),
		"the second message was decided after the first, once")
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`))
}

// TestDeadlockedWebhookIsAppliedAgain: a webhook carries the messages of
// two shoppers, one whose conversation is open, locked up front, and one
// whose conversation was just resolved, locked when its message reopens it.
// Another transaction takes the two the other way round. PostgreSQL aborts
// the webhook's transaction, which began waiting first; the webhook is
// applied again and succeeds.
func TestDeadlockedWebhookIsAppliedAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.bot.next = func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		return conversation.Decision{Next: conversation.FlowState{Flow: "echo", State: "s"},
			Replies: []conversation.Reply{{Text: "you said " + ev.Text}}}
	}
	from := func(sender, mid string) conversation.Inbound {
		ev := inbound(mid, "hi")
		ev.SenderID = sender
		return ev
	}
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{from("open", "o1")}))
	require.NoError(t, b.svc.Receive(ctx, []conversation.Inbound{from("reopens", "r1")}))
	conversationOf := func(sender string) int64 {
		return int64(b.count(t, `SELECT c.id FROM conversations c JOIN identities i ON i.id = c.identity_id
			WHERE i.external_id = $1`, sender))
	}
	open, reopens := conversationOf("open"), conversationOf("reopens")
	_, err := b.pool.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1`, reopens)
	require.NoError(t, err)

	other, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer other.Rollback(ctx) //nolint:errcheck // committed below
	// PostgreSQL aborts the transaction whose deadlock_timeout ends first:
	// the webhook's, which waits first, unless a busy machine delays it.
	// This one waits a minute where it may (superusers only).
	_, err = other.Exec(ctx, `SELECT CASE WHEN current_setting('is_superuser') = 'on'
		THEN set_config('deadlock_timeout', '1min', true) END`)
	require.NoError(t, err)
	_, err = other.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, reopens)
	require.NoError(t, err)
	received := make(chan error, 1)
	go func() {
		received <- b.svc.Receive(ctx, []conversation.Inbound{from("reopens", "r2"), from("open", "o2")})
	}()
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 1
	}, 10*time.Second, 5*time.Millisecond, "the webhook holds the open conversation and waits for the resolved one")
	_, err = other.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, open)
	require.NoError(t, err, "the webhook's transaction is the one aborted")
	require.NoError(t, other.Commit(ctx))

	require.NoError(t, <-received)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'bot' AND reopened_count = 1`, reopens))
	require.Equal(t, 2, b.count(t, `SELECT events_applied FROM conversations WHERE id = $1`, open))
	require.Equal(t, 4, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Equal(t, 4, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`))
}

// dispatched records the replies a service hands over after its commits.
type dispatched struct {
	mu      sync.Mutex
	replies []store.OutboundDelivery
}

func (d *dispatched) Dispatch(replies []store.OutboundDelivery, _ time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replies = append(d.replies, replies...)
}

// traced is a service on a fresh database through one connection (so
// its statements are prepared by the first message), the round trips it
// makes, the replies it dispatches and a counter of rows.
type traced struct {
	svc   *conversation.Service
	pool  *pgxpool.Pool
	trips *storetest.RoundTrips
	sent  *dispatched
	count func(sql string) int
}

func tracedService(t *testing.T, bot conversation.Bot) traced {
	t.Helper()
	ctx := context.Background()
	_, url := storetest.NewDB(t)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.MaxConns = 1
	trips := &storetest.RoundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	svc := conversation.NewService(pool, jobs, bot)
	sent := &dispatched{}
	svc.DispatchReplies(sent, time.Minute)
	count := func(sql string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, sql).Scan(&n))
		return n
	}
	return traced{svc: svc, pool: pool, trips: trips, sent: sent, count: count}
}

func TestBotReplyTakesTwoRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bot := &scriptBot{next: func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		d := conversation.Decision{Next: conversation.FlowState{Flow: "echo", State: "s"},
			Replies: []conversation.Reply{{Text: "you said " + ev.Text}}}
		if ev.Text == "look it up" {
			d.Effects = []conversation.Effect{{Kind: "lookup_order", Args: map[string]string{"order": "1001"}}}
		}
		return d
	}}
	tr := tracedService(t, bot)
	svc, trips, sent, count := tr.svc, tr.trips, tr.sent, tr.count

	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hello")}))
	trips.Reset()
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m2", "again")}))
	require.Equal(t, int64(2), trips.Batches(),
		"BEGIN with the lock, the message and its reply with the COMMIT")
	require.Zero(t, trips.Statements())
	require.Equal(t, 2, count(`SELECT events_applied FROM conversations`))
	require.Equal(t, 2, count(`SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'queued'`))
	require.Len(t, sent.replies, 2, "each committed reply is dispatched")
	require.Equal(t, "you said again", sent.replies[1].Body)

	// A decision with an effect queues a River job in the same transaction.
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m3", "look it up")}))
	require.Equal(t, 1, count(`SELECT count(*) FROM river_job WHERE kind = 'bot_effect'`))
	require.Equal(t, 3, count(`SELECT events_applied FROM conversations`))
	require.Len(t, sent.replies, 3)
}

// TestRememberedConversationTakesOneRoundTrip: once the shopper's name is
// known, a message is decided on the state the service's last commit left,
// and BEGIN, the apply and COMMIT go in one round trip. A change made
// meanwhile by someone else is not overwritten: the apply finds the
// conversation changed and the message is decided again on the real state.
func TestRememberedConversationTakesOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var decidedOn []conversation.FlowState
	bot := &scriptBot{next: func(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
		decidedOn = append(decidedOn, s)
		return conversation.Decision{Next: conversation.FlowState{Flow: "echo", State: "s", Data: map[string]string{"last": ev.Text}},
			Replies: []conversation.Reply{{Text: ev.Shopper.Name + " said " + ev.Text}}}
	}}
	tr := tracedService(t, bot)
	svc, trips, sent, count := tr.svc, tr.trips, tr.sent, tr.count
	exec := func(sql string) {
		_, err := tr.pool.Exec(ctx, sql)
		require.NoError(t, err)
	}

	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m1", "hello")}))
	// The profile job names the shopper; the conversation's row is untouched.
	exec(`UPDATE identities SET display_name = 'Ana'`)
	trips.Reset()
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m2", "again")}))
	require.Equal(t, int64(2), trips.Batches(), "an unnamed shopper's conversation is read again, locked")
	require.Equal(t, "Ana said again", sent.replies[1].Body)

	trips.Reset()
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m3", "third")}))
	require.Equal(t, int64(1), trips.Batches(), "BEGIN, the apply and COMMIT together")
	require.Zero(t, trips.Statements())
	require.Equal(t, "again", decidedOn[2].Data["last"])
	require.Equal(t, 3, count(`SELECT events_applied FROM conversations`))
	require.Equal(t, 3, count(`SELECT seq FROM messages WHERE platform_message_id = 'm3'`))
	require.Equal(t, "Ana said third", sent.replies[2].Body)

	// A redelivery changes nothing, in one round trip too.
	trips.Reset()
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m3", "third")}))
	require.Equal(t, int64(1), trips.Batches())
	require.Equal(t, 3, count(`SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Len(t, sent.replies, 3)

	// Someone else changes the conversation: the remembered state is stale.
	exec(`UPDATE conversations SET flow_data = '{"last": "set elsewhere"}', priority = 7`)
	trips.Reset()
	require.NoError(t, svc.Receive(ctx, []conversation.Inbound{inbound("m4", "fourth")}))
	require.Equal(t, int64(3), trips.Batches(), "the try on the remembered state, then lock and apply")
	require.Equal(t, "set elsewhere", decidedOn[len(decidedOn)-1].Data["last"], "decided again on the real state")
	require.Equal(t, 4, count(`SELECT events_applied FROM conversations`))
	require.Equal(t, 7, count(`SELECT priority FROM conversations`), "the other change is kept")
	require.Equal(t, 4, count(`SELECT count(*) FROM messages WHERE direction = 'in'`))
	require.Equal(t, 4, count(`SELECT count(*) FROM messages WHERE direction = 'out'`))
	require.Len(t, sent.replies, 4)
}

func TestShoppersOfOneTransactionShareOneApplyStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr := tracedService(t, &scriptBot{next: countingBot{}.Decide})
	from := func(psid, mid string) conversation.Inbound {
		ev := inbound(mid, "hi "+psid)
		ev.SenderID = psid
		return ev
	}
	var shoppers []string // more than are applied one by one
	for _, c := range "abcdefghij" {
		shoppers = append(shoppers, "psid-"+string(c))
	}
	webhook := func(round int) []conversation.Inbound {
		var evs []conversation.Inbound
		for _, psid := range shoppers {
			evs = append(evs, from(psid, fmt.Sprintf("%s-%d", psid, round)))
		}
		return evs
	}
	require.NoError(t, tr.svc.Receive(ctx, webhook(1)))
	_, err := tr.pool.Exec(ctx, `UPDATE identities SET display_name = 'Ana'`)
	require.NoError(t, err)
	require.NoError(t, tr.svc.Receive(ctx, webhook(2)))

	tr.trips.Reset()
	require.NoError(t, tr.svc.Receive(ctx, webhook(3)))
	require.Equal(t, int64(1), tr.trips.Batches())
	require.Equal(t, int64(3), tr.trips.Batched(), "BEGIN, one statement applying the ten messages, COMMIT")
	require.Equal(t, 10, tr.count(`SELECT count(*) FROM conversations WHERE events_applied = 3 AND flow_data->>'n' = '3'`))
	require.Equal(t, 30, tr.count(`SELECT count(*) FROM messages WHERE direction = 'out'`))
	require.Len(t, tr.sent.replies, 30)

	// One shopper's two messages in one transaction: the second is decided
	// on the state the first leaves, so they are applied one by one.
	tr.trips.Reset()
	evs := webhook(4)
	evs = append(evs[:1:1], append([]conversation.Inbound{from("psid-a", "psid-a-5")}, evs[1:]...)...)
	require.NoError(t, tr.svc.Receive(ctx, evs))
	require.Equal(t, int64(13), tr.trips.Batched(), "BEGIN, eleven applies, COMMIT")
	require.Equal(t, 5, tr.count(`SELECT (flow_data->>'n')::int FROM conversations
		WHERE id = (SELECT conversation_id FROM messages WHERE platform_message_id = 'psid-a-5')`))
	require.Equal(t, 41, tr.count(`SELECT count(*) FROM messages WHERE direction = 'out'`))
}

// countingBot counts the messages it decided on in the flow's data.
type countingBot struct{}

func (countingBot) Decide(s conversation.FlowState, ev conversation.BotEvent) conversation.Decision {
	n, _ := strconv.Atoi(s.Data["n"])
	return conversation.Decision{Next: conversation.FlowState{Flow: "count", State: "s", Data: map[string]string{"n": strconv.Itoa(n + 1)}},
		Replies: []conversation.Reply{{Text: ev.Text}}}
}

// TestTwoServicesShareAConversation: two processes (services) remember the
// same conversation, and one shopper's messages reach both at once. Every
// message is applied once, one at a time, each on the state the one
// before left: no lost update.
func TestTwoServicesShareAConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := storetest.NewDB(t)
	newService := func() *conversation.Service {
		jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
		require.NoError(t, err)
		svc := conversation.NewService(pool, jobs, countingBot{})
		svc.DispatchReplies(&dispatched{}, time.Minute)
		return svc
	}
	services := []*conversation.Service{newService(), newService()}
	count := func(sql string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, sql).Scan(&n))
		return n
	}

	require.NoError(t, services[0].Receive(ctx, []conversation.Inbound{inbound("m0", "hello")}))
	_, err := pool.Exec(ctx, `UPDATE identities SET display_name = 'Ana'`)
	require.NoError(t, err)
	// Each service applies one message, locked, and remembers the state.
	require.NoError(t, services[0].Receive(ctx, []conversation.Inbound{inbound("m1", "one")}))
	require.NoError(t, services[1].Receive(ctx, []conversation.Inbound{inbound("m2", "two")}))

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- services[i%2].Receive(ctx, []conversation.Inbound{inbound(fmt.Sprintf("c%d", i), "again")})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, n+3, count(`SELECT events_applied FROM conversations`))
	require.Equal(t, n+3, count(`SELECT (flow_data->>'n')::int FROM conversations`), "each message decided on the state the one before left")
	require.Equal(t, n+3, count(`SELECT count(DISTINCT seq) FROM messages WHERE direction = 'in' AND seq BETWEEN 1 AND `+strconv.Itoa(n+3)))
	require.Equal(t, n+3, count(`SELECT count(*) FROM messages WHERE direction = 'out'`))
}
