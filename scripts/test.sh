#!/usr/bin/env bash
# The test command: runs every test of the workspace (unit, property, integration, end-to-end).
# Embedded tests need no server. Later suites that need PostgreSQL or Redis start them here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "test.sh: cargo is not installed (https://rustup.rs)" >&2
  exit 1
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  echo "test.sh: cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast "$@"
fi
