package outbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/store"
)

// Dispatcher sends the bot's replies in the process that committed them,
// right after the commit (conversation.Dispatcher), instead of waiting for
// River to fetch a job: River's fetch adds its polling delay to every
// answer, and a job costs three writes of its row.
//
// It tries each send once. A send that must be retried, or that finds
// every sender busy and the queue full, is handed to River in a job, and
// River's workers take it from there. Each reply is claimed when it is
// written (store.ReleaseSendClaims); should this process die first, the
// claim lapses and RescueWorker hands the reply to River. A dispatch gives
// up after its timeout, and always before the claim lapses.
//
// Each conversation's replies are sent in the order they were dispatched,
// one after the other; different conversations' at the same time, by a
// fixed set of senders (long-lived: a new goroutine per send would grow
// its stack through the HTTP client again every time). Once some of a
// conversation's replies went to River, its later ones go there too while
// an earlier one is still queued (store.HeldBack): River's workers keep
// them in order.
type Dispatcher struct {
	worker  *SendWorker
	jobs    *river.Client[pgx.Tx]
	timeout time.Duration
	base    context.Context         // carries the logger
	queue   chan []dispatchedThread // the threads of one dispatch; queueMax threads in all

	mu      sync.Mutex
	tails   map[int64]chan struct{} // per conversation: closed when its last dispatched thread is done
	handed  map[int64]time.Time     // conversations some of whose replies were handed to River, and when
	queued  int                     // threads in queue
	closed  bool
	threads sync.WaitGroup // dispatched and not done
	senders sync.WaitGroup
}

// dispatchedThread is one conversation's replies of one dispatch.
type dispatchedThread struct {
	replies  []store.OutboundDelivery
	after    <-chan struct{} // the conversation's previous thread; nil if none
	done     chan struct{}
	deadline time.Time
}

// NewDispatcher returns a dispatcher sending through worker with senders
// sends at a time, handing sends over to River through jobs. timeout
// bounds a dispatch.
func NewDispatcher(ctx context.Context, worker *SendWorker, jobs *river.Client[pgx.Tx], senders int, timeout time.Duration) *Dispatcher {
	senders = max(senders, 1)
	d := &Dispatcher{
		worker: worker, jobs: jobs, timeout: timeout, base: context.WithoutCancel(ctx),
		queue: make(chan []dispatchedThread, 4*senders), tails: map[int64]chan struct{}{}, handed: map[int64]time.Time{},
	}
	for range senders {
		d.senders.Go(func() {
			for threads := range d.queue {
				d.took(threads)
				d.serve(threads)
			}
		})
	}
	return d
}

// claimMargin keeps the dispatcher's last send attempt clear of the claim's
// lapse, after which RescueWorker may hand the same reply to River.
const claimMargin = time.Second

// Dispatch queues replies, claimed until claimedUntil, and returns at
// once. Sending stops, and what is left goes to River, at the dispatcher's
// timeout or claimMargin before the claim lapses, whichever comes first.
func (d *Dispatcher) Dispatch(replies []store.OutboundDelivery, claimedUntil time.Time) {
	deadline := d.worker.now().Add(d.timeout)
	if last := claimedUntil.Add(-claimMargin); last.Before(deadline) {
		deadline = last
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return // the claims lapse and RescueWorker hands the replies to River
	}
	// Threads are queued in dispatch order, each behind its conversation's
	// previous one, so a sender only ever waits for a thread taken before.
	// A dispatch's threads go to one sender, which sends them together.
	var threads []dispatchedThread
	for _, replies := range byConversation(replies) {
		conv := replies[0].ConversationID
		t := dispatchedThread{replies: replies, after: d.tails[conv], done: make(chan struct{}), deadline: deadline}
		d.tails[conv] = t.done
		d.threads.Add(1)
		threads = append(threads, t)
	}
	// The queue holds up to queueMax threads; what does not fit, with every
	// sender busy, River sends.
	fits := min(len(threads), max(d.queueMax()-d.queued, 0))
	if fits > 0 {
		select {
		case d.queue <- threads[:fits]:
			d.queued += fits
		default:
			fits = 0
		}
	}
	for _, t := range threads[fits:] {
		go d.toRiver(t)
	}
}

// queueMax is how many threads may wait for a sender.
func (d *Dispatcher) queueMax() int { return cap(d.queue) }

// took counts threads a sender has taken off the queue.
func (d *Dispatcher) took(threads []dispatchedThread) {
	d.mu.Lock()
	d.queued -= len(threads)
	d.mu.Unlock()
}

// wait waits until the conversation's previous thread is done, or ctx ends.
func (t dispatchedThread) wait(ctx context.Context) {
	if t.after == nil {
		return
	}
	select {
	case <-t.after:
	case <-ctx.Done():
	}
}

// toRiver hands a thread no sender could take to River, once the
// conversation's previous thread is done, so that River cannot overtake it.
func (d *Dispatcher) toRiver(t dispatchedThread) {
	defer d.finish(t)
	ctx, cancel := context.WithDeadline(d.base, t.deadline)
	defer cancel()
	t.wait(ctx)
	d.handOver(ctx, t.replies, 0, 0)
}

// sendTogetherMax is the most threads a sender takes at once: as many
// messages as one Graph API batch request carries.
const sendTogetherMax = 50

// serve runs the threads of a dispatch and of the dispatches queued behind
// it, up to sendTogetherMax threads. Those ready to go (no earlier thread
// of their conversation is still running) send their replies together:
// first replies in one call, then second ones, and so on (sendMany).
// Those not ready go together next, as soon as some of them are.
func (d *Dispatcher) serve(threads []dispatchedThread) {
take:
	for len(threads) < sendTogetherMax {
		select {
		case next, ok := <-d.queue:
			if !ok {
				break take
			}
			d.took(next)
			threads = append(threads, next...)
		default:
			break take
		}
	}
	for len(threads) > 0 {
		var ready, waiting []dispatchedThread
		for _, t := range threads {
			if t.ready() {
				ready = append(ready, t)
			} else {
				waiting = append(waiting, t)
			}
		}
		if len(ready) == 0 {
			// Wait for the first dispatched; past its deadline runTogether
			// hands it to River.
			ctx, cancel := context.WithDeadline(d.base, waiting[0].deadline)
			waiting[0].wait(ctx)
			cancel()
			ready, waiting = waiting[:1], waiting[1:]
		}
		d.runTogether(ready)
		threads = waiting
	}
}

// ready says whether the conversation's previous thread is done.
func (t dispatchedThread) ready() bool {
	if t.after == nil {
		return true
	}
	select {
	case <-t.after:
		return true
	default:
		return false
	}
}

// runTogether sends the replies of ready threads of different
// conversations, each thread's in order: the replies of each round (the
// next reply of every thread still going) in one sendMany. A thread ends
// at its first reply that must be retried, which goes to River with those
// after it, or at its deadline, when River gets what is left.
func (d *Dispatcher) runTogether(threads []dispatchedThread) {
	type running struct {
		dispatchedThread
		ctx    context.Context
		cancel context.CancelFunc
		next   int // index of the reply to send next
	}
	going := make([]*running, 0, len(threads))
	end := func(r *running) {
		r.cancel()
		d.finish(r.dispatchedThread)
	}
	for _, t := range threads {
		ctx, cancel := context.WithDeadline(d.base, t.deadline)
		r := &running{dispatchedThread: t, ctx: ctx, cancel: cancel}
		if d.heldBack(r.ctx, t) {
			d.handOver(r.ctx, t.replies, 0, 0)
			end(r)
			continue
		}
		going = append(going, r)
	}
	for len(going) > 0 {
		var replies []store.OutboundDelivery
		var sending []*running
		var deadline time.Time
		for _, r := range going {
			if r.ctx.Err() != nil {
				d.handOver(r.ctx, r.replies[r.next:], 0, 0)
				end(r)
				continue
			}
			replies = append(replies, r.replies[r.next])
			sending = append(sending, r)
			if deadline.IsZero() || r.deadline.Before(deadline) {
				deadline = r.deadline
			}
		}
		if len(sending) == 0 {
			return
		}
		ctx, cancel := context.WithDeadline(d.base, deadline)
		errs := d.worker.sendMany(ctx, 1, maxAttempts, replies)
		cancel()
		going = going[:0]
		for i, r := range sending {
			if err := errs[i]; err != nil {
				d.handOver(r.ctx, r.replies[r.next:], 1, d.retryDelay(err))
				end(r)
				continue
			}
			if r.next++; r.next == len(r.replies) {
				end(r)
				continue
			}
			going = append(going, r)
		}
	}
}

// retryDelay is when River should try again a send that failed with err
// on the dispatcher's try: as a rate limit says, else after the first
// backoff.
func (d *Dispatcher) retryDelay(err error) time.Duration {
	if snooze, ok := errors.AsType[*river.JobSnoozeError](err); ok {
		return snooze.Duration
	}
	return d.worker.backoff(1)
}

// heldBack says whether t must follow its conversation's replies handed to
// River, because one of them is still queued. Only a conversation that had
// replies handed over is looked up, and it is forgotten once none is left.
func (d *Dispatcher) heldBack(ctx context.Context, t dispatchedThread) bool {
	conv := t.replies[0].ConversationID
	d.mu.Lock()
	at, handed := d.handed[conv]
	d.mu.Unlock()
	if !handed || d.worker.now().Sub(at) > store.HoldBackFor {
		return false
	}
	held, err := store.HeldBack(ctx, d.worker.Pool, t.replies[0].ID)
	if err != nil {
		return true // River keeps the order when we cannot tell
	}
	if !held {
		d.mu.Lock()
		delete(d.handed, conv)
		d.mu.Unlock()
	}
	return held
}

// handedMax bounds the conversations remembered as having replies handed
// to River; past it, those handed over longer than store.HoldBackFor ago
// are forgotten, and if that is not enough, all.
const handedMax = 100_000

// remember notes that some of conv's replies were handed to River.
func (d *Dispatcher) remember(conv int64) {
	now := d.worker.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.handed) >= handedMax {
		for c, at := range d.handed {
			if now.Sub(at) > store.HoldBackFor {
				delete(d.handed, c)
			}
		}
		if len(d.handed) >= handedMax {
			clear(d.handed)
		}
	}
	d.handed[conv] = now
}

// finish ends a thread and forgets its conversation once no later thread
// waits behind it.
func (d *Dispatcher) finish(t dispatchedThread) {
	close(t.done)
	d.mu.Lock()
	conv := t.replies[0].ConversationID
	if d.tails[conv] == t.done {
		delete(d.tails, conv)
	}
	d.mu.Unlock()
	d.threads.Done()
}

// maxAttempts bounds the tries of a send; it is River's default.
const maxAttempts = river.MaxAttemptsDefault

// handOver gives River the sends of replies still claimed, in one job that
// starts after delay; tried counts the attempts already made.
func (d *Dispatcher) handOver(ctx context.Context, replies []store.OutboundDelivery, tried int, delay time.Duration) {
	ids := make([]int64, len(replies))
	for i, m := range replies {
		ids[i] = m.ID
	}
	d.remember(replies[0].ConversationID)
	// The dispatch's own deadline may be what ended the try.
	ctx, cancel := recording(ctx)
	defer cancel()
	_, err := queueSends(ctx, d.worker.Pool, d.jobs, store.SendArgs{Tried: tried},
		&river.InsertOpts{ScheduledAt: d.worker.now().Add(delay)}, func(tx pgx.Tx) ([]int64, error) {
			return store.ReleaseSendClaims(ctx, tx, ids)
		})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("messages", len(ids)).
			Msg("Could not hand sends to River; they will be rescued when their claim lapses")
	}
}

// Close waits until every dispatched thread is done, or ctx ends, and
// stops the senders. Replies dispatched later are left to RescueWorker.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.queue)
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.threads.Wait()
		d.senders.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
