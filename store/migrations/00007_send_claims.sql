-- +goose Up
-- A bot reply to a webhook is sent by the process that committed it, right
-- after the commit, without a River job (see outbox.Dispatcher). rescue_at
-- is when that process's claim on the send lapses: a reply still queued
-- then is handed to River, which retries it wherever a worker runs. NULL
-- means a River job owns the send (every other outbound message, and
-- replies handed over after a failed first try).
ALTER TABLE messages ADD COLUMN rescue_at timestamptz;
CREATE INDEX messages_rescue ON messages (rescue_at) WHERE status = 'queued' AND rescue_at IS NOT NULL;

-- +goose Down
DROP INDEX messages_rescue;
ALTER TABLE messages DROP COLUMN rescue_at;
