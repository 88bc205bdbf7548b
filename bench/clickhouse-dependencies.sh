#!/usr/bin/env bash
# Dependencies over 24 h from ClickHouse's edge_minutes (issue 14 goal: <= 200 ms at 10M spans), and the minute
# feed's CPU per span. Starts its own clickhouse-server (free ports, temp dir), runs
# `Ariadne.Benchmarks dependencies`, stops the server. Run it on a quiet machine:
#   bench/clickhouse-dependencies.sh                      # 10M spans, 24 h, minutes every 5 s
#   SPANS=1000000 bench/clickhouse-dependencies.sh        # a small run
#   WITH_SPANS=1 bench/clickhouse-dependencies.sh         # also store the spans and time the old query-time join
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SPANS=${SPANS:-10000000}
dir=$(mktemp -d /tmp/ariadne-deps-bench.XXXXXX)
trap 'stop_clickhouse; rm -rf "$dir"' EXIT
start_clickhouse "$dir"
dotnet run -c Release --project bench/Ariadne.Benchmarks -- dependencies --url "$ch_url" \
  --spans "$SPANS" --hours "${HOURS:-24}" --interval "${INTERVAL:-5}" ${WITH_SPANS:+--with-spans}
