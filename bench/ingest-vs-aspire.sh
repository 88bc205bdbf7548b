#!/usr/bin/env bash
# End-to-end ingest, Ariadne against the .NET Aspire Dashboard, in one run on this machine: each server gets the
# same `ariadne loadgen` (OTLP/gRPC, max rate) for $DURATION, once with server and load generator pinned to
# different cores (taskset) and once unpinned. Prints a Markdown table for docs/PERFORMANCE.md; the raw loadgen
# JSON is kept in $OUT.
#
#   bash bench/ingest-vs-aspire.sh               # 60 s per run
#   DURATION=20s CONNECTIONS=8 bash bench/ingest-vs-aspire.sh
#
# The Aspire Dashboard comes from NuGet (Aspire.Dashboard.Sdk.linux-x64, a standalone executable under tools/),
# fetched by a throwaway restore; nothing of it is copied into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-4}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-500}
PROTOCOL=${PROTOCOL:-grpc}
ASPIRE_VERSION=${ASPIRE_VERSION:-13.6.5}
OUT=${OUT:-$(mktemp -d -t ariadne-ingest-XXXXXX)}
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}

source bench/lib.sh
build_ariadne

aspire="$packages/aspire.dashboard.sdk.linux-x64/$ASPIRE_VERSION/tools/Aspire.Dashboard"
if [ ! -x "$aspire" ]; then
  echo "==> fetching Aspire.Dashboard.Sdk.linux-x64 $ASPIRE_VERSION" >&2
  fetch=$(mktemp -d)
  cat > "$fetch/fetch.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Aspire.Dashboard.Sdk.linux-x64" Version="[$ASPIRE_VERSION]" /></ItemGroup>
</Project>
PROJECT
  dotnet restore "$fetch/fetch.csproj" -v quiet >&2
  rm -rf "$fetch"
  chmod +x "$aspire"
fi

# run NAME PLACEMENT: starts the server, runs the load generator against it, stops the server.
run() {
  local name=$1 placement=$2 server_cpu=() loadgen_cpu=()
  if [ "$placement" = pinned ]; then
    server_cpu=(taskset -c 0)
    loadgen_cpu=(taskset -c 1)
  fi

  local grpc http
  grpc=$(free_port)
  http=$(free_port)
  if [ "$name" = ariadne ]; then
    "${server_cpu[@]}" "${ariadne[@]}" serve --storage memory --listen-address 127.0.0.1 \
      --otlp-grpc-port "$grpc" --otlp-http-port "$http" --zipkin-port 0 --query-port 0 --sampling-port 0 \
      >"$OUT/$name-$placement.server.log" 2>&1 &
  else
    ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://127.0.0.1:$grpc" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$http" \
    ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
    ASPNETCORE_URLS="http://127.0.0.1:$(free_port)" \
      "${server_cpu[@]}" "$aspire" >"$OUT/$name-$placement.server.log" 2>&1 &
  fi
  server_pid=$!
  wait_for_port "$grpc"
  local target=$grpc
  [ "$PROTOCOL" = http ] && target=$http

  echo "==> $name, $placement: loadgen $PROTOCOL for $DURATION" >&2
  local cpu_before
  cpu_before=$(cpu_ticks "$server_pid")
  "${loadgen_cpu[@]}" "${ariadne[@]}" loadgen --protocol "$PROTOCOL" --target "http://127.0.0.1:$target" \
    --duration "$DURATION" --connections "$CONNECTIONS" --spans-per-request "$SPANS_PER_REQUEST" --json \
    >"$OUT/$name-$placement.json" 2>"$OUT/$name-$placement.loadgen.log" || true
  echo $(( $(cpu_ticks "$server_pid") - cpu_before )) >"$OUT/$name-$placement.server-cpu-ticks"
  stop_server
}

field() { json_field "$OUT/$1.json" "$2"; }

for placement in pinned unpinned; do
  run ariadne "$placement"
  run aspire "$placement"
done

echo "| server | CPU split | accepted spans/s | p50 ms | p90 ms | p99 ms | failed requests | server CPU µs/span | loadgen CPU µs/span | vs Aspire |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for placement in pinned unpinned; do
  aspire_rate=$(field "aspire-$placement" spansPerSecond)
  for name in ariadne aspire; do
    rate=$(field "$name-$placement" spansPerSecond)
    split="server core 0, loadgen core 1"
    [ "$placement" = unpinned ] && split="both unpinned on 2 cores"
    ratio=$(awk -v a="$rate" -v b="$aspire_rate" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }')
    server_us=$(awk -v t="$(cat "$OUT/$name-$placement.server-cpu-ticks")" -v hz="$ticks_per_second" \
      -v n="$(field "$name-$placement" spansAccepted)" 'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "n/a" }')
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$split" "$rate" \
      "$(field "$name-$placement" p50)" "$(field "$name-$placement" p90)" "$(field "$name-$placement" p99)" \
      "$(field "$name-$placement" failedRequests)" "$server_us" "$(field "$name-$placement" generatorCpuMicrosPerSpan)" "$ratio"
  done
done
echo "raw results: $OUT" >&2
