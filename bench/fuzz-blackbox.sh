#!/usr/bin/env bash
# Issue 13's black-box figure: REQUESTS (1,000,000) hostile requests from `ariadne fuzz` (mutated OTLP over HTTP and
# gRPC, Zipkin, Jaeger Thrift over HTTP and Jaeger gRPC, with canary traces) against `ariadne serve` (embedded engine,
# Limits:MaxHeapBytes=1GiB), the server's RSS read every second. Prints what docs/RELIABILITY.md records: requests,
# server errors (5xx but 503, gRPC UNKNOWN/INTERNAL), canaries acknowledged and missing, peak RSS against the bound,
# and whether the server is alive at the end; the load average before and after. A bench, not CI: run it on a quiet
# machine. `ariadne fuzz` reports progress every 10 s.
#
#   bash bench/fuzz-blackbox.sh                 # 1,000,000 requests
#   REQUESTS=20000 bash bench/fuzz-blackbox.sh  # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-1000000}
CONNECTIONS=${CONNECTIONS:-4}
MAX_HEAP_BYTES=${MAX_HEAP_BYTES:-1073741824}
OUT=${OUT:-$(mktemp -d -t ariadne-fuzz-XXXXXX)}
mkdir -p "$OUT"

source bench/lib.sh

build_ariadne

jaeger_http=$(free_port) jaeger_grpc=$(free_port)
ARIADNE__Limits__MaxHeapBytes="$MAX_HEAP_BYTES" start_ariadne "$OUT/server.log" "http zipkin query" --storage embedded --data "$OUT/data" \
  --jaeger-thrift-http-port "$jaeger_http" --jaeger-grpc-port "$jaeger_grpc" --jaeger-compact-port 0 --jaeger-binary-port 0 --tempo-port 0
wait_for_port "$jaeger_http"; wait_for_port "$jaeger_grpc"

# The server's resident set, in KiB, every second while it runs.
(while [ -r "/proc/$server_pid/status" ]; do
  awk -v now="$(date +%s)" '/^VmRSS/ { print now, $2 }' "/proc/$server_pid/status" 2>/dev/null || true
  sleep 1
done) >"$OUT/rss.txt" &
rss_sampler=$!

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)
status=0
"${ariadne[@]}" fuzz --otlp-http "http://127.0.0.1:$http" --otlp-grpc "http://127.0.0.1:$grpc" --zipkin "http://127.0.0.1:$zipkin" \
  --jaeger-http "http://127.0.0.1:$jaeger_http" --jaeger-grpc "http://127.0.0.1:$jaeger_grpc" --query "http://127.0.0.1:$query" \
  --requests "$REQUESTS" --connections "$CONNECTIONS" --json >"$OUT/summary.json" || status=$?
elapsed=$(( $(date +%s) - started ))
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

alive=no
curl -sf "http://127.0.0.1:$query/health/live" >/dev/null && alive=yes
kill "$rss_sampler" 2>/dev/null || true
peak_kib=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$OUT/rss.txt")
bound_kib=$((MAX_HEAP_BYTES / 1024))

cat "$OUT/summary.json"
echo "== figures for docs/RELIABILITY.md =="
echo "requests: $(json_field "$OUT/summary.json" Requests) in ${elapsed} s; server errors: $(json_field "$OUT/summary.json" ServerErrors)"
echo "canaries acknowledged: $(json_field "$OUT/summary.json" CanariesAcknowledged), missing: $(json_field "$OUT/summary.json" CanariesMissing)"
echo "peak RSS: $((peak_kib / 1024)) MiB (Limits:MaxHeapBytes $((bound_kib / 1024)) MiB; the issue asks under 1.5x, $((bound_kib * 3 / 2 / 1024)) MiB)"
echo "server alive at the end: $alive"
echo "server log, RSS samples and summary: $OUT"
[ "$status" -eq 0 ] && [ "$alive" = yes ] && [ "$peak_kib" -le $((bound_kib * 3 / 2)) ]
