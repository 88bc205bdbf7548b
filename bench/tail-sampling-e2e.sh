#!/usr/bin/env bash
# End-to-end cost of tail sampling (issue: "ingest with tail sampling on stays >= 80% of ingest with it off"):
# `ariadne serve` with tail sampling off and with a set of policies, the same `ariadne loadgen` (OTLP/gRPC, max
# rate) against each, in interleaved rounds so other load on the machine hits both alike. Prints a Markdown table
# for docs/PERFORMANCE.md (medians over the rounds); raw loadgen JSON and server logs stay in $OUT.
#
#   bash bench/tail-sampling-e2e.sh                         # embedded engine, 3 rounds of 20 s per mode
#   STORAGE=memory ROUNDS=5 DURATION=30s bash bench/tail-sampling-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STORAGE=${STORAGE:-embedded}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-500}
OUT=${OUT:-$(mktemp -d -t ariadne-tail-e2e-XXXXXX)}
mkdir -p "$OUT"

source bench/lib.sh

build_ariadne

# Off: the stage passes every span straight to storage. Policies: the built-in keep-errors plus slow traces,
# gold customers, the checkout route and 10% of the rest; every trace is held for the decision wait.
tail_sampling_config off >"$OUT/off.json"
tail_sampling_config 10 slow gold checkout rest=10 >"$OUT/policies.json"

# run MODE ROUND: a fresh server (and data directory) per run, the load generator against it, then stop.
run() {
  local mode=$1 round=$2 grpc data cpu_before
  data="$OUT/data-$mode-$round"
  start_ariadne "$OUT/$mode-$round.server.log" "" --config "$OUT/$mode.json" --storage "$STORAGE" --data "$data"
  echo "==> round $round, tail sampling $mode: loadgen for $DURATION" >&2
  cpu_before=$(cpu_ticks "$server_pid")
  "${ariadne[@]}" loadgen --protocol grpc --target "http://127.0.0.1:$grpc" --duration "$DURATION" \
    --connections "$CONNECTIONS" --spans-per-request "$SPANS_PER_REQUEST" --json \
    >"$OUT/$mode-$round.json" 2>"$OUT/$mode-$round.loadgen.log" || true
  echo $(( $(cpu_ticks "$server_pid") - cpu_before )) >"$OUT/$mode-$round.server-cpu-ticks"
  grep -o 'VmHWM:[^k]*' "/proc/$server_pid/status" | awk '{print $2}' >"$OUT/$mode-$round.server-hwm-kb"
  stop_server
  rm -rf "$data"
}

for round in $(seq 1 "$ROUNDS"); do
  run off "$round"
  run policies "$round"
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rates() { for r in $(seq 1 "$ROUNDS"); do json_field "$OUT/$1-$r.json" spansPerSecond; done; }
server_us() {
  for r in $(seq 1 "$ROUNDS"); do
    awk -v t="$(cat "$OUT/$1-$r.server-cpu-ticks")" -v hz="$ticks_per_second" -v n="$(json_field "$OUT/$1-$r.json" spansAccepted)" \
      'BEGIN { if (n > 0) printf "%.2f\n", t / hz * 1e6 / n }'
  done
}

off_rate=$(rates off | median)
echo "storage: $STORAGE; $ROUNDS interleaved rounds of $DURATION per mode; loadgen --connections $CONNECTIONS --spans-per-request $SPANS_PER_REQUEST"
echo
echo "| tail sampling | spans/s per round | median spans/s | % of off | median server CPU µs/span | median failed requests | max server VmHWM MB |"
echo "|---|---|---:|---:|---:|---:|---:|"
for mode in off policies; do
  rate=$(rates "$mode" | median)
  printf '| %s | %s | %.0f | %s | %s | %s | %s |\n' "$mode" "$(rates "$mode" | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 }')" "$rate" \
    "$(awk -v a="$rate" -v b="$off_rate" 'BEGIN { printf "%.0f %%", 100 * a / b }')" "$(server_us "$mode" | median)" \
    "$(for r in $(seq 1 "$ROUNDS"); do json_field "$OUT/$mode-$r.json" failedRequests; done | median)" \
    "$(cat "$OUT/$mode"-*.server-hwm-kb | sort -g | tail -1 | awk '{ printf "%.0f", $1 / 1024 }')"
done
echo "raw results: $OUT" >&2
