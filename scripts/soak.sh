#!/usr/bin/env bash
# The soak run (not part of CI): the SIGKILL loops of crates/server/tests/faults.rs with
# 200 kills each (ZS_SOAK_KILLS), one after the other, printing their figures. The load is
# sized to the kill count (about 2 s per kill: ~7 min per loop at 200).
#
#   ./scripts/soak.sh                      # both loops, 200 kills each
#   ZS_SOAK_KILLS=50 ./scripts/soak.sh     # shorter
#   ZS_FAULT_SEED=123 ./scripts/soak.sh    # repeat a run (the seed is printed)
#   ./scripts/soak.sh embedded             # only the embedded-store loop
#
# Needs Redis on 127.0.0.1:6379 and PostgreSQL with a `test` database (ZS_TEST_DATABASE_URL,
# default postgres://postgres@127.0.0.1:5432/test) for the scale-out loop: run
# ./scripts/test.sh once, it starts both when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export ZS_SOAK_KILLS="${ZS_SOAK_KILLS:-200}"
filter='sigkill_loop'
case "${1:-}" in
  embedded) filter='sigkill_loop_on_the_embedded_store' ;;
  scaleout) filter='sigkill_loop_on_redis_and_postgres' ;;
  "") ;;
  *) echo "usage: $0 [embedded|scaleout]" >&2; exit 2 ;;
esac
if [ "$filter" != 'sigkill_loop_on_the_embedded_store' ]; then
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ||
    { echo "soak.sh: Redis is not running on 127.0.0.1:6379 (./scripts/test.sh starts it)" >&2; exit 1; }
  if [ -z "${ZS_TEST_DATABASE_URL:-}" ]; then
    pg_isready -h 127.0.0.1 -p 5432 -q ||
      { echo "soak.sh: PostgreSQL is not running on 127.0.0.1:5432 (./scripts/test.sh starts it)" >&2; exit 1; }
  fi
fi
echo "soak.sh: $ZS_SOAK_KILLS kills per loop" >&2
start=$(date +%s)
# `cargo test`, not nextest: a 200-kill loop outlasts the CI profile's slow-test limit. One
# loop at a time: each already runs several processes, and the figures stay readable.
# The whole output (with the servers' warnings and errors on a failure) is kept in $log.
log="target/soak-$(date +%Y%m%dT%H%M%S).log"
mkdir -p target
set +e
cargo test -p zs-scheduler --test faults -- --include-ignored --nocapture --test-threads 1 "$filter" 2>&1 |
  tee "$log" | grep --line-buffered -E '^\[(embedded|scale-out)\]|^test |panicked|test result'
status=${PIPESTATUS[0]}
set -e
echo "soak.sh: done in $(( $(date +%s) - start )) s (exit $status); full output in $log" >&2
exit "$status"
