-- +goose Up
-- Every conversation of an identity, whatever its status: read receipts
-- (all messages sent to a shopper up to a watermark) and the look-up of a
-- shopper's last resolved conversation start from the identity. Without
-- it both scan the whole table, and first contacts slow down as it grows.
CREATE INDEX conversations_identity ON conversations (identity_id, resolved_at DESC);

-- +goose Down
DROP INDEX conversations_identity;
