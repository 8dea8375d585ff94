-- +goose Up
-- Channels are the store's accounts on each platform (a Facebook Page, an
-- Instagram professional account). Configuration lives in the YAML file;
-- this table keeps what the gateway learns at run time.
CREATE TABLE channels (
    id            bigserial PRIMARY KEY,
    platform      text NOT NULL,
    external_id   text NOT NULL,
    name          text NOT NULL DEFAULT '',
    needs_reauth  boolean NOT NULL DEFAULT false,
    reauth_reason text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, external_id)
);

CREATE TABLE customers (
    id           bigserial PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- An identity is a customer as one channel knows them: a page-scoped id on
-- Messenger, an Instagram-scoped id, a WhatsApp id. Several identities can
-- point to one customer.
CREATE TABLE identities (
    id                 bigserial PRIMARY KEY,
    -- Deferred, so that a first contact inserts identity and customer in
    -- one statement, the identity first: on a concurrent first contact the
    -- identity insert does nothing and so does the customer insert.
    customer_id        bigint NOT NULL REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED,
    platform           text NOT NULL,
    channel_id         text NOT NULL,
    external_id        text NOT NULL,
    display_name       text NOT NULL DEFAULT '',
    profile_fetched_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, channel_id, external_id)
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE conversations (
    id              bigserial PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    identity_id     bigint NOT NULL REFERENCES identities (id),
    status          text NOT NULL DEFAULT 'bot'
                    CHECK (status IN ('bot', 'queued', 'assigned', 'resolved')),
    flow            text NOT NULL DEFAULT '',
    flow_state      text NOT NULL DEFAULT '',
    flow_data       jsonb NOT NULL DEFAULT '{}',
    -- events_applied counts the inbound events applied to this
    -- conversation; each inbound message records the count it made (seq),
    -- so the order events were applied in is visible and checkable.
    events_applied  bigint NOT NULL DEFAULT 0,
    handoff_reason  text NOT NULL DEFAULT '',
    priority        int NOT NULL DEFAULT 0,
    last_inbound_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    handed_off_at   timestamptz,
    resolved_at     timestamptz
);
-- One open conversation per identity; a message after resolution opens a new one.
CREATE UNIQUE INDEX conversations_open_identity ON conversations (identity_id) WHERE status <> 'resolved';
CREATE INDEX conversations_customer ON conversations (customer_id);
CREATE INDEX conversations_status ON conversations (status, priority DESC, handed_off_at) WHERE status IN ('queued', 'assigned');

CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    conversation_id     bigint NOT NULL REFERENCES conversations (id),
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    author              text NOT NULL CHECK (author IN ('customer', 'bot', 'agent', 'system')),
    kind                text NOT NULL,
    platform            text NOT NULL,
    -- The platform's id (mid). Unique per platform: a redelivered webhook
    -- finds its message already here and changes nothing.
    platform_message_id text,
    body                text NOT NULL DEFAULT '',
    attachments         jsonb NOT NULL DEFAULT '[]',
    quick_replies       jsonb NOT NULL DEFAULT '[]',
    payload             text NOT NULL DEFAULT '',
    reply_to            text NOT NULL DEFAULT '',
    seq                 bigint,
    -- For outbound: the inbound message it answers, if any.
    in_reply_to         bigint REFERENCES messages (id),
    status              text NOT NULL CHECK (status IN ('received', 'deleted', 'queued', 'sent', 'delivered', 'read', 'failed')),
    failure_reason      text NOT NULL DEFAULT '',
    platform_time       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    delivered_at        timestamptz,
    read_at             timestamptz
);
CREATE UNIQUE INDEX messages_platform_message ON messages (platform, platform_message_id) WHERE platform_message_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- A correctly signed webhook we could not read is kept here, whole, and
-- acknowledged: redelivery would not help, and nothing is thrown away.
CREATE TABLE webhook_failures (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    error       text NOT NULL,
    body        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE webhook_failures;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE identities;
DROP TABLE customers;
DROP TABLE channels;
