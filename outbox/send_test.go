package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/outbox"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// scriptedSender answers each Send with the next of its answers, and
// keeps what it was asked to send.
type scriptedSender struct {
	mu      sync.Mutex
	answers []func(ctx context.Context) (channels.SendResult, error)
	got     []conversation.Outbound
}

func (s *scriptedSender) Send(ctx context.Context, out conversation.Outbound) (channels.SendResult, error) {
	s.mu.Lock()
	answer := s.answers[len(s.got)]
	s.got = append(s.got, out)
	s.mu.Unlock()
	return answer(ctx)
}

// queuedReply writes a queued outbound message by author to a new
// conversation whose shopper last wrote at lastInbound.
func queuedReply(t *testing.T, pool *pgxpool.Pool, author string, lastInbound time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	conv := storetest.OpenConversation(t, pool, "psid-1")
	_, err := pool.Exec(ctx, `UPDATE conversations SET last_inbound_at = $2 WHERE id = $1`, conv.ID, lastInbound)
	require.NoError(t, err)
	id, _, err := store.InsertMessage(ctx, pool, store.NewMessage{ConversationID: conv.ID, Direction: "out",
		Author: author, Kind: "message", Platform: "messenger", Body: "hello", Status: "queued"}, time.Now())
	require.NoError(t, err)
	return id
}

func sendJob(attempt int, ids ...int64) *river.Job[store.SendArgs] {
	return &river.Job[store.SendArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 25},
		Args: store.SendArgs{MessageIDs: ids}}
}

func messageState(t *testing.T, pool *pgxpool.Pool, id int64) (status string, platformID *string) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT status, platform_message_id FROM messages WHERE id = $1`, id).Scan(&status, &platformID))
	return status, platformID
}

// A send the platform accepts just as the job's time runs out is still
// recorded as sent: were it not, the message would count as unsent and go
// out a second time on the retry.
func TestSendAcceptedAtTheDeadlineIsRecorded(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	id := queuedReply(t, pool, "bot", time.Now())
	ctx, timeUp := context.WithCancelCause(context.Background())
	defer timeUp(nil)
	sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
		func(context.Context) (channels.SendResult, error) {
			timeUp(context.DeadlineExceeded) // the platform answers as the deadline passes
			return channels.SendResult{PlatformMessageID: "m_1"}, nil
		},
	}}
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}
	require.NoError(t, w.Work(ctx, sendJob(1, id)))
	status, mid := messageState(t, pool, id)
	require.Equal(t, "sent", status)
	require.Equal(t, "m_1", *mid)
}

// A person's reply that fails just before the 24-hour window closes is
// retried, and goes out with the HUMAN_AGENT tag, which the platform
// accepts for 7 days; a bot's reply in the same spot fails.
func TestAgentReplyIsRetriedPastTheResponseWindow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, author := range []string{"agent", "bot"} {
		pool, _ := storetest.NewDB(t)
		id := queuedReply(t, pool, author, now.Add(-outbox.ResponseWindow+500*time.Millisecond))
		sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
			func(context.Context) (channels.SendResult, error) {
				return channels.SendResult{}, errors.New("HTTP 503")
			},
			func(context.Context) (channels.SendResult, error) {
				return channels.SendResult{PlatformMessageID: "m_2"}, nil
			},
		}}
		w := &outbox.SendWorker{Pool: pool, RetryBase: time.Second, NowFunc: func() time.Time { return now },
			Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}
		err := w.Work(context.Background(), sendJob(1, id))
		status, _ := messageState(t, pool, id)
		if author == "bot" {
			require.NoError(t, err, "nothing left to retry")
			require.Equal(t, "failed", status)
			continue
		}
		require.Error(t, err, "the job is retried")
		require.Equal(t, "queued", status)
		require.False(t, sender.got[0].HumanAgentTag, "within 24 hours, no tag")

		w.NowFunc = func() time.Time { return now.Add(2 * time.Second) }
		require.NoError(t, w.Work(context.Background(), sendJob(2, id)))
		status, mid := messageState(t, pool, id)
		require.Equal(t, "sent", status)
		require.Equal(t, "m_2", *mid)
		require.True(t, sender.got[1].HumanAgentTag)
	}
}

// A split message whose second part fails records that its first went
// out, and the retry asks the sender for the rest only.
func TestRetryOfASplitMessageSendsOnlyTheRest(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	id := queuedReply(t, pool, "agent", time.Now())
	sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
		func(context.Context) (channels.SendResult, error) {
			return channels.SendResult{}, &channels.PartlySentError{Parts: 1, Err: errors.New("part 2 of 3: HTTP 503")}
		},
		func(context.Context) (channels.SendResult, error) {
			return channels.SendResult{PlatformMessageID: "m_3"}, nil
		},
	}}
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}
	require.Error(t, w.Work(context.Background(), sendJob(1, id)), "the job is retried")
	var parts int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT parts_sent FROM messages WHERE id = $1`, id).Scan(&parts))
	require.Equal(t, 1, parts)

	require.NoError(t, w.Work(context.Background(), sendJob(2, id)))
	require.Equal(t, []int{0, 1}, []int{sender.got[0].FromPart, sender.got[1].FromPart})
	status, mid := messageState(t, pool, id)
	require.Equal(t, "sent", status)
	require.Equal(t, "m_3", *mid)
}

// A sender that panics fails the message with a reason agents can see; the
// process goes on.
func TestPanickingSenderFailsTheMessage(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	id := queuedReply(t, pool, "bot", time.Now())
	sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
		func(context.Context) (channels.SendResult, error) { panic("index out of range [3] with length 3") },
	}}
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}
	require.NoError(t, w.Work(context.Background(), sendJob(1, id)), "nothing left to retry")
	var status, reason string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT status, failure_reason FROM messages WHERE id = $1`, id).
		Scan(&status, &reason))
	require.Equal(t, "failed", status)
	require.Contains(t, reason, "the messenger sender failed unexpectedly (index out of range [3] with length 3)")
}

// panickingBatchSender panics on every batch.
type panickingBatchSender struct{ scriptedSender }

func (*panickingBatchSender) SendBatch(context.Context, []conversation.Outbound) ([]channels.SendResult, []error) {
	panic("nil map")
}

// The dispatcher's batches are guarded the same way.
func TestPanickingBatchSenderFailsTheMessages(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()
	id := queuedReply(t, pool, "bot", time.Now())
	replies, err := store.OutboundsForDelivery(ctx, pool, []int64{id})
	require.NoError(t, err)
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert-only
	require.NoError(t, err)
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: &panickingBatchSender{}}}
	d := outbox.NewDispatcher(ctx, w, jobs, 1, 10*time.Second)
	d.Dispatch(replies, time.Now().Add(time.Minute))
	require.NoError(t, d.Close(ctx))
	status, _ := messageState(t, pool, id)
	require.Equal(t, "failed", status)
}

// A River job whose message has an earlier one of its conversation still
// queued elsewhere waits for it: the shopper reads replies in order.
func TestJobWaitsForAnEarlierQueuedMessage(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	first := queuedReply(t, pool, "bot", time.Now())
	second := laterReply(t, pool, first)
	sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
		func(context.Context) (channels.SendResult, error) {
			return channels.SendResult{PlatformMessageID: "m_1"}, nil
		},
		func(context.Context) (channels.SendResult, error) {
			return channels.SendResult{PlatformMessageID: "m_2"}, nil
		},
	}}
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}

	err := w.Work(context.Background(), sendJob(1, second))
	_, snoozed := errors.AsType[*river.JobSnoozeError](err)
	require.True(t, snoozed, "got %v", err)
	require.Empty(t, sender.got)

	require.NoError(t, w.Work(context.Background(), sendJob(1, first)))
	require.NoError(t, w.Work(context.Background(), sendJob(2, second)))
	require.Equal(t, []conversation.MessageID{conversation.MessageID(first), conversation.MessageID(second)},
		[]conversation.MessageID{sender.got[0].MessageID, sender.got[1].MessageID})
}

// When a reply must be retried, the dispatcher hands it to River, and the
// conversation's next reply follows it there instead of overtaking it.
func TestDispatcherKeepsOrderBehindARetry(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	ctx := context.Background()
	first := queuedReply(t, pool, "bot", time.Now())
	second := laterReply(t, pool, first)
	// Claimed by this process, as the bot's replies are when written.
	_, err := pool.Exec(ctx, `UPDATE messages SET rescue_at = now() + interval '1 minute' WHERE direction = 'out'`)
	require.NoError(t, err)
	sender := &scriptedSender{answers: []func(context.Context) (channels.SendResult, error){
		func(context.Context) (channels.SendResult, error) {
			return channels.SendResult{}, errors.New("HTTP 503")
		},
	}}
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert-only
	require.NoError(t, err)
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: sender}}
	d := outbox.NewDispatcher(ctx, w, jobs, 1, 10*time.Second)
	for _, id := range []int64{first, second} {
		replies, err := store.OutboundsForDelivery(ctx, pool, []int64{id})
		require.NoError(t, err)
		d.Dispatch(replies, time.Now().Add(time.Minute))
	}
	require.NoError(t, d.Close(ctx))
	require.Len(t, sender.got, 1, "the second reply was not sent before the first")
	var handed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job, jsonb_array_elements_text(args->'message_ids') AS id
		WHERE kind = 'send_messages' AND id::bigint = ANY($1)`, []int64{first, second}).Scan(&handed))
	require.Equal(t, 2, handed, "both are River's now")
}

// laterReply writes a queued outbound message after message earlier, in
// its conversation.
func laterReply(t *testing.T, pool *pgxpool.Pool, earlier int64) int64 {
	t.Helper()
	var id int64
	require.NoError(t, pool.QueryRow(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind,
		platform, body, status) SELECT conversation_id, 'out', 'bot', 'message', platform, 'and another thing', 'queued'
		FROM messages WHERE id = $1 RETURNING id`, earlier).Scan(&id))
	return id
}

// When the last attempt River will make fails before anything was sent
// (here: its time is up before it reads the messages), what is still
// queued fails, visibly, instead of staying queued with no job left.
func TestLastAttemptThatFailsFailsTheMessages(t *testing.T) {
	t.Parallel()
	pool, _ := storetest.NewDB(t)
	id := queuedReply(t, pool, "bot", time.Now())
	w := &outbox.SendWorker{Pool: pool, Senders: map[conversation.Platform]channels.Sender{conversation.Messenger: &scriptedSender{}}}
	timeUp, cancel := context.WithCancel(context.Background())
	cancel()
	for _, try := range []struct {
		attempt int
		want    string
	}{{24, "queued"}, {25, "failed"}} {
		require.Error(t, w.Work(timeUp, sendJob(try.attempt, id)))
		status, _ := messageState(t, pool, id)
		require.Equal(t, try.want, status, "attempt %d of 25", try.attempt)
	}
	var reason string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT failure_reason FROM messages WHERE id = $1`, id).Scan(&reason))
	require.Contains(t, reason, "gave up after 25 attempts")
}
