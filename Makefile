# frontdesk — developer entry points. Run `make` for the list of targets.
#
# Targets that need PostgreSQL get DATABASE_URL from scripts/pg.sh, which
# prints $DATABASE_URL when it is set and otherwise starts (or reuses) a
# private cluster in .data/pg on 127.0.0.1:55432.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
PKG         := ./cmd/frontdesk
BIN         := bin/frontdesk
CONFIG      ?= configs/demo.yaml
DEMO_ORDERS ?= configs/demo-orders.jsonl
TEST_FLAGS  ?=
BENCH_DURATION ?= 20s
BENCH_FLAGS ?=

# Prefix for recipes that need a database. Written as an assignment followed by
# && so that a failing scripts/pg.sh stops the recipe instead of running the
# command with an empty DATABASE_URL.
WITH_DB = DATABASE_URL="$$(scripts/pg.sh)" && export DATABASE_URL &&

# Go sources, skipping the database dir, dependencies and build output.
GOFILES_CMD = find . -type d \( -name .git -o -name .data -o -name node_modules \
	-o -name vendor -o -name bin \) -prune -o -type f -name '*.go' -print0

.PHONY: help run test bench build migrate lint vet fmt db db-stop clean

help: ## Show this help
	@echo "Usage: make <target> [VAR=value]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: DATABASE_URL (default: scripts/pg.sh), CONFIG=$(CONFIG),"
	@echo "           TEST_FLAGS, BENCH_DURATION=$(BENCH_DURATION), BENCH_FLAGS"

run: build ## Start the gateway with CONFIG, after seeding the demo store's orders
	@$(WITH_DB) $(BIN) orders import $(DEMO_ORDERS) && $(BIN) serve --config $(CONFIG)

test: vet ## go vet, then all tests with -race against DATABASE_URL
	@$(WITH_DB) $(GO) test -race -count=1 $(TEST_FLAGS) ./...

bench: ## Run the load generator for BENCH_DURATION (extra flags: BENCH_FLAGS)
	@$(WITH_DB) $(GO) run $(PKG) loadgen --duration $(BENCH_DURATION) $(BENCH_FLAGS)

build: ## Build bin/frontdesk
	$(GO) build -o $(BIN) $(PKG)

migrate: ## Apply database migrations to DATABASE_URL
	@$(WITH_DB) $(GO) run $(PKG) migrate --config $(CONFIG)

vet: ## go vet ./...
	$(GO) vet ./...

lint: vet ## Check formatting (gofmt -l) and go vet
	@out="$$($(GOFILES_CMD) | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then \
		echo "These files need gofmt (run: make fmt):"; echo "$$out"; exit 1; \
	fi; echo "gofmt: ok"

fmt: ## Format all Go files with gofmt -w
	@$(GOFILES_CMD) | xargs -0 -r gofmt -w

db: ## Ensure the development database is up and print its URL
	@scripts/pg.sh

db-stop: ## Stop the private PostgreSQL cluster in .data/pg
	@scripts/pg.sh stop

clean: ## Remove build and test output (keeps the database in .data)
	rm -rf bin
	find . -type d \( -name .git -o -name .data -o -name node_modules \) -prune -o \
		-type f \( -name '*.test' -o -name '*.out' -o -name '*.prof' \) -print -exec rm -f {} +
