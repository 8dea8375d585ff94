-- +goose Up
-- Orders of a store that keeps them in Frontdesk (imported from a file or
-- pushed to POST /api/orders) rather than in an order system Frontdesk asks
-- over HTTP. Amounts are in the currency's minor unit (cents).
CREATE TABLE orders (
    number        text PRIMARY KEY, -- without "#"
    customer_name text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    phone         text NOT NULL DEFAULT '',
    currency      text NOT NULL,
    total         bigint NOT NULL CHECK (total >= 0),
    placed_at     timestamptz NOT NULL,
    promised_by   timestamptz,
    status        text NOT NULL CHECK (status IN ('open', 'cancelled', 'closed')),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Shoppers who do not know their order number are found by e-mail or phone.
CREATE INDEX orders_email ON orders (lower(email)) WHERE email <> '';
CREATE INDEX orders_phone ON orders (phone) WHERE phone <> '';

CREATE TABLE order_items (
    order_number text NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position     int NOT NULL,
    sku          text NOT NULL,
    title        text NOT NULL DEFAULT '',
    quantity     int NOT NULL CHECK (quantity > 0),
    price        bigint NOT NULL CHECK (price >= 0), -- per unit
    final_sale   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (order_number, position)
);

CREATE TABLE fulfillments (
    order_number    text NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position        int NOT NULL,
    carrier         text NOT NULL DEFAULT '',
    tracking_number text NOT NULL DEFAULT '',
    tracking_url    text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('pending', 'in_transit', 'delivered', 'failed')),
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    last_scan_at    timestamptz,
    label_url       text NOT NULL DEFAULT '',
    PRIMARY KEY (order_number, position)
);

-- Returns and damage cases are Frontdesk's own records, whichever system
-- holds the orders: order_number is not a foreign key.
--
-- idempotency_key makes creation safe to retry: the worker that creates a
-- record for a conversation passes a key derived from the event, and a
-- second attempt finds the first record. A NULL key means no
-- de-duplication. The unique (conversation_id, idempotency_key) index also
-- serves look-ups by conversation.
CREATE TABLE returns (
    id              bigserial PRIMARY KEY,
    rma             text NOT NULL UNIQUE,
    order_number    text NOT NULL,
    conversation_id bigint REFERENCES conversations (id),
    idempotency_key text,
    skus            text[] NOT NULL,
    reason          text NOT NULL DEFAULT '',
    resolution      text NOT NULL DEFAULT ''
                    CHECK (resolution IN ('', 'refund', 'exchange', 'store_credit')),
    label_url       text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'approved', 'received', 'refunded', 'rejected')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, idempotency_key)
);
-- NULLs are distinct in the unique constraint; records made outside a
-- conversation (by an agent, a script) are de-duplicated by key alone.
CREATE UNIQUE INDEX returns_key_without_conversation ON returns (idempotency_key) WHERE conversation_id IS NULL;
CREATE INDEX returns_order ON returns (order_number);

CREATE TABLE damage_cases (
    id              bigserial PRIMARY KEY,
    order_number    text NOT NULL,
    conversation_id bigint REFERENCES conversations (id),
    idempotency_key text,
    sku             text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    evidence_urls   text[] NOT NULL DEFAULT '{}',
    value           bigint NOT NULL DEFAULT 0 CHECK (value >= 0),
    resolution      text NOT NULL DEFAULT ''
                    CHECK (resolution IN ('', 'refund', 'replacement')),
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'approved', 'escalated', 'closed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, idempotency_key)
);
CREATE UNIQUE INDEX damage_cases_key_without_conversation ON damage_cases (idempotency_key) WHERE conversation_id IS NULL;
CREATE INDEX damage_cases_order ON damage_cases (order_number);

-- +goose Down
DROP TABLE damage_cases;
DROP TABLE returns;
DROP TABLE fulfillments;
DROP TABLE order_items;
DROP TABLE orders;
