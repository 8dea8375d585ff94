package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

func TestEnsureIdentityConcurrentFirstContact(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()

	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck
			ident, _, err := store.EnsureIdentity(ctx, tx, "messenger", "page", "psid-1")
			require.NoError(t, err)
			require.NoError(t, tx.Commit(ctx))
			ids[i] = ident.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	var customers int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&customers))
	require.Equal(t, 1, customers, "concurrent first messages create one customer")
}

func TestInsertMessageDeduplicates(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	now := time.Now()
	ident, created, err := store.EnsureIdentity(ctx, tx, "messenger", "page", "psid-1")
	require.NoError(t, err)
	require.True(t, created)
	conv, err := store.LockOpenConversation(ctx, tx, ident.ID, ident.CustomerID)
	require.NoError(t, err)
	require.Equal(t, "bot", conv.Status)

	msg := store.NewMessage{ConversationID: conv.ID, Direction: "in", Author: "customer", Kind: "message",
		Platform: "messenger", PlatformMessageID: "mid.1", Body: "hi", Status: "received"}
	id, inserted, err := store.InsertMessage(ctx, tx, msg, now)
	require.NoError(t, err)
	require.True(t, inserted)
	_, inserted, err = store.InsertMessage(ctx, tx, msg, now)
	require.NoError(t, err)
	require.False(t, inserted, "same platform id is a duplicate")

	stored, err := store.MessageByID(ctx, tx, id)
	require.NoError(t, err)
	require.Equal(t, "hi", stored.Body)
}

func TestReceiptsOnlyMoveForward(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	now := time.Now()
	conv := storetest.OpenConversation(t, tx, "psid-1")
	id, _, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: conv.ID, Direction: "out",
		Author: "bot", Kind: "message", Platform: "messenger", Body: "hello", Status: "queued"}, now)
	require.NoError(t, err)
	require.NoError(t, store.MarkSent(ctx, tx, id, "m_1", now))

	changed, err := store.MarkUpTo(ctx, tx, "messenger", "page", "psid-1", "read", now.Add(time.Second), now)
	require.NoError(t, err)
	require.Equal(t, []int64{conv.ID}, changed)
	changed, err = store.MarkDelivered(ctx, tx, "messenger", []string{"m_1"}, now)
	require.NoError(t, err)
	require.Empty(t, changed, "a delivery receipt after the read receipt changes nothing")
	msg, err := store.MessageByID(ctx, tx, id)
	require.NoError(t, err)
	require.Equal(t, "read", msg.Status)

	require.NoError(t, store.MarkFailed(ctx, tx, id, "late failure"))
	msg, err = store.MessageByID(ctx, tx, id)
	require.NoError(t, err)
	require.Equal(t, "read", msg.Status, "only a queued message can fail")
}

// TestMarkSentMany: a few marks go one statement each, many go as one
// statement over arrays; either way only a queued message becomes sent,
// with its own platform message id and time.
func TestMarkSentMany(t *testing.T) {
	t.Parallel()
	for _, n := range []int{3, 12} {
		tx := storetest.Tx(t)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		conv := storetest.OpenConversation(t, tx, "psid-1")
		marks := make([]store.SentMark, n)
		for i := range marks {
			id, _, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: conv.ID, Direction: "out",
				Author: "bot", Kind: "message", Platform: "messenger", Body: "hello", Status: "queued"}, now)
			require.NoError(t, err)
			marks[i] = store.SentMark{ID: id, PlatformMessageID: fmt.Sprintf("m_%d", i), At: now.Add(time.Duration(i) * time.Second)}
		}
		// The first was sent already (a retry sends it again); the last
		// was sent without an id coming back.
		require.NoError(t, store.MarkSent(ctx, tx, marks[0].ID, "m_earlier", now.Add(-time.Minute)))
		marks[n-1].PlatformMessageID = ""

		require.NoError(t, store.MarkSentMany(ctx, tx, marks))
		for i, m := range marks {
			var status string
			var mid *string
			var sentAt time.Time
			require.NoError(t, tx.QueryRow(ctx, "SELECT status, platform_message_id, sent_at FROM messages WHERE id = $1", m.ID).
				Scan(&status, &mid, &sentAt))
			require.Equal(t, "sent", status)
			switch i {
			case 0:
				require.Equal(t, "m_earlier", *mid, "n=%d: a message already sent keeps its id", n)
				require.True(t, sentAt.Equal(now.Add(-time.Minute)), "n=%d: and its time", n)
			case n - 1:
				require.Nil(t, mid, "n=%d", n)
				require.True(t, sentAt.Equal(m.At), "n=%d", n)
			default:
				require.Equal(t, m.PlatformMessageID, *mid, "n=%d", n)
				require.True(t, sentAt.Equal(m.At), "n=%d: message %d sent at %s, not %s", n, i, sentAt, m.At)
			}
		}
	}
}

// The outbox loads a job's messages in one query, in the job's order, with
// the conversation's status: it tells consoles about delivery changes only
// in conversations people watch, and a bot conversation's sends would
// otherwise each NOTIFY, which serializes commits database-wide.
func TestOutboundsForDelivery(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	now := time.Now()
	var ids []int64
	for _, psid := range []string{"psid-1", "psid-2"} {
		conv := storetest.OpenConversation(t, tx, psid)
		id, _, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: conv.ID, Direction: "out",
			Author: "bot", Kind: "message", Platform: "messenger", Body: "hello " + psid, Status: "queued"}, now)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	_, err := tx.Exec(ctx, "UPDATE conversations c SET status = 'queued' FROM messages m WHERE m.id = $1 AND c.id = m.conversation_id", ids[1])
	require.NoError(t, err)

	got, err := store.OutboundsForDelivery(ctx, tx, []int64{ids[1], 999999, ids[0]})
	require.NoError(t, err)
	require.Len(t, got, 2, "an id that names no message is left out")
	require.Equal(t, ids[1], got[0].ID)
	require.Equal(t, "psid-2", got[0].RecipientID)
	require.Equal(t, "queued", got[0].ConversationStatus)
	require.Equal(t, ids[0], got[1].ID)
	require.Equal(t, "hello psid-1", got[1].Body)
	require.Equal(t, "bot", got[1].ConversationStatus)

	// One id loads as it does among others.
	one, err := store.OutboundsForDelivery(ctx, tx, []int64{ids[1]})
	require.NoError(t, err)
	require.Equal(t, got[:1], one)
	none, err := store.OutboundsForDelivery(ctx, tx, []int64{999999})
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestSendClaims(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	now := time.Now()
	conv := storetest.OpenConversation(t, tx, "psid-1")
	// One reply per case: claim lapsed, claim running, no claim (River's),
	// and lapsed but already sent.
	lapsed, running := now.Add(-time.Second), now.Add(time.Minute)
	cases := []struct {
		rescueAt *time.Time
		status   string
	}{{&lapsed, "queued"}, {&running, "queued"}, {nil, "queued"}, {&lapsed, "sent"}}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO messages (conversation_id, direction, author, kind, platform,
			status, rescue_at) VALUES ($1, 'out', 'bot', 'message', 'messenger', $2, $3) RETURNING id`,
			conv.ID, c.status, c.rescueAt).Scan(&ids[i]))
	}

	taken, err := store.TakeLapsedSendClaims(ctx, tx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[0]}, taken, "only a queued reply whose claim lapsed")
	taken, err = store.TakeLapsedSendClaims(ctx, tx, now, 10)
	require.NoError(t, err)
	require.Empty(t, taken, "a reply is taken once")

	released, err := store.ReleaseSendClaims(ctx, tx, ids)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1]}, released, "only a queued reply still claimed")
	taken, err = store.TakeLapsedSendClaims(ctx, tx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, taken, "a released claim never lapses")
}

func TestLockOpenConversationsOf(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	open := map[string]int64{}
	for _, psid := range []string{"psid-open", "psid-resolved"} {
		conv := storetest.OpenConversation(t, tx, psid)
		open[psid] = conv.ID
	}
	_, err := tx.Exec(ctx, "UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1", open["psid-resolved"])
	require.NoError(t, err)

	locked, err := store.LockOpenConversationsOf(ctx, tx, []store.Sender{
		{Platform: "messenger", ChannelID: "page", ExternalID: "psid-open"},
		{Platform: "messenger", ChannelID: "page", ExternalID: "psid-resolved"},
		{Platform: "messenger", ChannelID: "page", ExternalID: "psid-unknown"},
		{Platform: "instagram", ChannelID: "page", ExternalID: "psid-open"},
	})
	require.NoError(t, err)
	require.Len(t, locked, 1, "only the open conversation of a known sender")
	got := locked[store.Sender{Platform: "messenger", ChannelID: "page", ExternalID: "psid-open"}]
	require.Equal(t, open["psid-open"], got.ID)
	require.Equal(t, "bot", got.Status)

	// One sender, as a lone webhook has: the same answers.
	for psid, want := range map[string]int{"psid-open": 1, "psid-resolved": 0, "psid-unknown": 0} {
		sender := store.Sender{Platform: "messenger", ChannelID: "page", ExternalID: psid}
		locked, err := store.LockOpenConversationsOf(ctx, tx, []store.Sender{sender})
		require.NoError(t, err)
		require.Len(t, locked, want, psid)
		if want == 1 {
			require.Equal(t, open[psid], locked[sender].ID)
		}
	}
}

func TestWithDatabaseKeepsTheServerSettings(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@127.0.0.1:5432/postgres?sslmode=disable":        "postgres://u@127.0.0.1:5432/run1?sslmode=disable",
		"postgres://u@/frontdesk?host=%2Fsrv%2Fpg-run&port=55432":     "postgres://u@/run1?host=%2Fsrv%2Fpg-run&port=55432",
		"host=/srv/pg-run port=55432 user=u dbname=frontdesk":         "host=/srv/pg-run port=55432 user=u dbname=frontdesk dbname=run1",
		"postgresql://u:secret@db.internal/frontdesk?sslmode=require": "postgresql://u:secret@db.internal/run1?sslmode=require",
	} {
		if got := store.WithDatabase(in, "run1"); got != want {
			t.Errorf("WithDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}

// A queued outbound message holds back the later ones of its conversation
// that are loaded without it, until it is sent or HoldBackFor has passed.
func TestHeldBack(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	conv := storetest.OpenConversation(t, tx, "psid-1")
	other := storetest.OpenConversation(t, tx, "psid-2")
	queued := func(convID int64) int64 {
		id, _, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: convID, Direction: "out",
			Author: "bot", Kind: "message", Platform: "messenger", Body: "hello", Status: "queued"}, time.Now())
		require.NoError(t, err)
		return id
	}
	first, elsewhere, second := queued(conv.ID), queued(other.ID), queued(conv.ID)
	heldBack := func(ids ...int64) []bool {
		got, err := store.OutboundsForDelivery(ctx, tx, ids)
		require.NoError(t, err)
		held := make([]bool, len(got))
		for i, d := range got {
			held[i] = d.HeldBack
		}
		return held
	}
	require.Equal(t, []bool{true, false}, heldBack(second, elsewhere))
	require.Equal(t, []bool{false, false}, heldBack(first, second), "loaded together, they go in order")
	held, err := store.HeldBack(ctx, tx, second)
	require.NoError(t, err)
	require.True(t, held)

	_, err = tx.Exec(ctx, `UPDATE messages SET created_at = now() - $2::interval WHERE id = $1`, first, store.HoldBackFor+time.Minute)
	require.NoError(t, err)
	require.Equal(t, []bool{false}, heldBack(second), "not past HoldBackFor")
	_, err = tx.Exec(ctx, `UPDATE messages SET created_at = now() WHERE id = $1`, first)
	require.NoError(t, err)
	require.NoError(t, store.MarkSent(ctx, tx, first, "m_1", time.Now()))
	require.Equal(t, []bool{false}, heldBack(second), "sent")
	held, err = store.HeldBack(ctx, tx, second)
	require.NoError(t, err)
	require.False(t, held)
}
