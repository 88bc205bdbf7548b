#!/usr/bin/env bash
# Issue 16 item 3: SPANS (default 100M; 10M when time is short) of issue 16's data over 7 days into the embedded
# engine and into ClickHouse (zstd) in the same run, then for each engine: write rate, B/span, trace by id p50/p99,
# search p50/p99 of every kind of search (service; service + operation; service + tag; tag only, rare and frequent;
# error=true; duration > 50 ms; the issue's combined one; the structural TraceQL query
# { resource.service.name = "frontend" } >> { status = error }, its push-down through the store then evaluated per
# trace as the search APIs do) over windows of 1 h, 24 h and 7 d, peak RSS, bytes per span by block file and Parquet
# column, and the block count every 10 s while writing (the compaction backlog; embedded only). Raw outputs in $OUT;
# a Markdown table at the end.
#
#   bash bench/scale-100m.sh                    # hours on 2 cores
#   SPANS=10000000 bash bench/scale-100m.sh
#   ENGINES=embedded SPANS=200000 bash bench/scale-100m.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=${SPANS:-100000000}
OUT=${OUT:-$(mktemp -d -t ariadne-scale-XXXXXX)}
mkdir -p "$OUT"
source bench/lib.sh

storage_benches "$SPANS" --data wide --spread-hours 168 --window-hours 1,24,168
echo "raw outputs: $OUT (search lines per window, RSS and block counts over time in each)" >&2
