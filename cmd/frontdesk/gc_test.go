package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentForCollectsAtTheFloorOrByTheMinimum(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{live: 16 * mb, want: 1500},   // 16 MB live collects at 256 MB
		{live: 64 * mb, want: 400},    // 256 MB is only 300% more: the minimum wins
		{live: 300 * mb, want: 400},   // above the floor
		{live: 0, want: 400},          // nothing measured yet
		{live: 255 * mb, want: 400},   // just under the floor
		{live: 1 * mb, want: 25500},   // a tiny heap still waits for the floor
		{live: 51 * mb, want: 401},    // (256-51)/51 = 4.0196…
		{live: 52 * mb, want: 400},    // (256-52)/52 = 3.92…: the minimum
		{live: 256*mb - 1, want: 400}, // rounding down never goes under the minimum
	} {
		require.Equal(t, c.want, percentFor(c.live, 256*mb, 400), "live %d", c.live)
	}
}

// The floor holds after every collection, not only the first: a percentage
// set by hand is replaced at the next collection.
func TestKeepHeapFloorSetsThePercentAfterEachCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keepHeapFloor(1<<40, 400) // far above any heap here: the percentage is large
	for range 3 {
		debug.SetGCPercent(100)
		runtime.GC()
		require.Eventually(t, func() bool { return gogc() > 400 }, 5*time.Second, time.Millisecond,
			"GOGC stayed %d after a collection", gogc())
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
