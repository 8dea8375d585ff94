-- +goose Up
-- River indexes every job's args and metadata with GIN, for searching jobs
-- in River's UI by their arguments. Frontdesk never searches jobs that way,
-- and each send job is inserted, fetched and completed once per reply:
-- three non-HOT row versions, each adding GIN entries, and GIN's pending
-- list is flushed by whichever insert finds it full — a webhook waiting for
-- its acknowledgement. Dropping the two indexes removes that cost; River's
-- reindexer is told not to look for them (gateway.riverReindexed).
DROP INDEX IF EXISTS river_job_args_index;
DROP INDEX IF EXISTS river_job_metadata_index;

-- +goose Down
CREATE INDEX IF NOT EXISTS river_job_args_index ON river_job USING GIN (args);
CREATE INDEX IF NOT EXISTS river_job_metadata_index ON river_job USING GIN (metadata);
