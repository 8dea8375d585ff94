package outbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store"
)

// Dispatcher sends the bot's replies in the process that committed them,
// right after the commit (conversation.Dispatcher), instead of waiting for
// River to fetch a job: River's fetch adds its polling delay to every
// answer, and a job costs three writes of its row.
//
// It tries each send once. A send that must be retried, or that finds
// every send slot taken, is handed to River in a job, and River's workers
// take it from there. Each reply is claimed when it is written
// (store.ReleaseSendClaims); should this process die first, the claim
// lapses and RescueWorker hands the reply to River. A dispatch gives up
// after Timeout, which the configuration keeps below the claim.
//
// Each conversation's replies are sent in the order they were dispatched,
// one after the other; different conversations' at the same time.
type Dispatcher struct {
	worker  *SendWorker
	jobs    *river.Client[pgx.Tx]
	timeout time.Duration
	base    context.Context // carries the logger
	slots   chan struct{}   // sends in flight

	mu    sync.Mutex
	tails map[int64]chan struct{} // per conversation: closed when its last dispatched thread is done
	wg    sync.WaitGroup
}

// NewDispatcher returns a dispatcher sending through worker with at most
// slots sends in flight, handing sends over to River through jobs.
func NewDispatcher(ctx context.Context, worker *SendWorker, jobs *river.Client[pgx.Tx], slots int, timeout time.Duration) *Dispatcher {
	return &Dispatcher{
		worker: worker, jobs: jobs, timeout: timeout, base: context.WithoutCancel(ctx),
		slots: make(chan struct{}, max(slots, 1)), tails: map[int64]chan struct{}{},
	}
}

// Dispatch starts sending replies, claimed until claimedUntil, and
// returns at once. Sending stops, and what is left goes to River, at
// Timeout or claimMargin before the claim lapses, whichever comes first.
func (d *Dispatcher) Dispatch(replies []conversation.QueuedReply, claimedUntil time.Time) {
	deadline := d.worker.now().Add(d.timeout)
	if last := claimedUntil.Add(-claimMargin); last.Before(deadline) {
		deadline = last
	}
	// Queue each conversation's thread behind the one dispatched before it,
	// now, while dispatches still arrive in commit order.
	type thread struct {
		after <-chan struct{} // nil for the first of its conversation
		done  chan struct{}
	}
	threads := map[int64]thread{}
	ids := make([]int64, len(replies))
	d.mu.Lock()
	for i, r := range replies {
		ids[i] = r.MessageID
		if _, ok := threads[r.ConversationID]; !ok {
			t := thread{after: d.tails[r.ConversationID], done: make(chan struct{})}
			d.tails[r.ConversationID] = t.done
			threads[r.ConversationID] = t
		}
	}
	d.mu.Unlock()

	d.wg.Go(func() {
		ctx, cancel := context.WithDeadline(d.base, deadline)
		defer cancel()
		msgs, err := store.OutboundsForDelivery(ctx, d.worker.Pool, ids)
		if err != nil {
			// The claims lapse and RescueWorker hands the sends to River.
			zerolog.Ctx(ctx).Warn().Err(err).Int("messages", len(ids)).Msg("Could not load replies to send; River will send them later")
		}
		loaded := map[int64][]store.OutboundDelivery{}
		for _, m := range byConversation(msgs) {
			loaded[m[0].ConversationID] = m
		}
		var wg sync.WaitGroup
		for conv, t := range threads {
			wg.Go(func() {
				defer d.finish(conv, t.done)
				if t.after != nil {
					select {
					case <-t.after:
					case <-ctx.Done():
					}
				}
				d.sendThread(ctx, loaded[conv])
			})
		}
		wg.Wait()
	})
}

// claimMargin keeps the dispatcher's last send attempt clear of the claim's
// lapse, after which RescueWorker may hand the same reply to River.
const claimMargin = time.Second

// finish ends a conversation's thread and forgets the conversation once
// no later thread waits behind it.
func (d *Dispatcher) finish(conv int64, done chan struct{}) {
	close(done)
	d.mu.Lock()
	if d.tails[conv] == done {
		delete(d.tails, conv)
	}
	d.mu.Unlock()
}

// sendThread tries one conversation's replies in order; at the first that
// must be retried, that reply and the ones after it go to River.
func (d *Dispatcher) sendThread(ctx context.Context, thread []store.OutboundDelivery) {
	if len(thread) == 0 {
		return
	}
	if ctx.Err() != nil { // waited too long behind the conversation's earlier replies
		d.handOver(ctx, thread, 0, 0)
		return
	}
	select {
	case d.slots <- struct{}{}:
		defer func() { <-d.slots }()
	default:
		d.handOver(ctx, thread, 0, 0)
		return
	}
	for i, m := range thread {
		err := d.worker.sendOne(ctx, 1, maxAttempts, m)
		if err == nil {
			continue
		}
		delay := d.worker.backoff(1)
		if snooze, ok := errors.AsType[*river.JobSnoozeError](err); ok {
			delay = snooze.Duration
		}
		d.handOver(ctx, thread[i:], 1, delay)
		return
	}
}

// maxAttempts bounds the tries of a send; it is River's default.
const maxAttempts = river.MaxAttemptsDefault

// handOver gives River the sends of thread still claimed, in one job
// that starts after delay; tried counts the attempts already made.
func (d *Dispatcher) handOver(ctx context.Context, thread []store.OutboundDelivery, tried int, delay time.Duration) {
	ids := make([]int64, len(thread))
	for i, m := range thread {
		ids[i] = m.ID
	}
	// The dispatch's own deadline may be what ended the try.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := pgx.BeginFunc(ctx, d.worker.Pool, func(tx pgx.Tx) error {
		released, err := store.ReleaseSendClaims(ctx, tx, ids)
		if err != nil || len(released) == 0 {
			return err
		}
		_, err = d.jobs.InsertTx(ctx, tx, store.SendArgs{MessageIDs: released, Tried: tried},
			&river.InsertOpts{ScheduledAt: d.worker.now().Add(delay)})
		return err
	})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("messages", len(ids)).Msg("Could not hand sends to River; they will be rescued when their claim lapses")
	}
}

// Wait waits until every dispatch has ended, or ctx ends.
func (d *Dispatcher) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
