# Shared helpers of the end-to-end bench scripts (sourced, not run).

# free_port: a port nothing listens on, below the kernel's ephemeral range (32768 and up): a port inside it can be
# taken by an outgoing connection between this probe and the server's bind (tests/Ariadne.Tests/Infrastructure/FreePort.cs).
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 22000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

wait_for_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listens on port $1 after 30 s; see the server log" >&2
  return 1
}

# User plus system CPU of a process so far, in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# json_field FILE NAME: a number from the load generator's --json summary.
json_field() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | awk '{print $2}'; }

# ariadne_dll [CHECKOUT]: the Release build's ariadne.dll in CHECKOUT (this one by default).
ariadne_dll() { echo "${1:-$PWD}/src/Ariadne/bin/Release/net10.0/ariadne.dll"; }

# build_ariadne: builds this checkout's Ariadne in Release and sets the command array `ariadne` to it.
build_ariadne() {
  echo "==> building Ariadne (Release)" >&2
  dotnet build src/Ariadne/Ariadne.csproj -c Release -v quiet -nologo >&2
  ariadne=(dotnet "$(ariadne_dll)")
}

# tail_sampling_config off | WAIT_SECONDS POLICY...: prints a config file for `ariadne serve --config`: tail sampling
# off, or on with a decision wait of WAIT_SECONDS and, besides the built-in keep-errors policy, the POLICY words:
#   slow          traces over 1 s
#   gold          customer.tier = gold
#   checkout      http.route = /checkout
#   NAME=PERCENT  a probabilistic policy called NAME keeping PERCENT % of the rest
# The demo's policies are `5 slow sample=30`; the shop's `WAIT slow gold checkout rest=10`.
tail_sampling_config() {
  if [ "$1" = off ]; then
    echo '{ "Sampling": { "Tail": { "Enabled": false } } }'
    return
  fi
  local wait=$1 policy separator=
  shift
  printf '{ "Sampling": { "Tail": { "DecisionWait": "00:00:%02d", "Policies": [\n' "$wait"
  for policy in "$@"; do
    printf '%s' "$separator"; separator=$',\n'
    case $policy in
      slow) printf '  { "name": "slow", "type": "latency", "latency": { "threshold_ms": 1000 } }' ;;
      gold) printf '  { "name": "gold", "type": "string_attribute", "string_attribute": { "key": "customer.tier", "values": [ "gold" ] } }' ;;
      checkout) printf '  { "name": "checkout", "type": "string_attribute", "string_attribute": { "key": "http.route", "values": [ "/checkout" ] } }' ;;
      *=*) printf '  { "name": "%s", "type": "probabilistic", "probabilistic": { "sampling_percentage": %s } }' "${policy%%=*}" "${policy#*=}" ;;
      *) echo "tail_sampling_config: POLICY is slow, gold, checkout or NAME=PERCENT, not $policy" >&2; return 2 ;;
    esac
  done
  printf '\n] } } }\n'
}

# The server and the clickhouse-server a script started (start_ariadne and start_clickhouse set server_pid and
# ch_pid); both stopped on exit whatever happens.
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; stop_clickhouse' EXIT

# start_ariadne LOG LISTENERS [SERVE ARGS...]: `"${ariadne[@]}" serve SERVE ARGS` on 127.0.0.1, its output appended
# to LOG. OTLP/gRPC always gets a free port; LISTENERS names which of http (OTLP/HTTP), zipkin and query get one too,
# and the others of those three are off (port 0), as is the sampling port. The ports are exported as grpc, http, zipkin
# and query (0 when off); other listeners (Jaeger, Tempo) are the caller's, in SERVE ARGS. Waits for the server to be up
# (its "Ariadne is up" line, printed once every listener is bound; every build since the line existed prints it) and
# sets server_pid. The command is the array `ariadne`: put another build, an `env` or a taskset prefix there.
start_ariadne() {
  local log=$1 listeners=$2 name attempt from
  shift 2
  # A free port can be taken by another process between choosing it and the server binding it: the server then exits
  # saying so, and the ports are chosen again.
  for attempt in 1 2 3 4 5; do
    grpc=$(free_port) http=0 zipkin=0 query=0
    for name in $listeners; do
      case $name in
        http) http=$(free_port) ;;
        zipkin) zipkin=$(free_port) ;;
        query) query=$(free_port) ;;
        *) echo "start_ariadne: LISTENERS are http, zipkin and query (OTLP/gRPC is always on), not $name" >&2; return 2 ;;
      esac
    done
    export grpc http zipkin query
    from=1
    [ -f "$log" ] && from=$(( $(wc -l <"$log") + 1 ))
    "${ariadne[@]}" serve "$@" --listen-address 127.0.0.1 --otlp-grpc-port "$grpc" --otlp-http-port "$http" \
      --zipkin-port "$zipkin" --query-port "$query" --sampling-port 0 >>"$log" 2>&1 &
    server_pid=$!
    wait_for_server "$server_pid" "$log" "$from" && return 0
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    tail -n "+$from" "$log" | grep -q "already in use" || { echo "bench: ariadne serve did not start; see $log" >&2; return 1; }
    echo "bench: a chosen port was taken before ariadne bound it (attempt $attempt); choosing again" >&2
  done
  return 1
}

# wait_for_server PID LOG FROM: true once the server's "Ariadne is up" line (printed when every listener is bound) is
# in LOG past line FROM; false as soon as the process is gone, or after 60 s.
wait_for_server() {
  for _ in $(seq 1 600); do
    tail -n "+$3" "$2" | grep -q "^Ariadne is up" && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  echo "bench: ariadne serve is not up after 60 s; see $2" >&2
  return 1
}

# start_clickhouse DIR [zstd]: a fresh clickhouse-server (data in DIR, loopback, free ports), ready when it answers
# /ping; sets ch_url, ch_http (its HTTP port) and ch_pid; stop_clickhouse stops it. Config as in ../shared/SERVICES.md
# section 1; with zstd every part is compressed with zstd (what issue 16's tables compare), otherwise with
# ClickHouse's default (lz4).
ch_pid=
start_clickhouse() {
  local d=$1 compression= tcp
  [ "${2:-}" = zstd ] && compression='<compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method></case></compression>'
  ch_http=$(free_port); tcp=$(free_port)
  ch_url="http://127.0.0.1:$ch_http"
  mkdir -p "$d/data" "$d/tmp" "$d/log" "$d/user_files"
  cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host><http_port>$ch_http</http_port><tcp_port>$tcp</tcp_port>
  <path>$d/data/</path><tmp_path>$d/tmp/</tmp_path><user_files_path>$d/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size><timezone>UTC</timezone>
  $compression
</yandex>
XML
  /usr/sbin/clickhouse-server --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
  ch_pid=$!
  for _ in $(seq 1 300); do curl -sf "$ch_url/ping" >/dev/null && return 0; sleep 0.1; done
  echo "bench: clickhouse did not answer /ping after 30 s; see $d/log/err.log" >&2
  return 1
}
stop_clickhouse() {
  if [ -n "$ch_pid" ]; then
    kill -TERM "$ch_pid" 2>/dev/null || true
    wait "$ch_pid" 2>/dev/null || true
    ch_pid=
  fi
}

# storage_benches SPANS [BENCH ARGS...]: the storage bench (bench/Ariadne.Benchmarks, built here in Release) on SPANS
# spans into each engine of ENGINES (embedded and/or clickhouse, both by default) in turn, each on fresh data (the
# clickhouse engine on its own clickhouse-server, every part zstd); each output in $OUT/ENGINE.txt, then the Markdown
# table of bench/search-table.sh.
storage_benches() {
  local spans=$1 engine outputs=()
  shift
  echo "==> building the benchmarks (Release)" >&2
  dotnet build bench/Ariadne.Benchmarks -c Release -v quiet -nologo >&2
  local bench=(dotnet bench/Ariadne.Benchmarks/bin/Release/net10.0/Ariadne.Benchmarks.dll)
  for engine in ${ENGINES:-embedded clickhouse}; do
    echo "==> $engine: $spans spans (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    case $engine in
      embedded) "${bench[@]}" "$spans" "$OUT/embedded-data" "$@" | tee "$OUT/embedded.txt" >&2
                rm -rf "$OUT/embedded-data" ;;
      clickhouse) start_clickhouse "$OUT/clickhouse" zstd
                  "${bench[@]}" "$spans" "$@" --engine clickhouse --url "$ch_url" | tee "$OUT/clickhouse.txt" >&2
                  stop_clickhouse; rm -rf "$OUT/clickhouse/data" ;;
      *) echo "ENGINES: embedded and/or clickhouse, not $engine" >&2; exit 2 ;;
    esac
    outputs+=("$OUT/$engine.txt")
  done
  bash bench/search-table.sh "${outputs[@]}"
}
