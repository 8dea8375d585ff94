package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// applyCase opens four conversations on tx and returns events for them:
// two replies, one with quick replies; none, with attachments and a
// hand-off; one applied on a remembered row version; and a duplicate.
func applyCase(t *testing.T, tx pgx.Tx) []store.InboundEvent {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var convs []store.Conversation
	for _, psid := range []string{"psid-1", "psid-2", "psid-3", "psid-4"} {
		convs = append(convs, storetest.OpenConversation(t, tx, psid))
	}
	var xmin uint32
	require.NoError(t, tx.QueryRow(ctx, "SELECT xmin::text::bigint FROM conversations WHERE id = $1", convs[2].ID).Scan(&xmin))
	_, dup, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: convs[3].ID, Direction: "in",
		Author: "customer", Kind: "message", Platform: "messenger", PlatformMessageID: "mid-4", Status: "received"}, at)
	require.NoError(t, err)
	require.True(t, dup)

	menu, err := store.NewReply("What can I do for you?", []map[string]string{{"content_type": "text", "title": "Track my order", "payload": "TRACK"}})
	require.NoError(t, err)
	event := func(conv store.Conversation, mid string, seq int64) store.InboundEvent {
		return store.InboundEvent{
			Message: store.NewMessage{ConversationID: conv.ID, Author: "customer", Kind: "message", Platform: "messenger",
				PlatformMessageID: mid, Body: "hi " + mid, Seq: &seq, Status: "received", PlatformTime: &at},
			Update: store.ConversationUpdate{Status: "bot", Flow: "menu", FlowState: "start",
				FlowData: map[string]string{"mid": mid}, EventsApplied: seq, LastInboundAt: &at},
			ReplyAuthor: "bot",
		}
	}
	one := event(convs[0], "mid-1", 1)
	one.Replies = []store.Reply{{Body: "Hello, I am an automated assistant."}, menu}
	rescue := at.Add(time.Minute)
	one.RescueAt = &rescue
	two := event(convs[1], "mid-2", 1)
	two.Message.Attachments = []map[string]string{{"type": "image", "url": "https://example.com/a.jpg"}}
	two.Update.Status, two.Update.HandoffReason, two.Update.Priority = "queued", "asked for a person", 2
	two.Update.HandedOffAt, two.Update.HandoffSummary = &at, map[string]string{"intent": "person"}
	three := event(convs[2], "mid-3", 1)
	three.Xmin = &xmin
	three.Replies = []store.Reply{{Body: "Your order has shipped."}}
	four := event(convs[3], "mid-4", 1)
	four.Replies = []store.Reply{{Body: "never written"}}
	return []store.InboundEvent{one, two, three, four}
}

// written is what tx holds for the test's conversations, without message
// ids, which the two ways assign in different orders, and without the times
// storetest.OpenConversation takes from the clock.
func written(t *testing.T, tx pgx.Tx) string {
	t.Helper()
	var out json.RawMessage
	err := tx.QueryRow(context.Background(), `
		SELECT jsonb_build_object(
			'conversations', (SELECT jsonb_agg(to_jsonb(c) - 'created_at' - CASE WHEN c.events_applied = 0 THEN 'updated_at' ELSE '' END ORDER BY c.id) FROM conversations c),
			'messages', (SELECT jsonb_agg(to_jsonb(m) - 'id' - 'in_reply_to' || jsonb_build_object(
				'in_reply_to', (SELECT r.platform_message_id FROM messages r WHERE r.id = m.in_reply_to))
				ORDER BY m.conversation_id, m.id) FROM messages m))`).Scan(&out)
	require.NoError(t, err)
	return string(out)
}

func TestApplyInboundManyWritesWhatApplyInboundWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 9, 0, 1, 0, time.UTC)

	oneByOne := storetest.Tx(t)
	var want []store.Applied
	for _, ev := range applyCase(t, oneByOne) {
		a, err := store.ApplyInbound(ctx, oneByOne, ev, now)
		require.NoError(t, err)
		want = append(want, a)
	}

	together := storetest.Tx(t)
	var got []store.Applied
	var b pgx.Batch
	evs := applyCase(t, together)
	require.NoError(t, store.QueueApplyInboundMany(&b, evs, []time.Time{now, now, now, now}, func(a []store.Applied) { got = a }))
	require.NoError(t, together.SendBatch(ctx, &b).Close())

	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Inserted, got[i].Inserted, "event %d", i)
		require.Len(t, got[i].ReplyIDs, len(want[i].ReplyIDs), "event %d", i)
		if got[i].Inserted {
			require.NotZero(t, got[i].Xmin, "event %d", i)
			for _, id := range got[i].ReplyIDs {
				require.Greater(t, id, got[i].InboundID, "event %d: a reply is written after its message", i)
			}
		}
	}
	require.False(t, got[3].Inserted, "the duplicate")
	require.JSONEq(t, written(t, oneByOne), written(t, together))
}

func TestApplyInboundManyRefusesAChangedConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := storetest.Tx(t)
	evs := applyCase(t, tx)
	// The row was written by this transaction; another version is another
	// transaction's.
	changed := *evs[2].Xmin + 1
	evs[2].Xmin = &changed

	var b pgx.Batch
	now := time.Now()
	require.NoError(t, store.QueueApplyInboundMany(&b, evs, []time.Time{now, now, now, now}, func([]store.Applied) {
		t.Error("results of a statement that should have failed")
	}))
	err := tx.SendBatch(ctx, &b).Close()
	require.ErrorIs(t, err, store.ErrConversationChanged)
}
