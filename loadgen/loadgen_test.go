package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/loadgen"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// TestShortRunAnswersEveryMessageOnce runs the load generator briefly
// against two gateway processes: every message is answered exactly once
// and the bursts leave every conversation as if handled one by one. Its
// timings are printed, not asserted: speed belongs to `make bench`.
func TestShortRunAnswersEveryMessageOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gateways under load")
	}
	// Gateway warnings and errors go to the test's log.
	ctx := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).WithContext(context.Background())
	report, err := loadgen.Run(ctx, loadgen.Options{
		ServerURL:  storetest.ServerURL(),
		Rate:       100,
		Duration:   time.Second,
		Gateways:   2,
		HotSenders: 3,
		HotBurst:   10,
		// The whole suite runs at once under -race: replies may lag seconds.
		DrainTimeout: time.Minute,
		// Small pools: other test packages share the database server.
		DBConns:       8,
		OutboxWorkers: 16,
	})
	require.NoError(t, err)
	require.Len(t, report.Phases, 1)
	p := report.Phases[0]
	t.Log(p)
	require.Equal(t, p.Sent, p.Accepted)
	require.Equal(t, p.Sent, p.AnsweredOnce)
	require.NotNil(t, report.Consistency)
	t.Log(report.Consistency)
	require.Empty(t, report.Problems())
}

func TestProblemsNameWhatWentWrong(t *testing.T) {
	clean := loadgen.Report{
		Phases:      []loadgen.PhaseReport{{Name: "steady", Sent: 10, Accepted: 10, AnsweredOnce: 10}},
		Consistency: &loadgen.ConsistencyReport{Conversations: 2, Messages: 5},
	}
	require.Empty(t, clean.Problems())

	bad := loadgen.Report{
		Phases: []loadgen.PhaseReport{
			{Name: "steady", Sent: 10, Accepted: 9, Rejected: 1, AnsweredOnce: 8, Missing: 2},
			{Name: "flat-out", Sent: 10, Accepted: 10, AnsweredOnce: 10, Duplicate: 3},
		},
		Consistency: &loadgen.ConsistencyReport{LostUpdates: 1, Missing: 4, Duplicate: 5, Rejected: 6},
	}
	require.Equal(t, []string{
		"steady: 1 webhooks rejected",
		"steady: 2 messages unanswered",
		"flat-out: 3 replies duplicated",
		"consistency: 6 webhooks rejected",
		"consistency: 1 conversations with lost updates",
		"consistency: 4 replies missing",
		"consistency: 5 replies duplicated",
	}, bad.Problems())
}
