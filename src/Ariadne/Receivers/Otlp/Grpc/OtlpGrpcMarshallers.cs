using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>A decoded OTLP/gRPC trace export: the spans, or why the message is not valid OTLP.</summary>
public sealed class OtlpGrpcTraceRequest
{
    internal OtlpGrpcTraceRequest(SpanBatch? batch, string? malformed)
    {
        Batch = batch;
        Malformed = malformed;
    }

    internal SpanBatch? Batch { get; }

    internal string? Malformed { get; }
}

/// <summary>A logs or metrics export, counted and dropped: the number of items, or why the message is not valid.</summary>
public sealed class OtlpGrpcIgnoredRequest
{
    internal OtlpGrpcIgnoredRequest(OtlpIgnoredSignal signal, long items, string? malformed)
    {
        Signal = signal;
        Items = items;
        Malformed = malformed;
    }

    internal OtlpIgnoredSignal Signal { get; }

    internal long Items { get; }

    internal string? Malformed { get; }
}

/// <summary>
/// The gRPC methods of the OTLP collector services with our own marshallers: the request marshaller hands the
/// message bytes to the hand-written decoder (no generated types), the response marshaller encodes by hand. A
/// malformed message does not throw here (Grpc.AspNetCore would answer Internal): it travels in the request, and
/// the service answers InvalidArgument.
/// </summary>
internal static class OtlpGrpcMarshallers
{
    public const string TraceService = "opentelemetry.proto.collector.trace.v1.TraceService";
    public const string ExportMethod = "Export";

    // Server side only: requests are never written and responses never read.
    private static readonly Marshaller<OtlpExportResponse> s_response = Marshallers.Create<OtlpExportResponse>(
        (response, context) => context.Complete(OtlpProtobufResponses.EncodeExportResponse(response)),
        (DeserializationContext _) => throw new NotSupportedException());

    /// <summary>The export response of every signal: all have the same shape.</summary>
    public static Marshaller<OtlpExportResponse> ExportResponse => s_response;

    public static readonly Method<OtlpGrpcTraceRequest, OtlpExportResponse> ExportTraces = new(
        MethodType.Unary, TraceService, ExportMethod, Marshallers.Create<OtlpGrpcTraceRequest>((_, _) => throw new NotSupportedException(), DecodeTraces), s_response);

    public static Method<OtlpGrpcIgnoredRequest, OtlpExportResponse> ExportIgnored(OtlpIgnoredSignal signal) => new(
        MethodType.Unary,
        signal.GrpcService,
        ExportMethod,
        Marshallers.Create<OtlpGrpcIgnoredRequest>((_, _) => throw new NotSupportedException(), context => CountIgnored(signal, context)),
        s_response);

    private static OtlpGrpcTraceRequest DecodeTraces(DeserializationContext context)
    {
        var batch = new SpanBatch();
        try
        {
            using var payload = new ContiguousPayload(context.PayloadAsReadOnlySequence());
            OtlpProtobufTraceDecoder.Decode(payload.Span, batch);
            return new OtlpGrpcTraceRequest(batch, null);
        }
        catch (OtlpMalformedException e)
        {
            return new OtlpGrpcTraceRequest(null, e.Message);
        }
    }

    private static OtlpGrpcIgnoredRequest CountIgnored(OtlpIgnoredSignal signal, DeserializationContext context)
    {
        try
        {
            using var payload = new ContiguousPayload(context.PayloadAsReadOnlySequence());
            return new OtlpGrpcIgnoredRequest(signal, signal.CountProtobuf(payload.Span), null);
        }
        catch (OtlpMalformedException e)
        {
            return new OtlpGrpcIgnoredRequest(signal, 0, e.Message);
        }
    }
}
