#!/usr/bin/env bash
# Runs Ariadne on its default ports with traffic, so the UI at http://localhost:16686 has traces to show.
# On a fresh machine it restores and builds first (the .NET 10 SDK must be installed). Until the demo shop
# lands, the traffic is `ariadne loadgen` at a gentle rate: synthetic traces of the same six services.
# Ctrl+C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null; then
  echo "demo.sh: the .NET SDK is missing; install .NET 10 (https://dot.net) and run this again." >&2
  exit 1
fi

echo "==> restoring and building (Release)"
dotnet restore src/Ariadne/Ariadne.csproj
dotnet build src/Ariadne/Ariadne.csproj --no-restore -c Release -v quiet -nologo
ariadne=(dotnet "src/Ariadne/bin/Release/net10.0/ariadne.dll")

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

"${ariadne[@]}" serve "$@" &
pids+=($!)

echo "==> waiting for the server"
for _ in $(seq 1 100); do
  # Kestrel opens every listener before it reports started, so one open port means all are up (no curl needed).
  if (exec 3<>/dev/tcp/127.0.0.1/16686) 2>/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "demo.sh: the server exited; see its message above." >&2; exit 1; fi
  sleep 0.2
done

echo "==> sending traffic: ariadne loadgen --rate 300 (Ctrl+C to stop)"
echo "    UI and Jaeger API: http://localhost:16686    OTLP: grpc :4317, http :4318    Zipkin: :9411"
"${ariadne[@]}" loadgen --protocol grpc --target http://localhost:4317 --rate 300 --connections 1 \
  --spans-per-request 50 --duration 24h &
pids+=($!)
wait "${pids[1]}"
