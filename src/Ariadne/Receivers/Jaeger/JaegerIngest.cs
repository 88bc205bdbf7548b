using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// What the four Jaeger transports share once they have a payload: decode it into a batch (Thrift or protobuf),
/// hand it to the <see cref="IngestPipeline"/>, and count and log (at most once per reason every 10 s) what was
/// refused. The tenant, limits and auth of the HTTP and gRPC listeners are applied before, by the access middleware.
/// </summary>
public sealed class JaegerIngest(IngestPipeline pipeline, IngestMetrics metrics, ILogger<JaegerIngest> logger)
{
    public const string ThriftHttpProtocol = "jaeger_thrift_http";
    public const string GrpcProtocol = "jaeger_grpc";
    public const string CompactProtocol = "jaeger_thrift_compact";
    public const string BinaryProtocol = "jaeger_thrift_binary";

    private static readonly long s_logIntervalMillis = 10_000;

    private readonly Dictionary<(string Protocol, string Reason), (long LoggedAt, int Suppressed)> _logged = [];
    private readonly Lock _lock = new();

    /// <summary>
    /// Decodes one payload with <paramref name="decode"/> into a new batch; on a malformed payload, returns null and
    /// the problem, which the caller answers in its protocol's way (and records with <see cref="RecordFailure"/>).
    /// </summary>
    internal static (SpanBatch? Batch, string? Problem) Decode(ReadOnlySpan<byte> payload, bool proto, JaegerDecode decode)
    {
        var batch = new SpanBatch();
        try
        {
            decode(payload, new JaegerSpanMapper(batch, proto));
            return (batch, null);
        }
        catch (Exception e) when (e is JaegerFormatException or OtlpMalformedException)
        {
            return (null, e.Message);
        }
    }

    public ValueTask<IngestResult> IngestAsync(string tenant, string protocol, SpanBatch batch, CancellationToken cancellationToken) =>
        pipeline.IngestAsync(tenant, protocol, batch, cancellationToken);

    /// <summary>Counts a refused request or dropped datagram (reasons as in <see cref="IngestMetrics.RecordFailedRequest"/>) and logs it, rate-limited.</summary>
    public void RecordFailure(string protocol, string reason, string? tenant, string message)
    {
        metrics.RecordFailedRequest(protocol, reason);
        int suppressed;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (_logged.TryGetValue((protocol, reason), out var last) && now - last.LoggedAt < s_logIntervalMillis)
            {
                _logged[(protocol, reason)] = (last.LoggedAt, last.Suppressed + 1);
                return;
            }

            suppressed = last.Suppressed;
            _logged[(protocol, reason)] = (now, 0);
        }

        logger.LogWarning(
            "Refused Jaeger spans on {Protocol} from tenant {Tenant}: {Reason}: {Message} ({Suppressed} more refused for this reason since the last such line)",
            protocol, tenant ?? "(invalid tenant header)", reason, message, suppressed);
    }
}

/// <summary>A decoder of one Jaeger payload format, feeding the mapper.</summary>
internal delegate void JaegerDecode(ReadOnlySpan<byte> payload, JaegerSpanMapper mapper);
