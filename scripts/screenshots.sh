#!/usr/bin/env bash
# Regenerates docs/screenshots/ (the README shows them): runs the browser test, which drives
# the dashboard and a door panel through each room state in Chromium and saves a PNG of each.
# Needs what ./scripts/test.sh installs for the browser tests (Chromium, playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."
export ZS_SCREENSHOTS="$PWD/docs/screenshots"
cargo test -p zs-scheduler --test browser -- --nocapture
ls -1 "$ZS_SCREENSHOTS"
