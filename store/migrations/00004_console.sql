-- +goose Up
-- The agent console: the people who answer, how they sign in, what they
-- do to conversations, and the notes they keep for each other.

CREATE TABLE agents (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND email <> ''),
    name          text NOT NULL CHECK (name <> ''),
    -- admin: everything, including people and settings; agent: the
    -- conversation queue; social: the public comment queue only.
    role          text NOT NULL CHECK (role IN ('admin', 'agent', 'social')),
    -- An argon2id hash in PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
    password_hash text NOT NULL,
    -- Deactivated agents keep their history but cannot sign in; their
    -- sessions and API tokens stop working at once.
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_email ON agents (email);

-- A signed-in browser. The cookie holds a random 32-byte token; only its
-- SHA-256 is stored, so a copy of this table signs nobody in.
CREATE TABLE agent_sessions (
    token_hash   bytea PRIMARY KEY,
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id);
CREATE INDEX agent_sessions_expires ON agent_sessions (expires_at);

-- A bearer token for the JSON API. It acts as its agent, with the agent's
-- role; admins create and revoke them. Only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> ''),
    token_hash   bytea NOT NULL UNIQUE,
    created_by   bigint REFERENCES agents (id),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Sign-in attempts, for rate limiting across processes. email_key is the
-- SHA-256 of the lower-cased address typed, so mistyped passwords pasted
-- into the e-mail field are not kept readable.
CREATE TABLE sign_in_attempts (
    id        bigserial PRIMARY KEY,
    email_key bytea NOT NULL,
    ip        text NOT NULL,
    succeeded boolean NOT NULL DEFAULT false,
    at        timestamptz NOT NULL
);
CREATE INDEX sign_in_attempts_email ON sign_in_attempts (email_key, at) WHERE NOT succeeded;
CREATE INDEX sign_in_attempts_ip ON sign_in_attempts (ip, at) WHERE NOT succeeded;
CREATE INDEX sign_in_attempts_at ON sign_in_attempts (at);

ALTER TABLE conversations
    -- Who holds a handed-off conversation: set while the status is
    -- 'assigned' (always, then), cleared when it is unassigned, resolved
    -- (resolved_by keeps who closed it) or handed back to the bot.
    ADD COLUMN assignee_id       bigint REFERENCES agents (id),
    ADD COLUMN assigned_at       timestamptz,
    ADD COLUMN resolved_by       bigint REFERENCES agents (id),
    -- The first reply a person sent after the hand-off (first-response time).
    ADD COLUMN first_response_at timestamptz,
    -- Satisfaction: asked at resolution, answered by the shopper ("1".."5").
    ADD COLUMN csat_requested_at timestamptz,
    ADD COLUMN csat_score        smallint CHECK (csat_score BETWEEN 1 AND 5),
    ADD COLUMN csat_at           timestamptz,
    -- How often the shopper wrote again after resolution and reopened it.
    ADD COLUMN reopened_count    int NOT NULL DEFAULT 0,
    ADD CONSTRAINT conversations_assigned_has_assignee CHECK (status <> 'assigned' OR assignee_id IS NOT NULL);
CREATE INDEX conversations_assignee ON conversations (assignee_id) WHERE status IN ('queued', 'assigned');

-- Which agent wrote an outbound message (NULL for the bot, the system, and
-- people writing in Meta's own inbox).
ALTER TABLE messages ADD COLUMN agent_id bigint REFERENCES agents (id);

-- A customer merged into another by an agent: the identities and
-- conversations moved to merged_into; the row stays for the audit trail.
ALTER TABLE customers ADD COLUMN merged_into bigint REFERENCES customers (id);

-- Internal notes: agents to agents, never sent to the shopper.
CREATE TABLE notes (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id),
    agent_id        bigint NOT NULL REFERENCES agents (id),
    body            text NOT NULL CHECK (body <> ''),
    created_at      timestamptz NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, id);

-- What people did: claims, assignments, resolutions, hand-backs, customer
-- merges, changes to agents and tokens. agent_id is NULL for the command line.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    agent_id        bigint REFERENCES agents (id),
    action          text NOT NULL,
    conversation_id bigint REFERENCES conversations (id),
    customer_id     bigint REFERENCES customers (id),
    details         jsonb NOT NULL DEFAULT '{}',
    at              timestamptz NOT NULL
);
CREATE INDEX audit_log_conversation ON audit_log (conversation_id, id) WHERE conversation_id IS NOT NULL;
CREATE INDEX audit_log_customer ON audit_log (customer_id, id) WHERE customer_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_log;
DROP TABLE notes;
ALTER TABLE customers DROP COLUMN merged_into;
ALTER TABLE messages DROP COLUMN agent_id;
ALTER TABLE conversations
    DROP CONSTRAINT conversations_assigned_has_assignee,
    DROP COLUMN assignee_id,
    DROP COLUMN assigned_at,
    DROP COLUMN resolved_by,
    DROP COLUMN first_response_at,
    DROP COLUMN csat_requested_at,
    DROP COLUMN csat_score,
    DROP COLUMN csat_at,
    DROP COLUMN reopened_count;
DROP TABLE sign_in_attempts;
DROP TABLE api_tokens;
DROP TABLE agent_sessions;
DROP TABLE agents;
