package conversation

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frontdesk/frontdesk/store"
)

// pipeline is a transaction that holds back the statements applying
// shoppers' messages (apply) and sends them together, in one round trip,
// just before any other statement — so that one sees their effects — and
// before the commit. A shared transaction applies dozens of messages, and
// a round trip per message cost more than the statements. Messages of
// distinct conversations go as one statement over arrays
// (store.QueueApplyInboundMany).
//
// Holding a message back means deciding the next message of the same
// shopper before knowing whether the first was a duplicate; the
// conversation's state after the first is assumed. apply's callback
// undoes that assumption for a duplicate, and reports errAppliedOutOfTurn
// when a later message was already decided on it: the transaction is then
// applied again with the pipeline off.
//
// Exec, Query and QueryRow send what was held back first; SendBatch and
// CopyFrom do not, so flush before handing the pipeline to code that
// batches or copies (River's inserts).
type pipeline struct {
	*store.LazyTx
	on      bool
	pending []pendingApply
}

type pendingApply struct {
	ev    store.InboundEvent
	now   time.Time
	quiet bool
	then  func(store.Applied) error
}

var errAppliedOutOfTurn = errors.New("a message held back turned out to be a duplicate after a later one was decided")

// apply writes ev (store.ApplyInbound) and then calls then with the result:
// at once with the pipeline off, else once the statement has been sent.
// quiet says that then sends no statement and queues no job (see commit).
func (p *pipeline) apply(ctx context.Context, ev store.InboundEvent, now time.Time, quiet bool, then func(store.Applied) error) error {
	if !p.on {
		a, err := store.ApplyInbound(ctx, p.LazyTx, ev, now)
		if err != nil {
			return err
		}
		return then(a)
	}
	p.pending = append(p.pending, pendingApply{ev: ev, now: now, quiet: quiet, then: then})
	return nil
}

// flush sends what apply held back and runs the callbacks, in order.
func (p *pipeline) flush(ctx context.Context) error {
	return p.send(ctx, false)
}

// commit sends what apply held back together with the COMMIT, in one
// round trip, and runs the callbacks after it. Call it only when quiet:
// each conversation's message must be the only one held back, so that no
// callback can report errAppliedOutOfTurn once the transaction has
// committed, and no callback may send a statement of its own.
func (p *pipeline) commit(ctx context.Context) error {
	return p.send(ctx, true)
}

// quiet says whether what apply held back may be sent with the COMMIT.
func (p *pipeline) quiet() bool {
	if len(p.pending) == 0 {
		return false
	}
	for _, a := range p.pending {
		if !a.quiet {
			return false
		}
	}
	return p.oneEachConversation()
}

// oneEachConversation says whether no two statements held back apply
// messages of one conversation.
func (p *pipeline) oneEachConversation() bool {
	seen := make(map[int64]bool, len(p.pending))
	for _, a := range p.pending {
		if seen[a.ev.Message.ConversationID] {
			return false
		}
		seen[a.ev.Message.ConversationID] = true
	}
	return true
}

// send sends what apply held back, with the COMMIT when commit is set, and
// runs the callbacks, in order.
func (p *pipeline) send(ctx context.Context, commit bool) error {
	if len(p.pending) == 0 {
		return nil
	}
	pending := p.pending
	applied := make([]store.Applied, len(pending))
	var batch pgx.Batch
	if err := p.queue(&batch, applied); err != nil {
		return err
	}
	p.pending = nil
	var err error
	if commit {
		err = p.LazyTx.CommitBatch(ctx, &batch)
	} else {
		err = p.LazyTx.SendBatch(ctx, &batch).Close()
	}
	if err != nil {
		return err
	}
	for i, a := range pending {
		if err := a.then(applied[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyOneByOneMax is the most held-back messages applied one statement
// each when one statement could apply them all. The one statement over
// arrays is planned at every execution (0.4–0.6 ms), where each statement
// of its own runs on the plan its connection keeps; by EXPLAIN ANALYZE,
// warm, the one statement costs 1.0 ms for 2 messages against 0.5 ms for
// two statements, 1.5 against 1.3 ms for 8, and 2.1 against 3.8 ms for 16.
const applyOneByOneMax = 8

// queue queues in b the statements that apply what was held back, to
// leave their results in applied: one statement for all of them when there
// are more than applyOneByOneMax, of distinct conversations
// (store.QueueApplyInboundMany), else one each, in order.
func (p *pipeline) queue(b *pgx.Batch, applied []store.Applied) error {
	if len(p.pending) > applyOneByOneMax && p.oneEachConversation() {
		evs := make([]store.InboundEvent, len(p.pending))
		nows := make([]time.Time, len(p.pending))
		for i, a := range p.pending {
			evs[i], nows[i] = a.ev, a.now
		}
		return store.QueueApplyInboundMany(b, evs, nows, func(results []store.Applied) { copy(applied, results) })
	}
	for i, a := range p.pending {
		if err := store.QueueApplyInbound(b, a.ev, a.now, func(result store.Applied) { applied[i] = result }); err != nil {
			return err
		}
	}
	return nil
}

// Exec runs a statement after what apply held back.
func (p *pipeline) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := p.flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return p.LazyTx.Exec(ctx, sql, args...)
}

// Query runs a query after what apply held back.
func (p *pipeline) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.LazyTx.Query(ctx, sql, args...)
}

// QueryRow runs a query after what apply held back.
func (p *pipeline) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := p.flush(ctx); err != nil {
		return errRow{err}
	}
	return p.LazyTx.QueryRow(ctx, sql, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
