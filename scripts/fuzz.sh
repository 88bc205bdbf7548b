#!/usr/bin/env bash
# Coverage-guided fuzzing of the body decoders with SharpFuzz under afl-fuzz (Debian: apt-get install afl++), for
# a fixed time per target. A bench, not CI: CI runs DecoderFuzzTests, which also replays every crash kept under
# tests/Ariadne.Tests/Fuzzing/Fixtures/<target>/.
#
#   scripts/fuzz.sh [seconds per target, default 600] [target ...]
#
# Targets: otlp-protobuf-traces otlp-protobuf-logs otlp-json-traces otlp-json-logs zipkin-json zipkin-proto.
# Findings land in artifacts/fuzz/<target>/findings; copy a crash into the fixtures folder above to keep it.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(otlp-protobuf-traces otlp-protobuf-logs otlp-json-traces otlp-json-logs zipkin-json zipkin-proto)
fi

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: install afl++ (apt-get install afl++)." >&2; exit 1; }
command -v sharpfuzz >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0

out=artifacts/fuzz/bin
dotnet publish fuzz/Ariadne.Fuzz -c Release -o "$out" -v quiet -nologo
# Instrument the assembly under test (not SharpFuzz itself) so afl sees the decoders' branches.
sharpfuzz "$out/ariadne.dll"

for target in "${targets[@]}"; do
  work="artifacts/fuzz/$target"
  mkdir -p "$work/corpus"
  ARIADNE_FUZZ_TARGET="$target" dotnet "$out/Ariadne.Fuzz.dll" seeds "$work/corpus"
  if [ -d "tests/Ariadne.Tests/Fuzzing/Fixtures/$target" ]; then
    cp "tests/Ariadne.Tests/Fuzzing/Fixtures/$target"/* "$work/corpus/"
  fi

  echo "fuzzing $target for ${budget}s"
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 ARIADNE_FUZZ_TARGET="$target" \
    afl-fuzz -V "$budget" -t 10000 -m none -i "$work/corpus" -o "$work/findings" -- dotnet "$out/Ariadne.Fuzz.dll" --afl || true
  crashes=$(find "$work/findings" -path '*crashes/id*' | wc -l)
  hangs=$(find "$work/findings" -path '*hangs/id*' | wc -l)
  execs=$(grep -h '^execs_done' "$work"/findings/*/fuzzer_stats 2>/dev/null | awk '{s += $3} END {print s + 0}')
  echo "$target: $execs executions, $crashes crashes, $hangs hangs"
done
