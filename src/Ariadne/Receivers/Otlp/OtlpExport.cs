using System.Buffers;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// One OTLP export request of one signal, as both transports handle it once the body is read: decode it (protobuf
/// or JSON), then hand what was decoded to <see cref="OtlpTraceService"/>. One instance per request.
/// </summary>
internal abstract class OtlpExport
{
    /// <summary>The partial success field that counts this signal's rejected items in OTLP/JSON.</summary>
    public abstract string RejectedJsonField { get; }

    public static OtlpExport Traces() => new StoredExport<SpanBatch>(
        "rejectedSpans", OtlpProtobufTraceDecoder.Decode, OtlpJsonTraceDecoder.Decode, static (service, tenant, protocol, batch, ct) => service.ExportAsync(tenant, protocol, batch, ct));

    public static OtlpExport Logs() => new StoredExport<LogBatch>(
        "rejectedLogRecords", OtlpProtobufLogDecoder.Decode, OtlpJsonLogDecoder.Decode, static (service, tenant, protocol, batch, ct) => service.ExportLogsAsync(tenant, protocol, batch, ct));

    public static OtlpExport Ignored(OtlpIgnoredSignal signal) => new IgnoredExport(signal);

    /// <summary>Decodes the body into this export: null, or why the body is not valid OTLP.</summary>
    public string? Decode(in ReadOnlySequence<byte> body, bool json)
    {
        try
        {
            using var payload = new ContiguousPayload(body);
            Decode(payload.Span, json);
            return null;
        }
        catch (OtlpMalformedException e)
        {
            return e.Message;
        }
    }

    public abstract ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, string protocol, CancellationToken cancellationToken);

    protected abstract void Decode(ReadOnlySpan<byte> payload, bool json);

    /// <summary>A signal Ariadne stores (traces, logs): decoded into its batch, which goes to the service.</summary>
    private sealed class StoredExport<TBatch>(
        string rejectedJsonField,
        OtlpDecode<TBatch> decodeProtobuf,
        OtlpDecode<TBatch> decodeJson,
        Func<OtlpTraceService, string, string, TBatch, CancellationToken, ValueTask<OtlpExportResponse>> export) : OtlpExport
        where TBatch : new()
    {
        private readonly TBatch _batch = new();

        public override string RejectedJsonField => rejectedJsonField;

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, string protocol, CancellationToken cancellationToken) =>
            export(service, tenant, protocol, _batch, cancellationToken);

        protected override void Decode(ReadOnlySpan<byte> payload, bool json) => (json ? decodeJson : decodeProtobuf)(payload, _batch);
    }

    /// <summary>A signal that is counted and dropped (<see cref="OtlpIgnoredSignal"/>).</summary>
    private sealed class IgnoredExport(OtlpIgnoredSignal signal) : OtlpExport
    {
        private long _items;

        // Never sent: an ignored signal rejects nothing.
        public override string RejectedJsonField => "rejectedDataPoints";

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, string protocol, CancellationToken cancellationToken) =>
            ValueTask.FromResult(service.Ignore(signal, _items));

        protected override void Decode(ReadOnlySpan<byte> payload, bool json) =>
            _items = json ? signal.CountJson(payload) : signal.CountProtobuf(payload);
    }
}
