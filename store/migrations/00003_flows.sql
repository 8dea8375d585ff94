-- +goose Up
-- What an agent reads first when a conversation is handed off.
ALTER TABLE conversations ADD COLUMN handoff_summary jsonb;

-- +goose Down
ALTER TABLE conversations DROP COLUMN handoff_summary;
