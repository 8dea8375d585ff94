// Package outbox carries out what committed transactions queued:
// delivering outbound messages through the channels' senders — the bot's
// replies straight after their commit (Dispatcher), everything else and
// every retry through River's workers — and fetching shopper profiles.
package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/groupcommit"
)

// Meta's messaging windows: a bot may answer within 24 hours of the
// shopper's last message; a person, with the HUMAN_AGENT tag, within 7 days.
const (
	ResponseWindow   = 24 * time.Hour
	HumanAgentWindow = 7 * 24 * time.Hour
)

// SendWorker delivers outbound messages. Each message ends in a visible
// state: sent, or failed with the reason; it is never dropped silently.
type SendWorker struct {
	river.WorkerDefaults[store.SendArgs]

	Pool    *pgxpool.Pool
	Senders map[conversation.Platform]channels.Sender
	// RetryBase is the first retry delay; each later one doubles, up to
	// RetryMax. Retries stop when the messaging window closes.
	RetryBase time.Duration
	RetryMax  time.Duration
	NowFunc   func() time.Time

	marksOnce sync.Once
	marks     *groupcommit.Group[[]store.SentMark]
}

// Sends finishing within markLinger of each other record their "sent" in
// one transaction, up to markBatch of them, one transaction at a time: a
// commit costs a WAL flush, and a few milliseconds more before a reply
// shows as sent cost nothing. (A process that dies in between sends those
// replies again once their claim lapses, as it would a moment later.)
const (
	markBatch   = 64
	markRunning = 1
	markLinger  = 5 * time.Millisecond
)

// markTimeout bounds recording what a send did, or handing it to River. It
// is not the send's own deadline: a send the platform accepted just before
// that deadline must still be recorded, or the message would count as
// unsent and go out again.
const markTimeout = 10 * time.Second

// recording returns the context to record what a send did in.
func recording(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
}

// markSent records sends and returns once that is durable, sharing the
// commit with the sends that finished about the same time.
func (w *SendWorker) markSent(ctx context.Context, marks ...store.SentMark) error {
	if len(marks) == 0 {
		return nil
	}
	ctx, cancel := recording(ctx)
	defer cancel()
	w.marksOnce.Do(func() {
		w.marks = groupcommit.New(markBatch, markRunning, func(ctx context.Context, groups [][]store.SentMark) error {
			var all []store.SentMark
			for _, g := range groups {
				all = append(all, g...)
			}
			return store.MarkSentMany(ctx, w.Pool, all)
		}).Linger(markLinger)
	})
	return w.marks.Do(ctx, marks)
}

func (w *SendWorker) now() time.Time {
	if w.NowFunc != nil {
		return w.NowFunc()
	}
	return time.Now()
}

// NextRetry backs off exponentially from RetryBase.
func (w *SendWorker) NextRetry(job *river.Job[store.SendArgs]) time.Time {
	return w.now().Add(w.backoff(job.Attempt + job.Args.Tried))
}

func (w *SendWorker) backoff(attempt int) time.Duration {
	d := w.RetryBase
	if d <= 0 {
		d = time.Second
	}
	limit := w.RetryMax
	if limit <= 0 {
		limit = 15 * time.Minute
	}
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Work sends the job's messages: each conversation's in order, different
// conversations' at the same time (a job carries the replies to all the
// webhooks one transaction applied). A message already sent or failed (a
// retry after a partial success) is skipped, so a retry never sends a
// message twice unless the process died between the platform's answer and
// our commit — the platform offers no idempotency key to close that gap.
// When some conversation's send must be retried, the job returns that
// error and its retry sends only what is still queued.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[store.SendArgs]) (err error) {
	defer func() {
		if _, snoozed := errors.AsType[*river.JobSnoozeError](err); err != nil && !snoozed && job.Attempt >= job.MaxAttempts {
			w.giveUp(ctx, job, err)
		}
	}()
	msgs, err := store.OutboundsForDelivery(ctx, w.Pool, job.Args.MessageIDs)
	if err != nil {
		return err
	}
	if len(msgs) < len(job.Args.MessageIDs) {
		zerolog.Ctx(ctx).Warn().Int("missing", len(job.Args.MessageIDs)-len(msgs)).
			Msg("Outbound messages vanished before sending")
	}
	threads := byConversation(msgs)
	errs := make([]error, len(threads))
	var wg sync.WaitGroup
	for i, thread := range threads {
		wg.Go(func() { errs[i] = w.sendThread(ctx, job.Attempt+job.Args.Tried, job.MaxAttempts, thread) })
	}
	wg.Wait()
	// A failure to retry wins over a snooze: both bring the job back, and a
	// retry counts the attempt, so a send that keeps failing gives up.
	var snooze error
	for _, err := range errs {
		var s *river.JobSnoozeError
		switch {
		case err == nil:
		case errors.As(err, &s):
			snooze = cmp.Or(snooze, err)
		default:
			return err
		}
	}
	return snooze
}

// giveUp fails, visibly, what is still queued of a job River will not run
// again: its last attempt failed other than by a send the platform
// refused (which notSent records), the database being unreachable, say.
func (w *SendWorker) giveUp(ctx context.Context, job *river.Job[store.SendArgs], cause error) {
	log := zerolog.Ctx(ctx)
	ctx, cancel := recording(ctx)
	defer cancel()
	reason := fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, cause)
	failed, err := store.MarkQueuedFailed(ctx, w.Pool, job.Args.MessageIDs, reason)
	if err != nil {
		log.Error().Err(err).AnErr("cause", cause).Int("messages", len(job.Args.MessageIDs)).
			Msg("Could not fail the messages of a send job River gave up on: they stay queued")
		return
	}
	log.Warn().Err(cause).Int64("failed", failed).Msg("Send job gave up; its unsent messages failed")
}

// byConversation splits messages into each conversation's, keeping their
// order, in the order the conversations first appear.
func byConversation(msgs []store.OutboundDelivery) [][]store.OutboundDelivery {
	var threads [][]store.OutboundDelivery
	index := map[int64]int{}
	for _, d := range msgs {
		i, ok := index[d.ConversationID]
		if !ok {
			i = len(threads)
			index[d.ConversationID] = i
			threads = append(threads, nil)
		}
		threads[i] = append(threads[i], d)
	}
	return threads
}

// heldBackWait is how long a job waits for an earlier message of its
// conversation, still queued elsewhere, before looking again.
const heldBackWait = 2 * time.Second

// sendThread sends one conversation's messages in order, on the given
// attempt of maxAttempts, stopping at the first that must be retried so
// none overtakes it, or that waits for an earlier message still queued
// (store.OutboundDelivery.HeldBack).
func (w *SendWorker) sendThread(ctx context.Context, attempt, maxAttempts int, thread []store.OutboundDelivery) error {
	for _, d := range thread {
		if d.HeldBack {
			return river.JobSnooze(heldBackWait)
		}
		if err := w.sendOne(ctx, attempt, maxAttempts, d); err != nil {
			return err
		}
	}
	return nil
}

func (w *SendWorker) sendOne(ctx context.Context, attempt, maxAttempts int, d store.OutboundDelivery) error {
	p, ok, err := w.prepare(ctx, d)
	if !ok {
		return err
	}
	return w.send(ctx, attempt, maxAttempts, p)
}

// send sends a prepared message on its own.
func (w *SendWorker) send(ctx context.Context, attempt, maxAttempts int, p preparedSend) error {
	started := w.now()
	res, err := sendGuarded(ctx, p.sender, p.out)
	if err != nil {
		return w.notSent(ctx, attempt, maxAttempts, p, err)
	}
	if err := w.markSent(ctx, sentMark(p, res, started)); err != nil {
		return err
	}
	return w.sent(ctx, p)
}

// sendMany sends ds, messages of different conversations, on the given
// attempt of maxAttempts, each as sendOne would, and returns each one's
// outcome at its index. Messages whose sender delivers several in one call
// (channels.BatchSender) go together, and their "sent" marks share a
// commit.
func (w *SendWorker) sendMany(ctx context.Context, attempt, maxAttempts int, ds []store.OutboundDelivery) []error {
	errs := make([]error, len(ds))
	prepared := make([]preparedSend, len(ds))
	together := map[channels.BatchSender][]int{}
	for i, d := range ds {
		p, ok, err := w.prepare(ctx, d)
		if !ok {
			errs[i] = err
			continue
		}
		prepared[i] = p
		if bs, ok := p.sender.(channels.BatchSender); ok {
			together[bs] = append(together[bs], i)
		} else {
			errs[i] = w.send(ctx, attempt, maxAttempts, p)
		}
	}
	for bs, indexes := range together {
		outs := make([]conversation.Outbound, len(indexes))
		for j, i := range indexes {
			outs[j] = prepared[i].out
		}
		started := w.now()
		results, sendErrs := sendBatchGuarded(ctx, bs, outs)
		var marks []store.SentMark
		var sent []int
		for j, i := range indexes {
			if sendErrs[j] != nil {
				errs[i] = w.notSent(ctx, attempt, maxAttempts, prepared[i], sendErrs[j])
				continue
			}
			marks = append(marks, sentMark(prepared[i], results[j], started))
			sent = append(sent, i)
		}
		err := w.markSent(ctx, marks...)
		for _, i := range sent {
			if errs[i] = err; err == nil {
				errs[i] = w.sent(ctx, prepared[i])
			}
		}
	}
	return errs
}

// sendGuarded calls s.Send, turning a panic in it into a permanent error:
// the message fails, visibly, instead of the process crashing and the
// message's rescue crashing it again.
func sendGuarded(ctx context.Context, s channels.Sender, out conversation.Outbound) (res channels.SendResult, err error) {
	defer failOnPanic(ctx, out.Platform, func(panicked error) { err = panicked })
	return s.Send(ctx, out)
}

// sendBatchGuarded is sendGuarded for bs.SendBatch: a panic fails every
// message of the call.
func sendBatchGuarded(ctx context.Context, bs channels.BatchSender, outs []conversation.Outbound) (results []channels.SendResult, errs []error) {
	defer failOnPanic(ctx, outs[0].Platform, func(panicked error) {
		results, errs = make([]channels.SendResult, len(outs)), make([]error, len(outs))
		for i := range errs {
			errs[i] = panicked
		}
	})
	return bs.SendBatch(ctx, outs)
}

// failOnPanic, deferred by a call to a sender, recovers from a panic in it,
// logs it with its stack and gives fail the permanent error it becomes.
func failOnPanic(ctx context.Context, platform conversation.Platform, fail func(error)) {
	r := recover()
	if r == nil {
		return
	}
	zerolog.Ctx(ctx).Error().Str("platform", string(platform)).Str("panic", fmt.Sprint(r)).
		Bytes("stack", debug.Stack()).Msg("Sender panicked")
	fail(&channels.PermanentError{
		Reason: fmt.Sprintf("the %s sender failed unexpectedly (%v); see the log", platform, r),
		Err:    channels.ErrPermanent,
	})
}

// preparedSend is a queued message made ready for its channel's sender.
type preparedSend struct {
	d         store.OutboundDelivery
	out       conversation.Outbound
	windowEnd time.Time
	sender    channels.Sender
}

// logged adds what identifies d to a log event. The fields are added per
// event, not to a logger made for each send: most sends log nothing.
func logged(e *zerolog.Event, d store.OutboundDelivery) *zerolog.Event {
	return e.Stringer("outbound_id", conversation.MessageID(d.ID)).
		Stringer("conversation_id", conversation.ConversationID(d.ConversationID)).
		Str("platform", d.Platform)
}

// prepare makes d ready to send. ok is false when there is nothing to
// send: d is no longer queued (err is nil), or it cannot be sent and has
// failed here (err is what recording that returned).
func (w *SendWorker) prepare(ctx context.Context, d store.OutboundDelivery) (p preparedSend, ok bool, err error) {
	if d.Status != string(conversation.MessageQueued) {
		return p, false, nil
	}
	out := conversation.Outbound{
		MessageID:   conversation.MessageID(d.ID),
		Platform:    conversation.Platform(d.Platform),
		ChannelID:   d.ChannelID,
		RecipientID: d.RecipientID,
		Text:        d.Body,
		Author:      conversation.Author(d.Author),
		FromPart:    d.PartsSent,
	}
	if err := decodeList(d.QuickReplies, &out.QuickReplies); err != nil {
		return p, false, w.fail(ctx, d, "stored quick replies are unreadable: "+err.Error())
	}
	if err := decodeList(d.Attachments, &out.Attachments); err != nil {
		return p, false, w.fail(ctx, d, "stored attachments are unreadable: "+err.Error())
	}
	windowEnd, open := w.windowEnd(d, &out)
	if !open {
		return p, false, w.fail(ctx, d, "the messaging window has closed: the shopper's last message is too old")
	}
	sender, known := w.Senders[out.Platform]
	if !known {
		return p, false, w.fail(ctx, d, "no sender is configured for "+d.Platform)
	}
	return preparedSend{d: d, out: out, windowEnd: windowEnd, sender: sender}, true, nil
}

// sentMark records p as sent at started, when the call that sent it began:
// the platform's own time for the message lies after that, and receipts
// compare their watermark, in the platform's time, with it.
func sentMark(p preparedSend, res channels.SendResult, started time.Time) store.SentMark {
	return store.SentMark{ID: p.d.ID, PlatformMessageID: res.PlatformMessageID, At: started}
}

// sent finishes a send whose "sent" is recorded.
func (w *SendWorker) sent(ctx context.Context, p preparedSend) error {
	logged(zerolog.Ctx(ctx).Debug(), p.d).Msg("Message sent")
	return w.notifyConsole(ctx, p.d)
}

// notSent handles a send the platform refused or that did not get
// through: the message fails for good, or the returned error says when to
// try again (river.JobSnooze for a rate limit, any other error to retry).
func (w *SendWorker) notSent(ctx context.Context, attempt, maxAttempts int, p preparedSend, err error) error {
	log, d := zerolog.Ctx(ctx), p.d
	if partly, ok := errors.AsType[*channels.PartlySentError](err); ok && partly.Parts > d.PartsSent {
		rctx, cancel := recording(ctx)
		defer cancel()
		if err := store.MarkPartsSent(rctx, w.Pool, d.ID, partly.Parts); err != nil {
			return err
		}
	}
	var permanent *channels.PermanentError
	var retryAfter *channels.RetryAfterError
	switch {
	case errors.As(err, &permanent) || errors.Is(err, channels.ErrPermanent):
		if errors.Is(err, channels.ErrReauthorize) {
			logged(log.Error(), d).Str("channel_id", d.ChannelID).Msg("Channel access token refused: the channel needs re-authorization")
			if err := store.MarkChannelNeedsReauth(ctx, w.Pool, d.Platform, d.ChannelID, err.Error(), w.now()); err != nil {
				return err
			}
		}
		return w.fail(ctx, d, err.Error())
	case errors.As(err, &retryAfter):
		if w.now().Add(retryAfter.After).After(p.windowEnd) {
			return w.fail(ctx, d, "rate limited until after the messaging window closes: "+err.Error())
		}
		logged(log.Warn(), d).Err(err).Msg("Rate limited; snoozing send")
		return river.JobSnooze(retryAfter.After)
	default:
		if attempt >= maxAttempts {
			return w.fail(ctx, d, fmt.Sprintf("gave up after %d attempts: %s", attempt, err))
		}
		if w.now().Add(w.backoff(attempt)).After(p.windowEnd) {
			return w.fail(ctx, d, "the messaging window closed while retrying: "+err.Error())
		}
		logged(log.Warn(), d).Err(err).Int("attempt", attempt).Msg("Send failed; will retry")
		return fmt.Errorf("send outbound %d: %w", d.ID, err)
	}
}

// windowEnd returns when the platform stops accepting this message, and
// whether it still does now. A person's reply past the 24-hour window goes
// out with the HUMAN_AGENT tag, which the platform accepts for 7 days; so
// a person's reply first tried within the 24 hours keeps being retried
// past them.
func (w *SendWorker) windowEnd(d store.OutboundDelivery, out *conversation.Outbound) (time.Time, bool) {
	if d.LastInboundAt == nil {
		return time.Time{}, false
	}
	now := w.now()
	end := d.LastInboundAt.Add(ResponseWindow)
	if out.Author == conversation.AuthorAgent {
		out.HumanAgentTag = !now.Before(end)
		end = d.LastInboundAt.Add(HumanAgentWindow)
	}
	return end, now.Before(end)
}

// fail marks the message failed, visibly, where agents see it; retrying
// cannot help it. The job goes on with its next message.
func (w *SendWorker) fail(ctx context.Context, d store.OutboundDelivery, reason string) error {
	if err := store.MarkFailed(ctx, w.Pool, d.ID, reason); err != nil {
		return err
	}
	logged(zerolog.Ctx(ctx).Warn(), d).Str("reason", reason).Msg("Outbound message failed")
	return w.notifyConsole(ctx, d)
}

// notifyConsole tells open consoles that a message of a conversation
// people watch changed state; bot conversations are not watched live.
func (w *SendWorker) notifyConsole(ctx context.Context, d store.OutboundDelivery) error {
	if d.ConversationStatus == string(conversation.StatusBot) {
		return nil
	}
	return store.NotifyConsole(ctx, w.Pool, store.ConsoleEvent{Type: "message", ConversationID: d.ConversationID})
}

// decodeList reads a stored JSON list (quick replies, attachments); an
// empty column is an empty list.
func decodeList[T any](raw json.RawMessage, into *[]T) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, into)
}
