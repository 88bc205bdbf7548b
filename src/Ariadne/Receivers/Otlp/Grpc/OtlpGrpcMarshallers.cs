using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>A decoded OTLP/gRPC export of a signal Ariadne stores (traces, logs): the batch, or why the message is not valid OTLP.</summary>
public sealed class OtlpGrpcRequest<TBatch>
    where TBatch : class
{
    internal OtlpGrpcRequest(TBatch? batch, string? malformed)
    {
        Batch = batch;
        Malformed = malformed;
    }

    internal TBatch? Batch { get; }

    internal string? Malformed { get; }

    /// <summary>The call's tenant and batch; refuses the call (InvalidArgument) for a bad tenant or a malformed message.</summary>
    internal (string Tenant, TBatch Batch) Accept(OtlpTraceService service, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var tenant = service.ResolveTenant(http.Request)
            ?? throw OtlpGrpcMiddleware.Refuse(service, http, "bad_tenant", StatusCode.InvalidArgument, service.InvalidTenantMessage);
        return Batch is null
            ? throw OtlpGrpcMiddleware.Refuse(service, http, "malformed", StatusCode.InvalidArgument, Malformed!)
            : (tenant, Batch);
    }
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

    // Server side only: requests are never written and responses never read. The export response of every signal
    // has the same shape.
    private static readonly Marshaller<OtlpExportResponse> s_response = Marshallers.Create<OtlpExportResponse>(
        (response, context) => context.Complete(OtlpProtobufResponses.EncodeExportResponse(response)),
        (DeserializationContext _) => throw new NotSupportedException());

    public static readonly Method<OtlpGrpcRequest<SpanBatch>, OtlpExportResponse> ExportTraces = Export<SpanBatch>(TraceService, OtlpProtobufTraceDecoder.Decode);

    /// <summary>The Export method of a stored signal's service, its requests decoded by <paramref name="decode"/>.</summary>
    public static Method<OtlpGrpcRequest<TBatch>, OtlpExportResponse> Export<TBatch>(string service, OtlpDecode<TBatch> decode)
        where TBatch : class, new() =>
        Unary(service, context => Decode(context, decode));

    public static Method<OtlpGrpcIgnoredRequest, OtlpExportResponse> ExportIgnored(OtlpIgnoredSignal signal) =>
        Unary(signal.GrpcService, context => CountIgnored(signal, context));

    private static Method<TRequest, OtlpExportResponse> Unary<TRequest>(string service, Func<DeserializationContext, TRequest> decode) =>
        new(MethodType.Unary, service, ExportMethod, Marshallers.Create((_, _) => throw new NotSupportedException(), decode), s_response);

    private static OtlpGrpcRequest<TBatch> Decode<TBatch>(DeserializationContext context, OtlpDecode<TBatch> decode)
        where TBatch : class, new()
    {
        var batch = new TBatch();
        try
        {
            using var payload = new ContiguousPayload(context.PayloadAsReadOnlySequence());
            decode(payload.Span, batch);
            return new OtlpGrpcRequest<TBatch>(batch, null);
        }
        catch (OtlpMalformedException e)
        {
            return new OtlpGrpcRequest<TBatch>(null, e.Message);
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
