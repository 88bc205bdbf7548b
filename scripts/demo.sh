#!/usr/bin/env bash
# The demo in one command: installs RabbitMQ when missing (as root), starts a private broker for the demo
# (the docs/SERVICES recipe: own epmd, data under a temp dir, loopback only), builds Ariadne, runs `ariadne demo`
# (server + six shop services + traffic), and stops the broker when the demo ends (Ctrl+C).
# Extra arguments go to `ariadne demo` (e.g. --rate 10, --query-port 16687).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null; then
  echo "demo.sh: the .NET SDK is missing; install .NET 10 (https://dot.net) and run this again." >&2
  exit 1
fi

if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ! command -v nc >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "==> installing rabbitmq-server"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server netcat-openbsd >/dev/null
  else
    echo "demo.sh: rabbitmq-server is not installed and this is not root; the demo will use its in-process fallback." >&2
    echo "         For the full path: sudo apt-get install rabbitmq-server, then run this again." >&2
  fi
fi

echo "==> building"
dotnet build src/Ariadne/Ariadne.csproj -c Release -v quiet -nologo

free_port() {
  local p=$1
  while nc -z 127.0.0.1 "$p" 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

broker=()
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v nc >/dev/null; then
  D=$(mktemp -d /tmp/ariadne-demo-rabbitmq.XXXXXX)
  mkdir -p "$D/home" "$D/mnesia" "$D/log"
  echo '[].' > "$D/enabled_plugins"
  printf 'loopback_users = none\n' > "$D/rabbitmq.conf"
  amqp=$(free_port 35672); dist=$(free_port $((amqp + 10))); epmd_port=$(free_port $((amqp + 20)))
  broker_env=(HOME="$D/home" RABBITMQ_NODENAME="ariadnedemo$amqp@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$amqp" RABBITMQ_DIST_PORT="$dist" RABBITMQ_MNESIA_BASE="$D/mnesia" RABBITMQ_LOG_BASE="$D/log"
    RABBITMQ_ENABLED_PLUGINS_FILE="$D/enabled_plugins" RABBITMQ_CONFIG_FILE="$D/rabbitmq.conf"
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port")
  env "${broker_env[@]}" /usr/bin/epmd -address 127.0.0.1 -port "$epmd_port" > "$D/epmd.log" 2>&1 & echo $! > "$D/epmd.pid"
  env "${broker_env[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server > "$D/stdout.log" 2>&1 & echo $! > "$D/pid"

  stop_broker() {
    for f in pid epmd.pid; do
      [ -f "$D/$f" ] || continue
      P=$(cat "$D/$f"); kill -TERM "$P" 2>/dev/null || true
      for _ in $(seq 1 200); do grep -qs '^State:.[^Z]' "/proc/$P/status" || break; sleep 0.1; done
    done
    rm -rf "$D"
  }
  trap stop_broker EXIT

  echo "==> starting a private RabbitMQ on 127.0.0.1:$amqp (about 10 s)"
  for _ in $(seq 1 240); do nc -z 127.0.0.1 "$amqp" 2>/dev/null && break; sleep 0.25; done
  if nc -z 127.0.0.1 "$amqp" 2>/dev/null; then
    broker=(--rabbitmq "amqp://guest:guest@127.0.0.1:$amqp/")
  else
    echo "demo.sh: RabbitMQ did not start (log: $D/stdout.log); the demo will use its in-process fallback." >&2
  fi
fi

dotnet src/Ariadne/bin/Release/net10.0/ariadne.dll demo "${broker[@]}" "$@"
