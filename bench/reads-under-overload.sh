#!/usr/bin/env bash
# Reads while ingest saturates the machine, for several server variants alternated in one run: the overload cell of
# bench/ingest-durable.sh (48 connections x 2048-span requests, `loadgen --query` at 10 reads/s). A variant is
# name:SETTINGS, SETTINGS a comma-separated list of environment settings, optionally starting with DLL=<another
# build's ariadne.dll>. Prints one line per cell: ingest spans/s, refused requests, trace-by-id and search p50/p99.
#
#   PROTO=http ROUNDS=2 VARIANTS="base:DLL=/tmp/base/src/Ariadne/bin/Release/net10.0/ariadne.dll nice10:ARIADNE__Limits__IngestNice=10 nice0:ARIADNE__Limits__IngestNice=0" \
#     bash bench/reads-under-overload.sh
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
OUT=${OUT:-$(mktemp -d -t ariadne-overload-XXXXXX)}; mkdir -p "$OUT"
DUR=${DUR:-30s}; PROTO=${PROTO:-grpc}
build_ariadne
DLL=${DLL:-$(ariadne_dll)}
tail_sampling_config off >$OUT/off.json
for round in $(seq 1 ${ROUNDS:-2}); do
for v in ${VARIANTS:-nice0:ARIADNE__Limits__IngestNice=0 nice10:ARIADNE__Limits__IngestNice=10}; do
  name=${v%%:*}; envs=${v#*:}; dll=$DLL
  case "$envs" in DLL=*) dll=${envs#DLL=}; dll=${dll%%,*}; envs=${envs#DLL=$dll}; envs=${envs#,};; esac
  data=$OUT/data-$name
  ariadne=(env ${envs//,/ } dotnet $dll)
  start_ariadne $OUT/$name.log "http query" --config $OUT/off.json --storage ${STORAGE:-embedded} --data $data
  target=$grpc; [ $PROTO = http ] && target=$http
  dotnet $DLL loadgen --protocol $PROTO --target http://127.0.0.1:$target --duration $DUR --connections ${CONN:-48} --spans-per-request ${SPANS:-2048} --json --query http://127.0.0.1:$query --query-rate 10 >$OUT/$name-$round.json 2>$OUT/$name-$round.lg.log
  kill -TERM $server_pid; wait $server_pid; code=$?; server_pid=
  rm -rf $data
  python3 - $OUT/$name-$round.json $name $code $PROTO <<'PY'
import json,sys
r=json.load(open(sys.argv[1])); t=r.get("reads",{}).get("traceById",{}); s=r.get("reads",{}).get("search",{})
print(f"{sys.argv[2]:8} {sys.argv[4]} rate={r.get('spansPerSecond',0):9.0f} failedReq={r.get('failedRequests')} tbid p50/p99={t.get('p50')}/{t.get('p99')} (n={t.get('requests')}) search p50/p99={s.get('p50')}/{s.get('p99')} (n={s.get('requests')}) exit={sys.argv[3]}")
PY
done; done
