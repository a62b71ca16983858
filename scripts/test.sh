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

# The pinned Node side of the interop tests (bullmq 6.7.0), from its lockfile.
interop=crates/server/tests/interop
if [ ! -d "$interop/node_modules/bullmq" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$interop" --no-audit --no-fund >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  echo "test.sh: cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast "$@"
fi
