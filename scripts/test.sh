#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real servers the tests start (ClickHouse, RabbitMQ,
# NATS, Prometheus, Alertmanager, Chromium) and the Go toolchain with Debian's OpenTelemetry Go SDK (the ADR's Jaeger
# example) when missing, restores NuGet packages, runs every test project, and ends with the totals on one line:
# "N passed, N failed[, N skipped]". Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need=()
command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server clickhouse-client)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v nats-server >/dev/null || need+=(nats-server)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v chromium >/dev/null || need+=(chromium fonts-liberation)
command -v nc >/dev/null || need+=(netcat-openbsd)
# The ADR's Go example (JaegerClientTests) builds against Debian's OpenTelemetry Go SDK, which has exporters/jaeger.
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/go.opentelemetry.io/otel/exporters/jaeger ] || need+=(golang-opentelemetry-otel-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing ${need[*]}; run as root (or: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "==> installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> restoring and building"
dotnet restore Ariadne.slnx
dotnet build Ariadne.slnx --no-restore -c Release -v quiet -nologo

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
echo "==> running tests"
status=0
dotnet test Ariadne.slnx --no-build -c Release --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" -- RunConfiguration.TestSessionTimeout=2400000 || status=$?

# The console log names a failure far above its end; repeat each failed test's name and the start of its message
# here, next to the totals, so the tail of the output says what to look at.
find "$results" -name '*.trx' -print0 | xargs -0 -r awk '
  function unescape(t) { gsub(/&quot;/, "\"", t); gsub(/&lt;/, "<", t); gsub(/&gt;/, ">", t); gsub(/&amp;/, "\\&", t); return t }
  /<UnitTestResult / && /outcome="Failed"/ {
    match($0, /testName="[^"]*"/); print "FAILED " unescape(substr($0, RSTART + 10, RLENGTH - 11)); failing = 1; shown = 0
  }
  failing && /<Message>/ { sub(/.*<Message>/, ""); inmsg = 1 }
  failing && inmsg {
    done = sub(/<\/Message>.*/, ""); if (shown++ < 6) print "    " unescape($0)
    if (done) { inmsg = 0; failing = 0 }
  }'

# dotnet test's own summary is per assembly; sum the TRX counters for one closing line.
read -r passed failed skipped < <(
  find "$results" -name '*.trx' -print0 | xargs -0 -r grep -ho '<Counters [^>]*>' |
  awk '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] = kv[2] }
    p += c["passed"]; f += c["failed"] + c["error"] + c["timeout"] + c["aborted"]; s += c["total"] - c["executed"]
  } END { printf "%d %d %d\n", p, f, s }')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the run broke without a failing test counted (a crash, a build error): never report it green
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
