#!/usr/bin/env bash
# Markdown table of issue 16's figures from storage bench outputs (bench/Ariadne.Benchmarks, default subcommand):
#   bash bench/search-table.sh clickhouse.txt embedded.txt
set -euo pipefail
num() { sed -n "$2" "$1" | head -1; }
echo "| engine | write spans/s | B/span | trace by id p50 / p99 | issue search p50 / p99 | every search's p99 |"
echo "|---|--:|--:|--:|--:|---|"
for f in "$@"; do
  engine=$(num "$f" 's/^stored (\([a-z]*\)).*/\1/p')
  rate=$(num "$f" 's/^ingest: .* = \([0-9,]*\) spans\/s.*/\1/p')
  bytes=$(num "$f" 's/^stored .* = \([0-9.]*\) B\/span.*/\1/p')
  byid=$(num "$f" 's/^trace by id: p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \/ \2 ms/p')
  issue=$(num "$f" 's/^search issue 16[^:]*: .*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \/ \2 ms/p')
  every=$(sed -n 's/^search \([^(]*\) (.*p99 \([0-9.]*\) ms.*/\1 \2 ms/p' "$f" | paste -sd ';' | sed 's/;/; /g')
  echo "| $engine | $rate | $bytes | $byid | $issue | $every |"
done
