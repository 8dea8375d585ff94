-- +goose Up
-- Raised by the statement that applies a shopper's message to a
-- conversation it did not lock beforehand (conversation.Service decides on
-- the state its own last commit left), when the conversation's row has
-- changed since: the whole transaction, COMMIT included, must not take
-- effect. The statement calls it only then.
-- +goose StatementBegin
CREATE FUNCTION frontdesk_conversation_changed(conversation_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'conversation % changed since it was last read', conversation_id
        USING ERRCODE = 'FD001';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION frontdesk_conversation_changed(bigint);
