#!/usr/bin/env bash
# scripts/pg.sh — ensure a PostgreSQL is reachable and print its URL.
#
#   scripts/pg.sh [start]   ensure a database, print its URL on stdout (default)
#   scripts/pg.sh stop      stop the private cluster in .data/pg (if running)
#   scripts/pg.sh status    say whether the private cluster is running (exit 0/1)
#
# Resolution order for "start":
#   1. $DATABASE_URL, if set, is printed as-is.
#   2. A private cluster in <repo>/.data/pg (created on first use with the
#      local initdb/pg_ctl; found on PATH or in /usr/lib/postgresql/*/bin)
#      listening on 127.0.0.1:$FRONTDESK_PG_PORT (default 55432).
#   3. `docker compose up -d postgres` using the repo's docker-compose.yml.
#   4. Otherwise: explain what to install and exit 1.
#
# Only the URL goes to stdout; every diagnostic goes to stderr, so callers can
# do DATABASE_URL="$(scripts/pg.sh)".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DATA="$REPO/.data"
PGDATA_DIR="$DATA/pg"
SOCK_DIR="$DATA/pg-run"
LOG_FILE="$DATA/pg.log"
LOCK_FILE="$DATA/pg.lock"
# The port: $FRONTDESK_PG_PORT, else the one this checkout's cluster was
# given (.data/pg.port), else the first free one from 55432 — so clones of
# the repo side by side each get their own cluster.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port_from N sets PORT to the first free port from N (up to 55532).
free_port_from() {
	PORT="$1"
	while ! port_free "$PORT" && [ "$PORT" -lt 55532 ]; do PORT=$((PORT + 1)); done
}
if [ -n "${FRONTDESK_PG_PORT:-}" ]; then
	PORT="$FRONTDESK_PG_PORT"
elif [ -s "$DATA/pg.port" ]; then
	PORT="$(cat "$DATA/pg.port")"
elif [ -f "$PGDATA_DIR/frontdesk.conf" ]; then # a cluster made before pg.port existed
	PORT="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$PGDATA_DIR/frontdesk.conf")"
	PORT="${PORT:-55432}"
else
	free_port_from 55432
	if [ "${1:-start}" = start ]; then
		mkdir -p "$DATA" && echo "$PORT" >"$DATA/pg.port"
	fi
fi
DB_USER="frontdesk"
DB_NAME="frontdesk"
local_url() { LOCAL_URL="postgres://${DB_USER}@127.0.0.1:${PORT}/${DB_NAME}?sslmode=disable"; }
local_url
COMPOSE_URL="postgres://frontdesk:${POSTGRES_PASSWORD:-frontdesk}@127.0.0.1:${PORT}/frontdesk?sslmode=disable"

say() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# Run a command as the cluster owner: "postgres" when we are root (initdb and
# pg_ctl refuse to run as root), the current user otherwise.
as_pg() {
	if [ "$IS_ROOT" -eq 1 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# ---------------------------------------------------------------------------
# Locating the PostgreSQL server binaries.
# ---------------------------------------------------------------------------
PG_BIN=""

# has_server_bins DIR: DIR holds initdb and pg_ctl.
has_server_bins() { [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ]; }

# find_pg_bin [MAJOR]: set PG_BIN. With MAJOR (from an existing cluster's
# PG_VERSION) a matching installation is preferred.
find_pg_bin() {
	local want="${1:-}" p d
	PG_BIN=""
	if [ -n "$want" ] && has_server_bins "/usr/lib/postgresql/$want/bin"; then
		PG_BIN="/usr/lib/postgresql/$want/bin"
		return 0
	fi
	if p="$(command -v pg_ctl 2>/dev/null)" && command -v initdb >/dev/null 2>&1; then
		d="$(dirname "$(readlink -f "$p")")"
		if has_server_bins "$d"; then
			PG_BIN="$d"
			return 0
		fi
	fi
	# Newest version first.
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -V -r); do
		if has_server_bins "$d"; then
			PG_BIN="$d"
			return 0
		fi
	done
	return 1
}

# pgtool NAME: path of a client tool, preferring the server's bin dir.
pgtool() {
	if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/$1" ]; then
		printf '%s\n' "$PG_BIN/$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		return 1
	fi
}

cluster_major() { [ -f "$PGDATA_DIR/PG_VERSION" ] && cat "$PGDATA_DIR/PG_VERSION"; }

# ---------------------------------------------------------------------------
# Private cluster.
# ---------------------------------------------------------------------------

# local_ready: our cluster (postmaster.pid present, our port) answers.
local_ready() {
	local isready pid
	[ -f "$PGDATA_DIR/postmaster.pid" ] || return 1
	# Line 4 of postmaster.pid is the port.
	[ "$(sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null)" = "$PORT" ] || return 1
	# Line 1 is the postmaster PID; a stale file must not make another
	# server on the same port look like ours.
	pid="$(sed -n 1p "$PGDATA_DIR/postmaster.pid" 2>/dev/null)"
	[ -n "$pid" ] && { kill -0 "$pid" 2>/dev/null || [ -d "/proc/$pid" ]; } || return 1
	isready="$(pgtool pg_isready)" || return 1
	"$isready" -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -t 2 >/dev/null 2>&1
}

ensure_database() {
	local psql have
	psql="$(pgtool psql)" || die "psql not found next to $PG_BIN nor on PATH"
	have="$("$psql" -X -At -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>&1)" ||
		die "cannot query the private cluster: $have (log: $LOG_FILE)"
	if [ "$have" != "1" ]; then
		say "creating database $DB_NAME"
		"$psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres \
			-c "CREATE DATABASE \"$DB_NAME\"" >&2 ||
			die "could not create database $DB_NAME"
	fi
}

# Settings for a dev/test box. Durability stays on (fsync, synchronous_commit,
# full_page_writes): tests must see the same guarantees production has.
write_settings() {
	local sock="$SOCK_DIR"
	# Unix socket paths are limited to ~107 bytes; we only use TCP anyway.
	if [ $((${#sock} + 20)) -gt 100 ]; then
		say "warning: $sock is too long for a unix socket; TCP only"
		sock=""
	fi
	cat >"$PGDATA_DIR/frontdesk.conf" <<CONF
# Written by scripts/pg.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 2GB
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_lock_waits = on
CONF
	[ "$IS_ROOT" -eq 1 ] && chown postgres:postgres "$PGDATA_DIR/frontdesk.conf"
	return 0
}

init_cluster() {
	local locale_args=(--no-locale)
	# A UTF-8 C locale keeps sorting deterministic while upper()/lower()
	# still understand non-ASCII text.
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale_args=(--locale=C.UTF-8)
	fi
	say "initialising private cluster in $PGDATA_DIR ($("$PG_BIN/initdb" --version))"
	as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" --auth=trust -U "$DB_USER" \
		--encoding=UTF8 "${locale_args[@]}" >>"$LOG_FILE" 2>&1 ||
		die "initdb failed; see $LOG_FILE"
	printf "\ninclude_if_exists = 'frontdesk.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
}

prepare_dirs() {
	mkdir -p "$DATA" "$SOCK_DIR"
	[ -e "$PGDATA_DIR" ] || mkdir -m 700 "$PGDATA_DIR"
	touch "$LOG_FILE"
	if [ "$IS_ROOT" -eq 1 ]; then
		chown postgres:postgres "$PGDATA_DIR" "$SOCK_DIR" "$LOG_FILE"
		chmod 700 "$PGDATA_DIR"
		if ! runuser -u postgres -- test -w "$SOCK_DIR"; then
			die "user 'postgres' cannot reach $DATA (a parent directory of the
    repo is not searchable by others, e.g. /root). Move the checkout, make its
    parents world-searchable (chmod o+x), or set DATABASE_URL."
		fi
	fi
}

start_local() {
	local major pg_ctl isready i

	mkdir -p "$DATA"
	# Serialise concurrent callers (e.g. `make run` and `make test`).
	# fd 9 must not leak into the postmaster, hence the 9>&- below.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$LOCK_FILE"
		flock -w 300 9 || die "timed out waiting for $LOCK_FILE"
	fi
	if local_ready; then
		ensure_database
		return 0
	fi

	prepare_dirs
	if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
		major="$(cluster_major)"
		find_pg_bin "$major" || die "no PostgreSQL binaries found"
		local have_major
		have_major="$("$PG_BIN/pg_ctl" --version | awk '{ split($3, v, "."); print v[1] }')"
		if [ "$have_major" != "$major" ]; then
			die "$PGDATA_DIR was created by PostgreSQL $major but only $have_major
    is installed ($PG_BIN). Remove it (scripts/pg.sh stop; rm -rf .data/pg) to
    recreate it."
		fi
	elif [ -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]; then
		die "$PGDATA_DIR exists but is not a PostgreSQL cluster; remove it"
	else
		init_cluster
	fi
	write_settings

	pg_ctl="$PG_BIN/pg_ctl"
	say "starting private cluster on 127.0.0.1:$PORT (log: $LOG_FILE)"
	local tries=0 logged
	until logged="$(wc -l <"$LOG_FILE")" &&
		as_pg "$pg_ctl" start -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 </dev/null >&2 9>&-; do
		tries=$((tries + 1))
		# A port nothing listens on may still be taken: a client connection
		# (even one in TIME_WAIT) can hold it as its local port, and ports
		# from 32768 up are handed out for those. Unless the port was chosen
		# (FRONTDESK_PG_PORT), move the cluster to the next free one.
		if [ -z "${FRONTDESK_PG_PORT:-}" ] && [ "$tries" -lt 10 ] &&
			tail -n "+$((logged + 1))" "$LOG_FILE" | grep -q "Address already in use"; then
			free_port_from $((PORT + 1))
			echo "$PORT" >"$DATA/pg.port"
			local_url
			write_settings
			say "port taken; starting on 127.0.0.1:$PORT instead"
			continue
		fi
		tail -n 20 "$LOG_FILE" >&2 || true
		die "pg_ctl start failed (is port $PORT taken? set FRONTDESK_PG_PORT); see $LOG_FILE"
	done
	isready="$(pgtool pg_isready)" || die "pg_isready not found"
	for i in $(seq 1 60); do
		if "$isready" -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -t 2; then
			break
		fi
		[ "$i" -eq 60 ] && die "PostgreSQL did not become ready; see $LOG_FILE"
		sleep 0.5
	done
	ensure_database
}

stop_local() {
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		say "no private cluster in $PGDATA_DIR"
		return 0
	fi
	if [ ! -f "$PGDATA_DIR/postmaster.pid" ]; then
		say "private cluster is not running"
		return 0
	fi
	find_pg_bin "$(cluster_major)" || die "no PostgreSQL binaries found to stop $PGDATA_DIR"
	say "stopping private cluster in $PGDATA_DIR"
	as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 >&2
}

status_local() {
	if [ -f "$PGDATA_DIR/PG_VERSION" ] && find_pg_bin "$(cluster_major)" && local_ready; then
		say "private cluster running: $LOCAL_URL"
		return 0
	fi
	say "private cluster not running"
	return 1
}

# local_possible: we can create/run a private cluster on this machine.
local_possible() {
	find_pg_bin "$(cluster_major || true)" || return 1
	if [ "$IS_ROOT" -eq 1 ]; then
		if ! id postgres >/dev/null 2>&1; then
			say "found $PG_BIN but running as root without a 'postgres' user to own the cluster"
			return 1
		fi
		command -v runuser >/dev/null 2>&1 || { say "runuser not found"; return 1; }
	fi
	return 0
}

# ---------------------------------------------------------------------------
# docker compose fallback.
# ---------------------------------------------------------------------------
COMPOSE=()
find_compose() {
	if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
		COMPOSE=(docker compose)
	elif command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
		COMPOSE=(docker-compose)
	else
		return 1
	fi
}

start_compose() {
	local i
	cd "$REPO"
	say "starting postgres with ${COMPOSE[*]} (port $PORT)"
	FRONTDESK_PG_PORT="$PORT" "${COMPOSE[@]}" up -d postgres >&2 ||
		die "'${COMPOSE[*]} up -d postgres' failed (is the Docker engine running?)"
	for i in $(seq 1 120); do
		if "${COMPOSE[@]}" exec -T postgres pg_isready -q -U frontdesk -d frontdesk >/dev/null 2>&1; then
			printf '%s\n' "$COMPOSE_URL"
			return 0
		fi
		sleep 1
	done
	die "the compose postgres service did not become ready; try: ${COMPOSE[*]} logs postgres"
}

# ---------------------------------------------------------------------------

cmd="${1:-start}"
case "$cmd" in
start | url | "")
	if [ -n "${DATABASE_URL:-}" ]; then
		printf '%s\n' "$DATABASE_URL"
		exit 0
	fi
	# Fast path: already running, nothing to take a lock for.
	if [ -f "$PGDATA_DIR/postmaster.pid" ] && find_pg_bin "$(cluster_major || true)" && local_ready; then
		ensure_database
		printf '%s\n' "$LOCAL_URL"
		exit 0
	fi
	if local_possible; then
		start_local
		printf '%s\n' "$LOCAL_URL"
		exit 0
	fi
	if find_compose; then
		start_compose
		exit 0
	fi
	cat >&2 <<MSG
pg.sh: no PostgreSQL available. Do one of:
  - install the server locally:  apt-get install postgresql   (Debian/Ubuntu)
                                 brew install postgresql@16    (macOS)
    and re-run; a private cluster is created in .data/pg on port $PORT;
  - install Docker with the compose plugin (uses docker-compose.yml);
  - or point at an existing database:
        export DATABASE_URL='postgres://user:pass@host:5432/db?sslmode=disable'
MSG
	exit 1
	;;
stop)
	stop_local
	;;
status)
	status_local
	;;
-h | --help | help)
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	;;
*)
	die "unknown command '$cmd' (use: start | stop | status)"
	;;
esac
