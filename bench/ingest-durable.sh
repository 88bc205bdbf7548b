#!/usr/bin/env bash
# The figures of issue 12 ("One ingest log and one query front door"), end to end as a user runs the server:
#   1. durable ingest (`ariadne serve --storage embedded`, fsync before ack) over OTLP/gRPC and OTLP/HTTP, with tail
#      sampling off and with the demo's tail policies on; the memory engine alongside for reference;
#   2. server CPU per span and bytes written to disk per acknowledged span (/proc/PID/io);
#   3. the exit code on SIGTERM right after the load;
#   4. reads under write load: an overload (48 connections x 2048-span requests) with `loadgen --query` reading a
#      trace by id and searching alternately, reporting both p99s.
# Every server gets the same load generator (this build's `ariadne loadgen`). With BASE set to another checkout
# (built in Release, e.g. `git worktree add /tmp/base <commit>`), each run is repeated against it in the same round,
# so the ratio is same-run. Prints Markdown tables for docs/PERFORMANCE.md; raw JSON and server logs stay in $OUT.
#
#   BASE=/tmp/base bash bench/ingest-durable.sh                  # 2 rounds of 15 s per cell, 30 s overloads
#   ROUNDS=3 DURATION=20s OVERLOAD=60s bash bench/ingest-durable.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15s}
OVERLOAD=${OVERLOAD:-30s}
CONNECTIONS=${CONNECTIONS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-512}
BASE=${BASE:-}
OUT=${OUT:-$(mktemp -d -t ariadne-durable-XXXXXX)}
mkdir -p "$OUT"

source bench/lib.sh

build_ariadne
loadgen=("${ariadne[@]}" loadgen)
builds=(new)
if [ -n "$BASE" ]; then
  [ -f "$(ariadne_dll "$BASE")" ] || { echo "BASE=$BASE has no Release build: run 'dotnet build src/Ariadne -c Release' there first" >&2; exit 1; }
  builds+=(base)
fi

tail_sampling_config off >"$OUT/off.json"
# The demo's tail policies: errors always kept (built in), slow traces, 30 % of the rest.
tail_sampling_config 5 slow sample=30 >"$OUT/tail.json"

server_for() { if [ "$1" = base ]; then ariadne_dll "$BASE"; else ariadne_dll; fi; }

# run NAME BUILD STORAGE MODE PROTOCOL CONNECTIONS SPANS DURATION [reads]: one fresh server, one load, SIGTERM.
run() {
  local name=$1 build=$2 storage=$3 mode=$4 protocol=$5 connections=$6 spans=$7 duration=$8 reads=${9:-}
  local grpc http query data cpu_before target read_args=()
  local ariadne=(dotnet "$(server_for "$build")")
  data="$OUT/data-$name"
  start_ariadne "$OUT/$name.server.log" "http query" --config "$OUT/$mode.json" --storage "$storage" --data "$data"
  target=$grpc; [ "$protocol" = http ] && target=$http
  [ -n "$reads" ] && read_args=(--query "http://127.0.0.1:$query" --query-rate 10)
  echo "==> $name: $build, $storage, tail $mode, $protocol, $connections x $spans spans for $duration" >&2
  cpu_before=$(cpu_ticks "$server_pid")
  local written_before
  written_before=$(awk '/^write_bytes/ {print $2}' "/proc/$server_pid/io")
  "${loadgen[@]}" --protocol "$protocol" --target "http://127.0.0.1:$target" --duration "$duration" \
    --connections "$connections" --spans-per-request "$spans" --json "${read_args[@]}" \
    >"$OUT/$name.json" 2>"$OUT/$name.loadgen.log" || true
  echo $(( $(cpu_ticks "$server_pid") - cpu_before )) >"$OUT/$name.cpu-ticks"
  echo $(( $(awk '/^write_bytes/ {print $2}' "/proc/$server_pid/io") - written_before )) >"$OUT/$name.written"
  kill -TERM "$server_pid"
  local code=0
  wait "$server_pid" || code=$?
  echo "$code" >"$OUT/$name.exit"
  server_pid=
  rm -rf "$data"
}

uptime >"$OUT/uptime-before"
for round in $(seq 1 "$ROUNDS"); do
  for protocol in grpc http; do
    for mode in off tail; do
      for build in "${builds[@]}"; do
        run "$build-embedded-$mode-$protocol-$round" "$build" embedded "$mode" "$protocol" "$CONNECTIONS" "$SPANS_PER_REQUEST" "$DURATION"
      done
    done
    run "new-memory-off-$protocol-$round" new memory off "$protocol" "$CONNECTIONS" "$SPANS_PER_REQUEST" "$DURATION"
  done
done
for protocol in grpc http; do
  for build in "${builds[@]}"; do
    run "$build-overload-$protocol" "$build" embedded off "$protocol" 48 2048 "$OVERLOAD" reads
  done
done
uptime >"$OUT/uptime-after"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "Load: $(cat "$OUT/uptime-before" | sed 's/.*load/load/') before, $(cat "$OUT/uptime-after" | sed 's/.*load/load/') after."
echo
echo "| build | engine | tail sampling | protocol | spans/s (median of $ROUNDS) | p99 ms | refused requests | server CPU µs/span | disk bytes/span | exit on SIGTERM |"
echo "|---|---|---|---|--:|--:|--:|--:|--:|--:|"
for protocol in grpc http; do
  for mode in off tail; do
    for build in "${builds[@]}" memory; do
      engine=embedded; b=$build
      if [ "$build" = memory ]; then
        [ "$mode" = off ] || continue
        engine=memory; b=new
      fi
      prefix="$OUT/$b-$engine-$mode-$protocol"
      rate=$(for f in "$prefix"-*.json; do json_field "$f" spansPerSecond; done | median)
      p99=$(for f in "$prefix"-*.json; do grep -A4 '"latencyMs"' "$f" | json_field /dev/stdin p99; done | median)
      refused=$(for f in "$prefix"-*.json; do json_field "$f" failedRequests; done | median)
      cpu=$(for r in $(seq 1 "$ROUNDS"); do
        awk -v t="$(cat "$prefix-$r.cpu-ticks")" -v a="$(json_field "$prefix-$r.json" spansAccepted)" -v hz="$ticks_per_second" 'BEGIN { printf "%.2f\n", (a > 0 ? t / hz * 1e6 / a : 0) }'
      done | median)
      bytes=$(for r in $(seq 1 "$ROUNDS"); do
        awk -v w="$(cat "$prefix-$r.written")" -v a="$(json_field "$prefix-$r.json" spansAccepted)" 'BEGIN { printf "%.0f\n", (a > 0 ? w / a : 0) }'
      done | median)
      exits=$(cat "$prefix"-*.exit | sort -u | tr '\n' ' ')
      printf '| %s | %s | %s | %s | %.0f | %.1f | %s | %s | %s | %s|\n' "$b" "$engine" "$mode" "$protocol" "$rate" "$p99" "$refused" "$cpu" "$bytes" "$exits"
    done
  done
done

echo
echo "Reads under write load ($OVERLOAD of 48 connections x 2048-span requests, embedded, reading at 10/s):"
echo
echo "| build | protocol | ingest spans/s | refused requests | trace by id p50 / p99 ms | search p50 / p99 ms | reads failed |"
echo "|---|---|--:|--:|--:|--:|--:|"
for protocol in grpc http; do
  for build in "${builds[@]}"; do
    f="$OUT/$build-overload-$protocol.json"
    python3 - "$f" "$build" "$protocol" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
r = j.get("reads", {})
t, s = r.get("traceById", {}), r.get("search", {})
print(f"| {sys.argv[2]} | {sys.argv[3]} | {j['spansPerSecond']:.0f} | {j['failedRequests']} | {t.get('p50', 0):.1f} / {t.get('p99', 0):.1f} | {s.get('p50', 0):.1f} / {s.get('p99', 0):.1f} | {t.get('failed', 0) + s.get('failed', 0)} |")
PY
  done
done
echo
echo "raw results: $OUT" >&2
