#!/usr/bin/env bash
# kill -9 under load with tail policies on (issue 12, item 6): `ariadne serve` (embedded engine) on one data
# directory, `ariadne loadgen` against it writing every acknowledged trace to a file, SIGKILL at a random moment,
# a restart on the same directory, then every acknowledged trace that the policies must keep is fetched through
# the Jaeger API (/api/traces/{id}) and must come back whole. The restarted server takes the next round's load, so
# later rounds also recover from what earlier recoveries wrote. A correctness run, not a performance figure.
# STORAGE=clickhouse runs the same against a fresh clickhouse-server (started once, never killed; the server's
# ingest log stays in its data directory).
#
# Which traces must be kept: the policies are those of bench/tail-sampling-e2e.sh (slow, gold customers, the
# checkout route, 10% of the rest). "gold" keeps every trace with customer.tier=gold, whatever else happens, so every
# acknowledged gold trace must be served whole. Any other trace may be kept or dropped, but never in part: a sample
# of them must come back with all their spans or none.
#
#   bash bench/kill9-loop.sh                    # 50 rounds
#   ROUNDS=3 LOAD_SECONDS=3 bash bench/kill9-loop.sh
#   STORAGE=clickhouse bash bench/kill9-loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-50}
LOAD_SECONDS=${LOAD_SECONDS:-3}
RATE=${RATE:-10000}
CONNECTIONS=${CONNECTIONS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-100}
OTHERS=${OTHERS:-100}
STORAGE=${STORAGE:-embedded}
DECISION_WAIT_SECONDS=2
OUT=${OUT:-$(mktemp -d -t ariadne-kill9-XXXXXX)}
mkdir -p "$OUT"

source bench/lib.sh

build_ariadne
tail_sampling_config "$DECISION_WAIT_SECONDS" slow gold checkout rest=10 >"$OUT/policies.json"

data="$OUT/data"
grpc= query=
storage=(--storage embedded)
if [ "$STORAGE" = clickhouse ]; then
  start_clickhouse "$OUT/clickhouse"
  storage=(--storage clickhouse --clickhouse-url "$ch_url")
fi
start_server() {
  start_ariadne "$OUT/server.log" query --config "$OUT/policies.json" "${storage[@]}" --data "$data" \
    --jaeger-thrift-http-port 0 --jaeger-grpc-port 0 --jaeger-compact-port 0 --jaeger-binary-port 0 --tempo-port 0
}

# served ID: how many spans /api/traces/ID returns (0 when the trace is unknown).
served() { curl -s "http://127.0.0.1:$query/api/traces/$1" | grep -o '"operationName"' | wc -l || true; }
# check_gold ID SPANS: a trace the gold policy must keep is served whole (held ones may take a decision wait more).
check_gold() {
  local got
  got=$(served "$1")
  for _ in 1 2 3 4 5; do
    [ "$got" -ge "$2" ] && break
    sleep 1
    got=$(served "$1")
  done
  [ "$got" -eq "$2" ] || echo "gold trace $1: $got of $2 spans served"
}
# check_other ID SPANS TIER: any other trace is served whole or not at all.
check_other() {
  local got
  got=$(served "$1")
  if [ "$got" -ne 0 ] && [ "$got" -ne "$2" ]; then echo "$3 trace $1: $got of $2 spans served"; fi
}
export -f served check_gold check_other

start_server
lost_total=0 partial_total=0 acknowledged_total=0 gold_total=0
echo "| round | kill, s after the first ack | acknowledged traces | gold checked | gold lost | others checked | others partial |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
  ack="$OUT/acknowledged-$round.txt"
  # The load runs until it is interrupted; the kill comes at a random moment once the first traces are acknowledged.
  "${ariadne[@]}" loadgen --protocol grpc --target "http://127.0.0.1:$grpc" --rate "$RATE" --duration 10m \
    --connections "$CONNECTIONS" --spans-per-request "$SPANS_PER_REQUEST" --seed "$round" --acknowledged "$ack" --json \
    >"$OUT/loadgen-$round.json" 2>>"$OUT/loadgen.log" &
  loadgen_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$ack" ] && break
    sleep 0.1
  done
  kill_after=$(awk -v seed="$RANDOM" -v load="$LOAD_SECONDS" 'BEGIN { srand(seed); printf "%.2f", rand() * load }')
  sleep "$kill_after"
  echo "=== round $round: kill -9 ${kill_after}s after the first acknowledgement" >>"$OUT/server.log"
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  kill -TERM "$loadgen_pid"
  wait "$loadgen_pid" || true
  start_server
  # Traces held for a decision when the server died are held again after the restart: wait out one decision.
  sleep $((DECISION_WAIT_SECONDS + 2))

  acknowledged=$(wc -l <"$ack")
  awk '$3 == "gold" { print $1, $2 }' "$ack" | xargs -r -P 8 -n 2 bash -c 'check_gold "$0" "$1"' >"$OUT/problems-$round.txt"
  gold_lost=$(wc -l <"$OUT/problems-$round.txt")
  gold_checked=$(awk '$3 == "gold"' "$ack" | wc -l)
  awk -v n="$OTHERS" '$3 != "gold" && c++ < n { print $1, $2, $3 }' "$ack" | xargs -r -P 8 -n 3 bash -c 'check_other "$0" "$1" "$2"' >>"$OUT/problems-$round.txt"
  others_partial=$(( $(wc -l <"$OUT/problems-$round.txt") - gold_lost ))
  others_checked=$(awk -v n="$OTHERS" '$3 != "gold" && c++ < n' "$ack" | wc -l)
  sed "s/^/round $round: /" "$OUT/problems-$round.txt" >>"$OUT/lost.txt"

  echo "| $round | $kill_after | $acknowledged | $gold_checked | $gold_lost | $others_checked | $others_partial |"
  lost_total=$((lost_total + gold_lost))
  partial_total=$((partial_total + others_partial))
  acknowledged_total=$((acknowledged_total + acknowledged))
  gold_total=$((gold_total + gold_checked))
done

echo
echo "$ROUNDS rounds: $acknowledged_total traces acknowledged, $gold_total gold traces checked, $lost_total lost; $partial_total other traces served in part. Logs in $OUT."
[ "$lost_total" -eq 0 ] && [ "$partial_total" -eq 0 ]
