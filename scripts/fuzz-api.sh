#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis (pinned below): every
# operation gets generated valid and invalid requests, and every response must be a non-5xx,
# with a status code, content type and body the document declares.
#
#   scripts/fuzz-api.sh [--seed N] [--max-examples N]     (FUZZ_SEED / FUZZ_MAX_EXAMPLES too;
#                                                          FUZZ_CHECKS picks schemathesis checks)
#
# It starts the debug binary (built as scripts/test.sh builds it) on 127.0.0.1 with a fresh
# data directory and a random admin token, and sends traffic to nothing else:
# - where `unshare -n` works (root, or user namespaces), server and fuzzer run in a network
#   namespace of their own that has only a loopback interface: every outbound attempt (a
#   webhook the fuzzer created, its DNS lookup) fails on the spot, and is tried only once
#   (ZS_WEBHOOK_RETRY=0s); no status URL is set;
# - without the namespace, no webhook may exist: POST /v1/webhooks and the delivery replay
#   (with GET /v1/webhooks) are left out, so the server has nowhere to send anything.
# The rate limits are off for the run (their own tests cover them) so that the fuzzer's pace
# cannot change what it sees.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
seed=${FUZZ_SEED:-$RANDOM}
max_examples=${FUZZ_MAX_EXAMPLES:-40}
checks=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --max-examples) max_examples=$2; shift 2 ;;
    --in-namespace) in_ns=1; shift ;;
    *) echo "fuzz-api.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() { echo "fuzz-api.sh: $*" >&2; exit 1; }

if [ -z "${in_ns:-}" ]; then
  command -v python3 >/dev/null ||
    fail "python3 is required to fuzz the API (apt-get install python3 python3-venv)"
  venv=target/fuzz-venv
  if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    rm -rf "$venv"
    python3 -m venv "$venv" >/dev/null 2>&1 ||
      fail "python3 cannot create a virtual environment (apt-get install python3-venv)"
    "$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
      fail "pip is missing in the virtual environment (apt-get install python3-pip python3-venv)"
    echo "fuzz-api.sh: installing schemathesis==$SCHEMATHESIS_VERSION into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION" ||
      fail "pip could not install schemathesis==$SCHEMATHESIS_VERSION (is PyPI reachable?)"
  fi
  cargo build --quiet -p zs-scheduler --bin zs-scheduler
  # Everything below again, inside a network namespace with only loopback, when we may.
  if [ -z "${FUZZ_NO_NAMESPACE:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
    unshare -n true 2>/dev/null; then
    exec unshare -n "$0" --in-namespace --seed "$seed" --max-examples "$max_examples"
  fi
  echo "fuzz-api.sh: no network namespace (unshare -n or ip missing or not permitted):" \
    "leaving out /v1/webhooks (GET, POST) and the delivery replay, so nothing can be sent" >&2
  exclude=(--exclude-path '/v1/deliveries/{id}/retry' --exclude-path /v1/webhooks)
else
  ip link set lo up || fail "could not bring the network namespace's loopback up"
  exclude=()
fi

venv=target/fuzz-venv
dir=$(mktemp -d "${TMPDIR:-/tmp}/zs-fuzz.XXXXXX")
token="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
env -u ZS_STATUS_URL -u ZS_REDIS_URL -u ZS_DATABASE_URL \
  ZS_ADMIN_TOKEN="$token" ZS_LOG=warn ZS_RATE_LIMIT=0 ZS_AUTH_FAILURE_LIMIT=0 \
  ZS_ALLOW_PRIVATE_WEBHOOKS=false ZS_WEBHOOK_RETRY=0s \
  target/debug/zs-scheduler serve --listen 127.0.0.1:0 --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

base=
for _ in $(seq 1 100); do
  base=$(sed -n 's/^zs-scheduler listening on //p' "$dir/server.log")
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$base" ] || { cat "$dir/server.log" >&2; fail "the server did not start"; }
case "$base" in http://127.0.0.1:*) ;; *) fail "the server is not on 127.0.0.1: $base" ;; esac

# Something to find: a space, a booking (its booking.created delivery) and a webhook to a
# name that never resolves; the fuzzer draws ids, zones and instants from these often, so
# that requests reach the handlers' logic rather than stopping at "not found".
api() {
  curl -sS --fail-with-body -X "$1" "$base$2" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' ${3:+-d "$3"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
at() { date -u -d "+$1 min" +%Y-%m-%dT%H:%M:%SZ; }
api POST /v1/spaces '{"id": "fuzz-space", "name": "Fuzz", "timezone": "UTC", "upcomingLead": "PT1M", "noShowGrace": "PT1M", "cleaning": "PT1M"}' >/dev/null
ids='"fuzz-space", "fuzz-booking"'
if [ ${#exclude[@]} -eq 0 ]; then
  webhook=$(api POST /v1/webhooks '{"url": "https://fuzz.invalid/hook"}' | field '["id"]')
  ids="$ids, \"$webhook\""
fi
api POST /v1/bookings "{\"id\": \"fuzz-booking\", \"spaceId\": \"fuzz-space\", \"start\": \"$(at 60)\", \"end\": \"$(at 90)\"}" >/dev/null
if [ -n "${webhook:-}" ]; then
  delivery=$(api GET "/v1/webhooks/$webhook/deliveries" | field '["items"][0]["id"]')
  ids="$ids, \"$delivery\""
fi
cat >"$dir/schemathesis.toml" <<TOML
[dictionaries.ids]
values = [$ids]
[dictionaries.zones]
values = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Mars/Olympus"]
[dictionaries.instants]
values = ["$(at 5)", "$(at 30)", "$(at 120)", "$(at 180)", "$(at 2000)", "$(at -60)"]
[parameters]
"path.id" = { dictionary = "ids", probability = 0.6 }
"query.spaceId" = { dictionary = "ids", probability = 0.5 }
"body.spaceId" = { dictionary = "ids", probability = 0.6 }
"body.timezone" = { dictionary = "zones", probability = 0.7 }
"body.start" = { dictionary = "instants", probability = 0.6 }
"body.end" = { dictionary = "instants", probability = 0.6 }
"query.from" = { dictionary = "instants", probability = 0.5 }
"query.to" = { dictionary = "instants", probability = 0.5 }
TOML

echo "fuzz-api.sh: schemathesis $SCHEMATHESIS_VERSION against $base (seed $seed, at most $max_examples cases per operation)" >&2
started=$(date +%s)
status=0
# From the temporary directory, so that schemathesis keeps its cache there. One worker: with
# two threads, hypothesis's lambda descriptions call ast.parse concurrently, which CPython
# 3.11.7 (this machine's) can fail with "SystemError: AST constructor recursion depth
# mismatch" — a tool crash reported as a runtime error, not a finding about the API.
st="$PWD/$venv/bin/st"
(cd "$dir" && "$st" --config-file "$dir/schemathesis.toml" run "$base/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks "$checks" \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers 1 \
  --request-timeout 10 \
  --no-color \
  --output-sanitize true \
  "${exclude[@]}") || status=$?
elapsed=$(( $(date +%s) - started ))
if ! kill -0 "$server" 2>/dev/null; then
  cat "$dir/server.log" >&2
  fail "the server died during the fuzz (seed $seed)"
fi
if grep -q "panicked\|request handler panicked" "$dir/server.log"; then
  grep "panicked" "$dir/server.log" >&2
  fail "the server panicked during the fuzz (seed $seed)"
fi
if [ "$status" -ne 0 ]; then
  fail "schemathesis found failures (seed $seed, ${elapsed}s); rerun with: scripts/fuzz-api.sh --seed $seed --max-examples $max_examples"
fi
echo "fuzz-api.sh: passed in ${elapsed}s (seed $seed)" >&2
