#!/usr/bin/env bash
# The measurements behind the capacity model in docs/storage-clickhouse.md (issue 14 item 5): one Ariadne node
# (`ariadne serve --storage clickhouse`, ingest log on, fsync before ack) in front of its own clickhouse-server,
# loaded by `ariadne loadgen` over OTLP/gRPC with tail sampling off and with the demo's tail policies. Per run:
#   - accepted spans/s;
#   - Ariadne CPU per accepted span (decode, log append + fsync, aggregators incl. the minute feed, RowBinary encode);
#   - clickhouse-server CPU per stored span (INSERT parse, sort, compress, merges during the run, MV work);
#   - ClickHouse bytes per stored span once merged (OPTIMIZE FINAL, system.parts of every table) and per table;
#   - ingest-log bytes written per accepted span (/proc/PID/io of the Ariadne process).
# Both processes compete for the same cores, so run it on a quiet machine; the model divides by these figures.
#   bash bench/clickhouse-capacity.sh                      # 2 rounds x 30 s per mode
#   ROUNDS=3 DURATION=60s CONNECTIONS=8 bash bench/clickhouse-capacity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-512}
OUT=${OUT:-$(mktemp -d -t ariadne-ch-capacity-XXXXXX)}
mkdir -p "$OUT"
source bench/lib.sh

build_ariadne
tail_sampling_config off >"$OUT/off.json"
tail_sampling_config 5 slow sample=30 >"$OUT/tail.json"

q() { curl -sS -X POST "$ch_url/" --data-binary "$1"; }

echo "| mode | round | accepted spans/s | stored spans | Ariadne CPU µs/accepted span | ClickHouse CPU µs/stored span | CH bytes/stored span (all tables) | spans table B/span | log bytes/accepted span |" >"$OUT/table.md"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|" >>"$OUT/table.md"
for round in $(seq 1 "$ROUNDS"); do
  for mode in off tail; do
    name="$mode-$round"
    start_clickhouse "$OUT/ch-$name"
    start_ariadne "$OUT/$name.server.log" query \
      --config "$OUT/$mode.json" --storage clickhouse --clickhouse-url "$ch_url" --data "$OUT/data-$name"
    echo "==> $name: clickhouse, tail $mode, $CONNECTIONS x $SPANS_PER_REQUEST spans for $DURATION" >&2
    a0=$(cpu_ticks "$server_pid"); c0=$(cpu_ticks "$ch_pid"); w0=$(awk '/^write_bytes/ {print $2}' "/proc/$server_pid/io")
    "${ariadne[@]}" loadgen --protocol grpc --target "http://127.0.0.1:$grpc" --duration "$DURATION" \
      --connections "$CONNECTIONS" --spans-per-request "$SPANS_PER_REQUEST" --json >"$OUT/$name.json" 2>"$OUT/$name.loadgen.log" || true
    # SIGTERM drains the feed into ClickHouse before the process exits; its CPU until then counts.
    a1=$(cpu_ticks "$server_pid"); w1=$(awk '/^write_bytes/ {print $2}' "/proc/$server_pid/io")
    kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
    q "OPTIMIZE TABLE ariadne.spans FINAL" >/dev/null || true
    c1=$(cpu_ticks "$ch_pid")
    accepted=$(json_field "$OUT/$name.json" spansAccepted); rate=$(json_field "$OUT/$name.json" spansPerSecond)
    stored=$(q "SELECT count() FROM ariadne.spans")
    all_bytes=$(q "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'ariadne'")
    span_bytes=$(q "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'ariadne' AND table = 'spans'")
    q "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'ariadne' GROUP BY table ORDER BY table" >"$OUT/$name.tables.tsv"
    awk -v n="$name" -v m="$mode" -v r="$round" -v rate="$rate" -v acc="$accepted" -v st="$stored" -v a=$((a1 - a0)) -v c=$((c1 - c0)) \
        -v hz="$ticks_per_second" -v ab="$all_bytes" -v sb="$span_bytes" -v w=$((w1 - w0)) 'BEGIN {
      acc = acc > 0 ? acc : 1; s = st > 0 ? st : 1
      printf "| %s | %s | %.0f | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", m, r, rate, st, a / hz * 1e6 / acc, c / hz * 1e6 / s, ab / s, sb / s, w / acc }' >>"$OUT/table.md"
    stop_clickhouse
    rm -rf "$OUT/data-$name" "$OUT/ch-$name/data"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/table.md"
cat "$OUT/table.md"
echo "(raw JSON, server logs and per-table sizes in $OUT)" >&2
