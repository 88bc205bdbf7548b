# Shared helpers of the end-to-end bench scripts (sourced, not run).

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
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

# The server a script started (set server_pid after starting it); stopped on exit whatever happens.
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

# start_clickhouse DIR: a fresh clickhouse-server (data in DIR, loopback, free ports); sets ch_http and ch_pid.
# stop_clickhouse stops it. Config as in ../shared/SERVICES.md section 1.
ch_pid=
start_clickhouse() {
  local d=$1 tcp
  ch_http=$(free_port); tcp=$(free_port)
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
</yandex>
XML
  /usr/sbin/clickhouse-server --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
  ch_pid=$!
  wait_for_port "$ch_http"
}
stop_clickhouse() {
  if [ -n "$ch_pid" ]; then
    kill -TERM "$ch_pid" 2>/dev/null || true
    wait "$ch_pid" 2>/dev/null || true
    ch_pid=
  fi
}
