#!/usr/bin/env python3
"""Server CPU per span by ingest stage, from a dotnet-trace speedscope file (dotnet-sampled-thread-time profile).

Each sample of a thread that was running managed code (leaf frame CPU_TIME), or native code under ParquetSharp
(encoding and compressing blocks), is charged to the first stage, in the
order of STAGES, whose pattern matches a frame of its stack; the rest is "other". Samples whose innermost managed
frame is the thread pool's idle wait (spinning before it sleeps) are reported apart: a thread-time sampler counts
them as running.

    python3 bench/cpu-by-stage.py trace.speedscope.json SPANS CPU_SECONDS
prints a Markdown table: each stage's share of the CPU samples and the microseconds per span that share is of the
server's measured CPU time (CPU_SECONDS, from /proc) over the spans accepted meanwhile (SPANS).
"""
import collections
import json
import sys

IDLE = "thread pool idle spin"
IDLE_FRAMES = ("LowLevelLifoSemaphore", "LowLevelSpinWaiter", "WorkerThreadStart()", "Monitor.Wait", "WaitHandle")
STAGES = [
    ("garbage collection (threads stopped for it)", ("PollGC", "GCHeap", "gc_heap")),
    ("block cut: spans to Parquet, blooms, tag filters", ("EmbeddedSpanStore.WriteHead", "BlockWriter", "CutHeadAsync")),
    ("compaction and retention", ("Compaction", "Retention")),
    ("aggregators (span metrics, service graph, throughput)", ("Aggregator.Observe", "Aggregates.AddTrace", "DependencyCalculator")),
    ("head: take into memory", ("EmbeddedSpanStore.Take", "EmbeddedSpanStore.Add", "TenantHead", "Head.Add")),
    ("tail sampling", ("TailSampler",)),
    ("ingest log: encode", ("LogRecords.Encode", "SpanCodec.Write", "SegmentLog.Encode")),
    ("ingest log: write, fsync, dispatch", ("SegmentLog", "IngestPipeline.Dispatch")),
    ("OTLP decode", ("OtlpProtobuf", "OtlpSpanFields", "OtlpSpans", "OtlpExport.Decode", "DecodeItem", "Utf8StringTable")),
    ("request: HTTP/2, gRPC framing, body, access", ("Kestrel", "RequestBody", "AccessMiddleware", "OtlpGrpcReceiver", "OtlpHttpReceiver", "System.Net.Sockets", "System.IO.Pipelines")),
]


def main(path, spans, cpu_seconds):
    data = json.load(open(path))
    frames = [f["name"] for f in data["shared"]["frames"]]
    charged = collections.Counter()
    for profile in data["profiles"]:
        stack, last = [], None
        for event in profile["events"]:
            at = event["at"]
            # Native code runs as UNMANAGED_CODE_TIME: Parquet's encoders and zstd are CPU work; other native time
            # is mostly waiting (sockets, fsync, futexes) and is left out.
            if stack and last is not None and (frames[stack[-1]] == "CPU_TIME"
                                               or (frames[stack[-1]] == "UNMANAGED_CODE_TIME" and any("ParquetSharp" in frames[f] for f in stack))):
                names = [frames[f] for f in stack]
                if len(names) > 1 and any(p in names[-2] for p in IDLE_FRAMES):
                    stage = IDLE
                else:
                    stage = next((name for name, patterns in STAGES if any(p in n for n in names for p in patterns)), "other")
                charged[stage] += at - last
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            elif stack:
                stack.pop()
    total = sum(charged.values())
    working = total - charged[IDLE]
    per_span = cpu_seconds * 1e6 / spans
    print(f"| stage | share of working CPU samples | µs per span (of {per_span:.2f}) |")
    print("|---|--:|--:|")
    for name, _ in STAGES + [("other", ())]:
        share = charged[name] / working if working else 0
        print(f"| {name} | {share * 100:.1f}% | {share * per_span:.2f} |")
    print(f"\nThread-pool idle spinning was sampled as running for {charged[IDLE] / total * 100:.1f}% of all CPU samples"
          " (left out above: the kernel may not have given it a core).")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
