#!/usr/bin/env bash
# Long runs of the decoder fuzz harnesses (fuzz/Ariadne.Fuzz), a bench, not CI: CI runs DecoderFuzzTests, which
# replays every crash kept under tests/Ariadne.Tests/Fuzzing/Fixtures/<target>/ and a few thousand mutations each.
#
#   scripts/fuzz.sh [mutate] [executions per target, default 10000000] [target ...]
#       the in-process mutation fuzzer (the CI test's mutations, stacked; no coverage guidance), about 10^4 to 10^5
#       executions a second per target on one core, so 10M each takes minutes; progress every 10 s on stderr.
#   scripts/fuzz.sh afl [seconds per target, default 600] [target ...]
#       coverage-guided, SharpFuzz under afl-fuzz (Debian: apt-get install afl++). A .NET process per fork keeps
#       it at a few hundred to a few thousand executions a second: 10M would take hours per target.
#
# Targets: every FuzzTargets.All entry (the list is printed by `ARIADNE_FUZZ_TARGET=? dotnet artifacts/fuzz/bin/Ariadne.Fuzz.dll`).
# Findings land in artifacts/fuzz/<target>/findings; copy a crash into the fixtures folder above to keep it. The last
# lines are the figures docs/RELIABILITY.md records: per target, executions, crashes, hangs (over 1 s of CPU), the rate
# and the slowest input.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=mutate
if [ "${1:-}" = mutate ] || [ "${1:-}" = afl ]; then
  mode="$1"
  shift
fi

if [ "$mode" = afl ]; then budget="${1:-600}"; else budget="${1:-10000000}"; fi
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(otlp-protobuf-traces otlp-protobuf-logs otlp-json-traces otlp-json-logs zipkin-json zipkin-proto
    jaeger-thrift-compact jaeger-thrift-binary jaeger-thrift-http jaeger-proto grpc-message gzip-body deflate-body
    search-language jaeger-query)
fi

out=artifacts/fuzz/bin
dotnet publish fuzz/Ariadne.Fuzz -c Release -o "$out" -v quiet -nologo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

summary=()
failed=0
for target in "${targets[@]}"; do
  work="artifacts/fuzz/$target"
  mkdir -p "$work/corpus"
  ARIADNE_FUZZ_TARGET="$target" dotnet "$out/Ariadne.Fuzz.dll" seeds "$work/corpus" >/dev/null
  if [ -d "tests/Ariadne.Tests/Fuzzing/Fixtures/$target" ]; then
    cp "tests/Ariadne.Tests/Fuzzing/Fixtures/$target"/* "$work/corpus/"
  fi

  if [ "$mode" = mutate ]; then
    echo "fuzzing $target for $budget executions"
    line=$(ARIADNE_FUZZ_TARGET="$target" dotnet "$out/Ariadne.Fuzz.dll" mutate "$budget" 1 "$work/corpus" "$work/findings") || failed=1
    echo "$line"
    summary+=("$line")
  else
    command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: install afl++ (apt-get install afl++)." >&2; exit 1; }
    command -v sharpfuzz >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
    command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0
    # Instrument the assembly under test (not SharpFuzz itself) so afl sees the decoders' branches; once per publish.
    [ -f "$out/.instrumented" ] || { sharpfuzz "$out/ariadne.dll"; touch "$out/.instrumented"; }
    echo "fuzzing $target for ${budget}s under afl-fuzz"
    AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 ARIADNE_FUZZ_TARGET="$target" \
      afl-fuzz -V "$budget" -t 10000 -m none -i "$work/corpus" -o "$work/findings" -- dotnet "$out/Ariadne.Fuzz.dll" --afl || true
    crashes=$(find "$work/findings" -path '*crashes/id*' | wc -l)
    hangs=$(find "$work/findings" -path '*hangs/id*' | wc -l)
    execs=$(grep -h '^execs_done' "$work"/findings/*/fuzzer_stats 2>/dev/null | awk '{s += $3} END {print s + 0}')
    line="$target: $execs executions in ${budget} s ($((execs / budget))/s), $crashes crashes, $hangs hangs (afl-fuzz)"
    echo "$line"
    summary+=("$line")
    [ "$crashes$hangs" = 00 ] || failed=1
  fi
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== summary ($mode) =="
printf '%s\n' "${summary[@]}"
exit "$failed"
