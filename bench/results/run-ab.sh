#!/usr/bin/env bash
# A/B session: every configuration runs bullmq-node and zs-scheduler back to back
# (order flipped each round), REPEATS rounds. One JSONL per label.
set -u
cd "$(dirname "$0")"
REPEATS=${REPEATS:-2}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
ZS=/work/main/target/release/zs-bench-consumer
run() { # label args...
  local label=$1; shift
  echo "[$(date -u +%H:%M:%S)] $label $* (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  if [ "$label" = zs-scheduler ]; then
    LABEL=zs-scheduler CONSUMER_CMD=$ZS node "$@" >> "results/ab3-zs-scheduler-$STAMP.jsonl" || echo "  -> FAILED" >&2
  else
    LABEL=bullmq-node node "$@" >> "results/ab3-bullmq-node-$STAMP.jsonl" || echo "  -> FAILED" >&2
  fi
}
for round in $(seq 1 "$REPEATS"); do
  if [ $((round % 2)) = 1 ]; then order="bullmq-node zs-scheduler"; else order="zs-scheduler bullmq-node"; fi
  for cfg in "throughput.js --jobs=50000 --concurrency=50 --retention=remove" \
             "throughput.js --jobs=50000 --concurrency=50 --retention=keep" \
             "delay_accuracy.js --shape=spread --jobs=10000 --concurrency=50" \
             "delay_accuracy.js --shape=instant --jobs=1000 --concurrency=50" \
             "delay_accuracy.js --shape=instant --jobs=10000 --concurrency=50"; do
    for label in $order; do run "$label" $cfg; done
  done
done
echo "results/ab3-*-$STAMP.jsonl" >&2
