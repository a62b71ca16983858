#!/usr/bin/env bash
# The test command: runs every test of the workspace (unit, property, integration,
# end-to-end, and the BullMQ interop tests against the real `bullmq` npm package on Redis).
# Starts Redis when it is not running and installs the pinned Node packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null || { echo "test.sh: $1 is required ($2)" >&2; exit 1; }
}
need cargo "install Rust: https://rustup.rs"
need node "install Node.js 20+ (e.g. apt-get install nodejs npm)"
need npm "install npm"
need redis-cli "install Redis (e.g. apt-get install redis-server)"
need curl "install curl (apt-get install curl): the README test runs its curl commands"
need sqlite3 "install the SQLite shell (apt-get install sqlite3): the metrics test reads the embedded store with it"

# Redis on 127.0.0.1:6379 for the interop tests (each test uses its own key prefix).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  need redis-server "install Redis (e.g. apt-get install redis-server)"
  echo "test.sh: starting redis-server on 127.0.0.1:6379" >&2
  mkdir -p /tmp/zs-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/zs-redis --logfile /tmp/zs-redis/redis.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "test.sh: Redis did not start (see /tmp/zs-redis/redis.log)" >&2; exit 1; }
fi

# PostgreSQL for the PostgreSQL-store tests (each test creates its own schema). Uses
# ZS_TEST_DATABASE_URL when set; otherwise the local server's `test` database, started
# through the Debian cluster tools when it is not running.
if [ -z "${ZS_TEST_DATABASE_URL:-}" ]; then
  need pg_isready "install PostgreSQL (apt-get install postgresql) or set ZS_TEST_DATABASE_URL"
  need psql "install the PostgreSQL client (apt-get install postgresql-client)"
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "test.sh: starting PostgreSQL" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 100); do
        pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
        sleep 0.1
      done
    fi
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || {
      echo "test.sh: PostgreSQL is not running on 127.0.0.1:5432 and could not be started;" >&2
      echo "  install it (apt-get install postgresql) or set ZS_TEST_DATABASE_URL=postgres://user@host:port/db" >&2
      exit 1
    }
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null 2>&1 || true
  fi
  # Schemas left by earlier runs (every test makes its own `zs_t_…` schema).
  psql -h 127.0.0.1 -U postgres -d test -Atc "select nspname from pg_namespace where nspname like 'zs\_t\_%'" 2>/dev/null |
    while read -r s; do psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA \"$s\" CASCADE" >/dev/null 2>&1 || true; done
fi

# The pinned Node side of the interop tests (bullmq 6.7.0), from its lockfile.
interop=crates/server/tests/interop
if [ ! -d "$interop/node_modules/bullmq" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$interop" --no-audit --no-fund >&2
fi
# The pinned client generator (openapi-typescript, typescript, openapi-fetch) that the
# OpenAPI client-generation test runs, from its lockfile.
clientgen=crates/api/tests/client-gen
if [ ! -d "$clientgen/node_modules/openapi-typescript" ] || [ "$clientgen/package-lock.json" -nt "$clientgen/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$clientgen" --no-audit --no-fund >&2
fi

# The browser tests (crates/server/tests/browser.rs): Debian's Chromium, driven by the pinned
# playwright-core. Chromium is installed with apt-get where it is missing and we may;
# otherwise the test says what to install (or set ZS_CHROMIUM to a Chromium binary).
browser=crates/server/tests/browser
if [ ! -d "$browser/node_modules/playwright-core" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$browser" --no-audit --no-fund >&2
fi
if [ -z "${ZS_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's chromium for the browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
      { echo "test.sh: could not install chromium (apt-get install chromium), or set ZS_CHROMIUM" >&2; exit 1; }
  else
    echo "test.sh: the browser tests need Chromium: apt-get install chromium (as root), or set ZS_CHROMIUM=/path/to/chromium" >&2
    exit 1
  fi
fi

# Python's dateutil cross-checks the series expansion (crates/core/tests/rrule_dateutil.rs).
need python3 "install Python 3 (apt-get install python3): a test compares RRULE expansions with dateutil"
if ! python3 -c 'import dateutil.rrule, zoneinfo' 2>/dev/null; then
  echo "test.sh: installing python-dateutil for the RRULE cross-check" >&2
  python3 -m pip install --quiet python-dateutil 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages python-dateutil 2>/dev/null ||
    { echo "test.sh: python-dateutil is needed: pip install python-dateutil (or apt-get install python3-dateutil)" >&2; exit 1; }
fi

# The README test (crates/server/tests/readme.rs) runs `cargo run --release -- serve` as
# written; build that binary first so the service starts at once inside the test.
cargo build --release --bin zs-scheduler

status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@" || status=$?
else
  echo "test.sh: cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast "$@" || status=$?
fi

# Then fuzz the API from its OpenAPI document (schemathesis; see scripts/fuzz-api.sh). Its
# report goes to target/fuzz-api.log, so the test runner's summary stays the last word.
if [ "${SKIP_FUZZ:-}" != 1 ]; then
  echo "test.sh: fuzzing the API (scripts/fuzz-api.sh; report in target/fuzz-api.log)" >&2
  if ! ./scripts/fuzz-api.sh >target/fuzz-api.log 2>&1; then
    tail -n 60 target/fuzz-api.log >&2
    echo "test.sh: the API fuzz failed (full report: target/fuzz-api.log)" >&2
    [ "$status" -ne 0 ] || status=1
  else
    tail -n 1 target/fuzz-api.log >&2
  fi
fi
exit "$status"
