package store

import (
	"context"
	"fmt"
	"time"
)

// UpsertChannel records a configured channel, keeping its run-time state.
func UpsertChannel(ctx context.Context, db DBTX, platform, externalID, name string) error {
	_, err := db.Exec(ctx, `INSERT INTO channels (platform, external_id, name) VALUES ($1, $2, $3)
		ON CONFLICT (platform, external_id) DO UPDATE SET name = EXCLUDED.name`, platform, externalID, name)
	if err != nil {
		return fmt.Errorf("upsert channel: %w", err)
	}
	return nil
}

// MarkChannelNeedsReauth flags a channel whose token the platform refused.
func MarkChannelNeedsReauth(ctx context.Context, db DBTX, platform, externalID, reason string, now time.Time) error {
	_, err := db.Exec(ctx, `INSERT INTO channels (platform, external_id, needs_reauth, reauth_reason, updated_at)
		VALUES ($1, $2, true, $3, $4)
		ON CONFLICT (platform, external_id) DO UPDATE SET needs_reauth = true, reauth_reason = $3, updated_at = $4`,
		platform, externalID, reason, now)
	if err != nil {
		return fmt.Errorf("mark channel needs re-authorization: %w", err)
	}
	return nil
}

// SaveWebhookFailure keeps a webhook body that could not be read.
func SaveWebhookFailure(ctx context.Context, db DBTX, source, reason string, body []byte) error {
	if _, err := db.Exec(ctx, `INSERT INTO webhook_failures (source, error, body) VALUES ($1, $2, $3)`,
		source, reason, body); err != nil {
		return fmt.Errorf("save unreadable webhook: %w", err)
	}
	return nil
}
