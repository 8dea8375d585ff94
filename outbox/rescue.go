package outbox

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/store"
)

// RescueWorker hands River the replies whose dispatcher's claim lapsed
// while they were still queued: their process died, or lost the database,
// before it could send them or hand them over. It runs as a River
// periodic job, so one process at a time does it.
type RescueWorker struct {
	river.WorkerDefaults[store.RescueArgs]

	Pool *pgxpool.Pool
}

// rescueBatch bounds the sends one job carries.
const rescueBatch = 500

// Work queues a send job for each batch of lapsed claims.
func (w *RescueWorker) Work(ctx context.Context, _ *river.Job[store.RescueArgs]) error {
	jobs := river.ClientFromContext[pgx.Tx](ctx)
	for {
		n, err := queueSends(ctx, w.Pool, jobs, store.SendArgs{}, nil, func(tx pgx.Tx) ([]int64, error) {
			return store.TakeLapsedSendClaims(ctx, tx, time.Now(), rescueBatch)
		})
		if err != nil {
			return err
		}
		if n > 0 {
			zerolog.Ctx(ctx).Warn().Int("messages", n).Msg("Rescued replies whose sending process stopped before sending them")
		}
		if n < rescueBatch {
			return nil
		}
	}
}

// queueSends ends, in one transaction, the claims on the replies that
// claims picks (store.ReleaseSendClaims, store.TakeLapsedSendClaims) and
// gives River one job sending them, with args' other fields and opts. It
// returns how many replies the job carries; none, no job.
func queueSends(ctx context.Context, pool *pgxpool.Pool, jobs *river.Client[pgx.Tx], args store.SendArgs,
	opts *river.InsertOpts, claims func(pgx.Tx) ([]int64, error)) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ids, err := claims(tx)
		if err != nil || len(ids) == 0 {
			return err
		}
		n, args.MessageIDs = len(ids), ids
		_, err = jobs.InsertTx(ctx, tx, args, opts)
		return err
	})
	return n, err
}

// RescuePeriodicJob runs RescueWorker every interval, and once at start.
func RescuePeriodicJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return store.RescueArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
