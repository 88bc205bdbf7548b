#!/usr/bin/env bash
# Issue 16's side-by-side table on its data (bench/Ariadne.Benchmarks/WideAttributeSpans.cs: 4 services, 26
# operations, 10.4 string attributes per span, ~160k traces for 2M spans, spread over 22 h and arriving in time
# order): the same spans and queries into the embedded engine and into ClickHouse (Ariadne's ClickHouse engine:
# RowBinary inserts, every part zstd), one after the other in the same run. Each engine: write rate (in-process
# through ISpanStore, 8 writers x 500-span batches), B/span after the final cut and compaction (OPTIMIZE FINAL),
# trace by id p50/p99 (1,000 random traces), and the issue's search (1 h window, service + operation + one tag + a
# minimum duration, limit 20, 100 queries) plus the other kinds of search: service; service + operation; service +
# tag; tag only (rare and frequent); error=true; duration > 50 ms; the structural TraceQL query
# { resource.service.name = "frontend" } >> { status = error } (pushed down to the store, then evaluated per trace
# as the search APIs do). Bytes per span by block file and Parquet column are printed for the embedded engine.
# Prints a Markdown table; the raw outputs stay in $OUT.
#
#   bash bench/search-2m.sh                                  # 2M spans, ~10 min on 2 quiet cores
#   SPANS=200000 bash bench/search-2m.sh                     # a quick check that it works
#   ENGINES=embedded SPANS=5000 bash bench/search-2m.sh      # the embedded engine alone
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=${SPANS:-2000000}
SPREAD_HOURS=${SPREAD_HOURS:-22}
WINDOW_HOURS=${WINDOW_HOURS:-1}
ENGINES=${ENGINES:-embedded clickhouse}
OUT=${OUT:-$(mktemp -d -t ariadne-search-XXXXXX)}
mkdir -p "$OUT"
source bench/lib.sh
trap 'stop_clickhouse; stop_server' EXIT

echo "==> building the benchmarks (Release)" >&2
dotnet build bench/Ariadne.Benchmarks -c Release -v quiet -nologo >&2
bench=(dotnet bench/Ariadne.Benchmarks/bin/Release/net10.0/Ariadne.Benchmarks.dll)
args=("$SPANS" --data wide --spread-hours "$SPREAD_HOURS" --window-hours "$WINDOW_HOURS")

outputs=()
for engine in $ENGINES; do
  echo "==> $engine: $SPANS spans (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  case $engine in
    embedded) "${bench[@]}" "${args[0]}" "$OUT/embedded-data" "${args[@]:1}" | tee "$OUT/embedded.txt" >&2
              rm -rf "$OUT/embedded-data" ;;
    clickhouse) start_clickhouse "$OUT/clickhouse" zstd
                "${bench[@]}" "${args[@]}" --engine clickhouse --url "$ch_url" | tee "$OUT/clickhouse.txt" >&2
                stop_clickhouse; rm -rf "$OUT/clickhouse/data" ;;
    *) echo "ENGINES: embedded and/or clickhouse, not $engine" >&2; exit 2 ;;
  esac
  outputs+=("$OUT/$engine.txt")
done

bash bench/search-table.sh "${outputs[@]}"
echo "raw outputs: $OUT" >&2
