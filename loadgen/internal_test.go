package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDistinctSecondsCountsTheSecondsSlowAcksFellIn(t *testing.T) {
	ms := time.Millisecond
	require.Zero(t, distinctSeconds(nil))
	// A stall: many in one second.
	require.Equal(t, 1, distinctSeconds([]time.Duration{1100 * ms, 1200 * ms, 1999 * ms}))
	// Spread: one in each of three seconds, out of order.
	require.Equal(t, 3, distinctSeconds([]time.Duration{5500 * ms, 200 * ms, 2000 * ms, 2001 * ms}))
}

func TestPhaseReportPrintsTheSlowAcks(t *testing.T) {
	p := PhaseReport{Name: "steady", Sent: 10, Accepted: 10, Elapsed: 20 * time.Second,
		SlowAcks: 7, SlowSeconds: 2, AnsweredOnce: 10}
	require.Contains(t, p.String(), "over 10ms: 7, sent in 2 of 20 seconds")
}
