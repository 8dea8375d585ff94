package groupcommit_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/store/groupcommit"
)

// recorder is a commit function that records its batches and can be held
// inside a commit until released.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	entered chan struct{}
	release chan struct{}
	fail    func(items []int) error
}

func newRecorder() *recorder {
	return &recorder{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (r *recorder) commit(_ context.Context, items []int) error {
	r.entered <- struct{}{}
	<-r.release
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(items))
	r.mu.Unlock()
	if r.fail != nil {
		return r.fail(items)
	}
	return nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n []int
	for _, b := range r.batches {
		n = append(n, len(b))
	}
	return n
}

func TestLingeringGroupWaitsForCompany(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	close(r.release)
	g := groupcommit.New(10, 1, r.commit).Linger(200 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { require.NoError(t, g.Do(context.Background(), i)) })
		time.Sleep(10 * time.Millisecond) // each arrives alone, within the linger
	}
	wg.Wait()
	require.Equal(t, []int{3}, r.sizes())
}

func TestLoneCallerCommitsAlone(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	close(r.release)
	g := groupcommit.New(10, 2, r.commit)
	for i := range 3 {
		require.NoError(t, g.Do(context.Background(), i))
	}
	require.Equal(t, []int{1, 1, 1}, r.sizes())
}

// queueBehindFirst commits item 0 and, while its commit is held, queues
// items 1 to n-1; then it lets the commits run and returns each item's error.
func queueBehindFirst(t *testing.T, g *groupcommit.Group[int], r *recorder, n int) []error {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	wg.Go(func() { errs[0] = g.Do(context.Background(), 0) })
	<-r.entered // the first batch is committing: the others must queue
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = g.Do(context.Background(), i) })
	}
	waitPending(t, g, n-1)
	close(r.release)
	wg.Wait()
	return errs
}

func TestCallersArrivingDuringACommitShareTheNext(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	errs := queueBehindFirst(t, groupcommit.New(10, 1, r.commit), r, 6)
	require.Equal(t, make([]error, 6), errs)
	require.Equal(t, []int{1, 5}, r.sizes())
}

func TestBatchSizeIsCapped(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	errs := queueBehindFirst(t, groupcommit.New(2, 1, r.commit), r, 6)
	require.Equal(t, make([]error, 6), errs)
	require.Equal(t, []int{1, 2, 2, 1}, r.sizes())
}

func TestFailedBatchRetriesEachItemAlone(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	bad := errors.New("item 3 is bad")
	r.fail = func(items []int) error {
		if slices.Contains(items, 3) {
			return bad
		}
		return nil
	}
	errs := queueBehindFirst(t, groupcommit.New(10, 1, r.commit), r, 5)
	require.Equal(t, []error{nil, nil, nil, bad, nil}, errs)
	require.Equal(t, []int{1, 4, 1, 1, 1, 1}, r.sizes(), "the failed batch of four is retried item by item")
}

func TestCallerThatGaveUpIsNotCommitted(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	g := groupcommit.New(10, 1, r.commit)
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, g.Do(context.Background(), 0)) })
	<-r.entered
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() { gaveUp <- g.Do(ctx, 1) }()
	wg.Go(func() { require.NoError(t, g.Do(context.Background(), 2)) })
	waitPending(t, g, 2)
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	close(r.release)
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, [][]int{{0}, {2}}, r.batches)
}

// waitPending waits until n callers are queued behind the running commit.
func waitPending(t *testing.T, g interface{ Pending() int }, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return g.Pending() == n }, 5*time.Second, time.Millisecond)
}

func TestLoneCallerCommitsOnItsOwnGoroutine(t *testing.T) {
	t.Parallel()
	onCaller := func(context.Context, []int) error {
		buf := make([]byte, 64<<10)
		// The test's own frame, not this closure's (…Goroutine.func1).
		if !strings.Contains(string(buf[:runtime.Stack(buf, false)]), "TestLoneCallerCommitsOnItsOwnGoroutine(") {
			return errors.New("committed on another goroutine")
		}
		return nil
	}
	require.NoError(t, groupcommit.New(10, 2, onCaller).Do(context.Background(), 1),
		"a lone caller needs no runner to wake and no answer to wait for")
	require.Error(t, groupcommit.New(10, 2, onCaller).Linger(time.Millisecond).Do(context.Background(), 1),
		"a lingering group waits on a runner")
}
