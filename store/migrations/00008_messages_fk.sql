-- +goose Up
-- Two foreign keys of messages are checked by a query per inserted row,
-- and every webhook inserts two rows: the shopper's message and the bot's
-- reply. Those checks cost PostgreSQL about as much as the rest of the
-- statement that applies a message, and they can never fail:
--   * conversation_id: every message is written by a statement that takes
--     the id from its conversation's row, locked in the same transaction
--     (or created in it), and no conversation is ever deleted. A feature
--     that deletes conversations must delete their messages first.
--   * in_reply_to: it is set only by the statement that inserts the reply
--     together with the message it answers, to that message's new id; no
--     message is ever deleted.
-- The remaining foreign keys (agent_id, and those of other tables) are
-- off the path of a webhook, or checked once per conversation.
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_in_reply_to_fkey;

-- +goose Down
ALTER TABLE messages ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id);
ALTER TABLE messages ADD CONSTRAINT messages_in_reply_to_fkey FOREIGN KEY (in_reply_to) REFERENCES messages (id);
