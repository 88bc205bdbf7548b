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
OUT=${OUT:-$(mktemp -d -t ariadne-search-XXXXXX)}
mkdir -p "$OUT"
source bench/lib.sh

storage_benches "$SPANS" --data wide --spread-hours "$SPREAD_HOURS" --window-hours "$WINDOW_HOURS"
echo "raw outputs: $OUT" >&2
