#!/usr/bin/env bash
# Cluster mode at load (issue 14, ADR-026): two clickhouse-server shards behind Distributed tables, three
# `ariadne serve` nodes with --cluster-peers and tail policies, and one `ariadne loadgen` per node sending whole
# traces to that node only, so about 2/3 of the spans are forwarded to their owner. Prints the spans/s the three
# nodes acknowledged together, each node's CPU, and the forwarding counters. A figure for the lead on a quiet machine.
#
# The correctness runs (each trace spread over all three nodes, kill -9 of a node mid-load) are the test class
# ClusterModeTests:
#   dotnet test tests/Ariadne.Tests -c Release --filter "FullyQualifiedName~ClusterModeTests"
#
#   bash bench/cluster.sh                       # 30 s at 20000 spans/s per node
#   SECONDS_OF_LOAD=10 RATE=5000 bash bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-30}
RATE=${RATE:-20000}
CONNECTIONS=${CONNECTIONS:-4}
OUT=${OUT:-$(mktemp -d -t ariadne-cluster-XXXXXX)}
mkdir -p "$OUT"

source bench/lib.sh

build_ariadne

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

# Two ClickHouse shards naming each other in remote_servers (cluster bench_cluster), as ../shared/SERVICES.md 1b.
ch_http=() ch_tcp=()
for shard in 0 1; do ch_http+=("$(free_port)"); ch_tcp+=("$(free_port)"); done
shards=""
for shard in 0 1; do shards+="<shard><replica><host>127.0.0.1</host><port>${ch_tcp[$shard]}</port></replica></shard>"; done
for shard in 0 1; do
  d="$OUT/clickhouse$shard"; mkdir -p "$d/data" "$d/tmp" "$d/log" "$d/user_files"
  cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host><http_port>${ch_http[$shard]}</http_port><tcp_port>${ch_tcp[$shard]}</tcp_port>
  <path>$d/data/</path><tmp_path>$d/tmp/</tmp_path><user_files_path>$d/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size><timezone>UTC</timezone>
  <remote_servers><bench_cluster>$shards</bench_cluster></remote_servers>
</yandex>
XML
  /usr/sbin/clickhouse-server --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
  pids+=($!)
  wait_for_port "${ch_http[$shard]}"
done
ch_urls="http://127.0.0.1:${ch_http[0]},http://127.0.0.1:${ch_http[1]}"

tail_sampling_config 5 slow gold rest=10 >"$OUT/policies.json"

internal=() grpc=() query=() node_pids=()
for node in 0 1 2; do internal+=("$(free_port)"); grpc+=("$(free_port)"); query+=("$(free_port)"); done
peers="127.0.0.1:${internal[0]},127.0.0.1:${internal[1]},127.0.0.1:${internal[2]}"
for node in 0 1 2; do
  # The first node creates the tables; the others start once it listens.
  "${ariadne[@]}" serve --config "$OUT/policies.json" --storage clickhouse --clickhouse-url "$ch_urls" --clickhouse-cluster bench_cluster \
    --data "$OUT/node$node" --listen-address 127.0.0.1 --cluster-peers "$peers" --cluster-self "127.0.0.1:${internal[$node]}" \
    --cluster-port "${internal[$node]}" --otlp-grpc-port "${grpc[$node]}" --otlp-http-port 0 --zipkin-port 0 \
    --query-port "${query[$node]}" --sampling-port 0 --jaeger-thrift-http-port 0 --jaeger-grpc-port 0 \
    --jaeger-compact-port 0 --jaeger-binary-port 0 --tempo-port 0 >"$OUT/node$node.log" 2>&1 &
  pids+=($!); node_pids+=($!)
  wait_for_port "${query[$node]}"
done

echo "==> ${SECONDS_OF_LOAD} s of load, ${RATE} spans/s offered to each of 3 nodes" >&2
ticks_before=()
for node in 0 1 2; do ticks_before+=("$(cpu_ticks "${node_pids[$node]}")"); done
load_pids=()
for node in 0 1 2; do
  "${ariadne[@]}" loadgen --target "http://127.0.0.1:${grpc[$node]}" --rate "$RATE" --connections "$CONNECTIONS" \
    --duration "${SECONDS_OF_LOAD}s" --spans-per-request 500 --seed $((node + 1)) --json >"$OUT/load$node.json" 2>"$OUT/load$node.err" &
  load_pids+=($!)
done
for pid in "${load_pids[@]}"; do wait "$pid"; done

total=0
printf '%-6s %14s %12s %18s %14s %12s\n' node "accepted/s" "CPU %" "forwarded spans" "handed on" failures
for node in 0 1 2; do
  rate=$(json_field "$OUT/load$node.json" spansPerSecond)
  ticks=$(( $(cpu_ticks "${node_pids[$node]}") - ${ticks_before[$node]} ))
  cpu=$(awk -v t="$ticks" -v hz="$ticks_per_second" -v s="$SECONDS_OF_LOAD" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
  metrics=$(curl -s "http://127.0.0.1:${query[$node]}/metrics")
  sum() { echo "$metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%.0f", s }'; }
  printf '%-6s %14s %12s %18s %14s %12s\n' "$node" "$rate" "$cpu" "$(sum ariadne_cluster_forwarded_spans_total)" \
    "$(sum ariadne_cluster_handed_on_spans_total)" "$(sum ariadne_cluster_forward_failures_total)"
  total=$(awk -v a="$total" -v b="$rate" 'BEGIN { print a + b }')
done
echo "cluster: $total spans/s acknowledged by 3 nodes (logs and load reports in $OUT)"
