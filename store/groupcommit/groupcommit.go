// Package groupcommit lets concurrent callers share transactions. Each
// caller hands in one item and waits; items that arrive while earlier
// batches are committing are committed together, in one transaction.
//
// Durability costs a WAL flush per commit, and on a small machine the
// per-transaction work (BEGIN, COMMIT, the job insert, the round trips)
// costs more than applying one webhook's events. Sharing commits keeps
// that cost per batch instead of per item. A lone caller is never kept
// waiting for company: with fewer than MaxRunning batches in flight its
// item is committed at once, alone, on the caller's own goroutine —
// unless the group lingers (Linger), for callers that gain more from fewer
// commits than they lose waiting.
package groupcommit

import (
	"context"
	"sync"
	"time"
)

// Group batches items of type T for a commit function.
type Group[T any] struct {
	commit     func(ctx context.Context, items []T) error
	maxBatch   int
	maxRunning int
	linger     time.Duration

	mu      sync.Mutex
	pending []*call[T]
	running int           // runners alive
	idle    int           // runners waiting for work
	leading int           // callers committing a batch themselves
	wake    chan struct{} // one token per idle runner woken
}

// A runner waits this long for work before it ends. Runners outlive their
// batches because a new goroutine grows its stack again, copying it, on
// its way through the database driver: at a few hundred webhooks a second
// that copying cost more CPU than the group's own bookkeeping.
const runnerIdle = 10 * time.Second

type call[T any] struct {
	ctx  context.Context
	item T
	done chan error
}

// New returns a group running at most maxRunning commits at a time, each of
// at most maxBatch items. commit must apply all items or none: when a batch
// of several fails, each of its items is committed again on its own, so one
// bad item fails only its own caller.
func New[T any](maxBatch, maxRunning int, commit func(ctx context.Context, items []T) error) *Group[T] {
	maxRunning = max(maxRunning, 1)
	return &Group[T]{commit: commit, maxBatch: max(maxBatch, 1), maxRunning: maxRunning,
		wake: make(chan struct{}, maxRunning)}
}

// Linger makes each batch wait d for more items before it is taken. Call
// it before the group is used.
func (g *Group[T]) Linger(d time.Duration) *Group[T] {
	g.linger = d
	return g
}

// Do commits item in the next batch and returns that batch's result. If ctx
// ends first, Do returns ctx's error; the item may still be committed, as
// with any transaction whose COMMIT was sent.
func (g *Group[T]) Do(ctx context.Context, item T) error {
	c := &call[T]{ctx: ctx, item: item, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.linger == 0 && g.committing() < g.maxRunning {
		// Commit on this goroutine: handing the item to a runner and
		// waiting for its answer costs two goroutine wake-ups, which on
		// a small machine are a good part of a lone caller's latency.
		g.leading++
		g.mu.Unlock()
		g.lead(c)
	} else {
		g.startRunner()
		g.mu.Unlock()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// committing is how many batches are being committed or about to be:
// runners at work and leading callers. Call it with mu held.
func (g *Group[T]) committing() int { return g.running - g.idle + g.leading }

// startRunner gets a runner to take what is pending, unless MaxRunning
// batches are in flight already: one of those takes it when done. Call it
// with mu held.
func (g *Group[T]) startRunner() {
	switch {
	case len(g.pending) == 0 || g.committing() >= g.maxRunning:
	case g.idle > 0:
		g.idle--
		g.wake <- struct{}{}
	default:
		g.running++
		go g.run()
	}
}

// lead commits batches on the caller's goroutine until c has its answer,
// then leaves what is still pending to a runner.
func (g *Group[T]) lead(c *call[T]) {
	for len(c.done) == 0 {
		g.mu.Lock()
		batch := g.takeLocked()
		g.mu.Unlock()
		if batch == nil {
			break // another committer took c
		}
		g.commitBatch(batch)
	}
	g.mu.Lock()
	g.leading--
	g.startRunner()
	g.mu.Unlock()
}

// Pending is how many callers wait for a batch to take them.
func (g *Group[T]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// run commits batches, and waits for more, until it has been idle for
// runnerIdle.
func (g *Group[T]) run() {
	for {
		if g.linger > 0 {
			time.Sleep(g.linger)
		}
		if batch := g.take(); batch != nil {
			g.commitBatch(batch)
			continue
		}
		if !g.awaitWork() {
			return
		}
	}
}

// take removes the next batch from the pending list, dropping callers that
// have already given up. When nothing is pending it returns nil, and the
// runner counts as idle from then on, so that Do wakes it.
func (g *Group[T]) take() []*call[T] {
	g.mu.Lock()
	defer g.mu.Unlock()
	batch := g.takeLocked()
	if batch == nil {
		g.idle++
		g.pending = nil // let the emptied backing array go
	}
	return batch
}

// takeLocked removes the next batch from the pending list, as take does,
// with mu held; nil when nothing is pending.
func (g *Group[T]) takeLocked() []*call[T] {
	var batch []*call[T]
	for len(g.pending) > 0 && len(batch) < g.maxBatch {
		c := g.pending[0]
		g.pending[0] = nil
		g.pending = g.pending[1:]
		if c.ctx.Err() != nil {
			c.done <- c.ctx.Err()
			continue
		}
		batch = append(batch, c)
	}
	return batch
}

// awaitWork waits, as an idle runner, until Do wakes it (true) or it has
// been idle for runnerIdle and ends (false).
func (g *Group[T]) awaitWork() bool {
	timer := time.NewTimer(runnerIdle)
	defer timer.Stop()
	select {
	case <-g.wake:
		return true
	case <-timer.C:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.wake: // Do chose this runner while the timer fired
		return true
	default:
	}
	g.idle--
	g.running--
	return false
}

func (g *Group[T]) commitBatch(batch []*call[T]) {
	// The batch outlives any one caller's request; it keeps the first
	// caller's values (its logger) but not its cancellation.
	ctx := context.WithoutCancel(batch[0].ctx)
	items := make([]T, len(batch))
	for i, c := range batch {
		items[i] = c.item
	}
	err := g.commit(ctx, items)
	if err == nil || len(batch) == 1 {
		for _, c := range batch {
			c.done <- err
		}
		return
	}
	for _, c := range batch {
		c.done <- g.commit(context.WithoutCancel(c.ctx), []T{c.item})
	}
}
