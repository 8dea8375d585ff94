package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// A bot reply to a webhook is claimed, when it is written, by the process
// that will send it right after the commit (messages.rescue_at, migration
// 00007). Ending the claim hands the send to River; the caller inserts
// the River job in the same transaction.

// ReleaseSendClaims ends the claims on those of ids still queued and
// claimed, and returns them in id order: the sends the caller now hands
// to River. A send already handed over (its claim lapsed) is left out, so
// it never gets a second job.
func ReleaseSendClaims(ctx context.Context, db DBTX, ids []int64) ([]int64, error) {
	rows, err := db.Query(ctx, `UPDATE messages SET rescue_at = NULL
		WHERE id = ANY($1) AND status = 'queued' AND rescue_at IS NOT NULL
		RETURNING id`, ids)
	if err != nil {
		return nil, fmt.Errorf("release send claims: %w", interpret(err))
	}
	return sortedIDs(rows)
}

// TakeLapsedSendClaims ends up to limit claims that lapsed before now on
// sends still queued — their process died or lost the database before it
// could send them — and returns those sends in id order.
func TakeLapsedSendClaims(ctx context.Context, db DBTX, now time.Time, limit int) ([]int64, error) {
	rows, err := db.Query(ctx, `UPDATE messages SET rescue_at = NULL
		WHERE id IN (SELECT id FROM messages WHERE status = 'queued' AND rescue_at <= $1
			ORDER BY rescue_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("take lapsed send claims: %w", interpret(err))
	}
	return sortedIDs(rows)
}

// sortedIDs collects RETURNING ids in id order, which is each
// conversation's sending order.
func sortedIDs(rows pgx.Rows) ([]int64, error) {
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, interpret(err)
	}
	slices.Sort(ids)
	return ids, nil
}
