-- +goose Up
-- A long text goes out as several platform messages. parts_sent counts
-- those an earlier try delivered before a later one failed, so that the
-- retry sends only the rest and the shopper does not read a part twice.
ALTER TABLE messages ADD COLUMN parts_sent smallint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN parts_sent;
