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
// a round trip per message cost more than the statements.
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
	pgx.Tx
	on      bool
	batch   pgx.Batch
	pending []*pendingApply
}

type pendingApply struct {
	replyIDs []int64
	inserted bool
	then     func(replyIDs []int64, inserted bool) error
}

var errAppliedOutOfTurn = errors.New("a message held back turned out to be a duplicate after a later one was decided")

// apply writes ev (store.ApplyInbound) and then calls then with the result:
// at once with the pipeline off, else once the statement has been sent.
func (p *pipeline) apply(ctx context.Context, ev store.InboundEvent, now time.Time, then func(replyIDs []int64, inserted bool) error) error {
	if !p.on {
		_, replyIDs, inserted, err := store.ApplyInbound(ctx, p.Tx, ev, now)
		if err != nil {
			return err
		}
		return then(replyIDs, inserted)
	}
	a := &pendingApply{then: then}
	if err := store.QueueApplyInbound(&p.batch, ev, now, func(replyIDs []int64, inserted bool) {
		a.replyIDs, a.inserted = replyIDs, inserted
	}); err != nil {
		return err
	}
	p.pending = append(p.pending, a)
	return nil
}

// flush sends what apply held back and runs the callbacks, in order.
func (p *pipeline) flush(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	pending := p.pending
	p.pending = nil
	batch := p.batch
	p.batch = pgx.Batch{}
	if err := p.Tx.SendBatch(ctx, &batch).Close(); err != nil {
		return err
	}
	for _, a := range pending {
		if err := a.then(a.replyIDs, a.inserted); err != nil {
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
	return p.Tx.Exec(ctx, sql, args...)
}

// Query runs a query after what apply held back.
func (p *pipeline) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.Tx.Query(ctx, sql, args...)
}

// QueryRow runs a query after what apply held back.
func (p *pipeline) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := p.flush(ctx); err != nil {
		return errRow{err}
	}
	return p.Tx.QueryRow(ctx, sql, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
