package store_test

import (
	"context"
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
	ident, _, err := store.EnsureIdentity(ctx, tx, "messenger", "page", "psid-1")
	require.NoError(t, err)
	conv, err := store.LockOpenConversation(ctx, tx, ident.ID, ident.CustomerID)
	require.NoError(t, err)
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

// The outbox tells consoles about delivery changes only in conversations
// people watch, so the status it loads with a message must be the real one:
// a bot conversation's sends would otherwise each NOTIFY, and NOTIFY
// serializes commits database-wide.
func TestOutboundForDeliveryCarriesConversationStatus(t *testing.T) {
	t.Parallel()
	tx := storetest.Tx(t)
	ctx := context.Background()
	now := time.Now()
	ident, _, err := store.EnsureIdentity(ctx, tx, "messenger", "page", "psid-1")
	require.NoError(t, err)
	conv, err := store.LockOpenConversation(ctx, tx, ident.ID, ident.CustomerID)
	require.NoError(t, err)
	id, _, err := store.InsertMessage(ctx, tx, store.NewMessage{ConversationID: conv.ID, Direction: "out",
		Author: "bot", Kind: "message", Platform: "messenger", Body: "hello", Status: "queued"}, now)
	require.NoError(t, err)

	d, err := store.OutboundForDelivery(ctx, tx, id)
	require.NoError(t, err)
	require.Equal(t, "bot", d.ConversationStatus)
	require.Equal(t, "psid-1", d.RecipientID)

	_, err = tx.Exec(ctx, "UPDATE conversations SET status = 'queued' WHERE id = $1", conv.ID)
	require.NoError(t, err)
	d, err = store.OutboundForDelivery(ctx, tx, id)
	require.NoError(t, err)
	require.Equal(t, "queued", d.ConversationStatus)
}
