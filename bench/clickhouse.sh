# Starts a throwaway ClickHouse server for a bench (sourced, not run; after bench/lib.sh): ../shared/SERVICES.md's
# recipe on free ports under $1, with zstd as the compression of every part. Sets ch_url and ch_pid; ch_stop stops it.
ch_start() {
  local dir=$1 http tcp
  http=$(free_port); tcp=$(free_port)
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files"
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size>
  <timezone>UTC</timezone>
  <compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method></case></compression>
</yandex>
XML
  /usr/bin/clickhouse-server --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 &
  ch_pid=$!
  ch_url="http://127.0.0.1:$http"
  for _ in $(seq 1 100); do curl -sf "$ch_url/ping" >/dev/null && return 0; sleep 0.1; done
  echo "bench: clickhouse did not answer /ping; see $dir/log/err.log" >&2
  return 1
}

ch_stop() {
  [ -n "${ch_pid:-}" ] || return 0
  kill -TERM "$ch_pid" 2>/dev/null || true
  for _ in $(seq 1 150); do grep -qs '^State:.[^Z]' "/proc/$ch_pid/status" || break; sleep 0.1; done
  ch_pid=
}
