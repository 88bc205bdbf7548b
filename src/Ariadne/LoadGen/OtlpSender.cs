using System.Buffers;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using ProtobufWriter = Ariadne.Model.ProtobufWriter;

namespace Ariadne.LoadGen;

/// <summary>Sends pre-encoded OTLP trace requests over one transport and reads back how many spans were rejected.</summary>
internal abstract class OtlpSender : IDisposable
{
    public static OtlpSender Create(LoadGenOptions options) => options.Protocol switch
    {
        LoadGenProtocol.Grpc => new GrpcOtlpSender(options),
        _ => new HttpOtlpSender(options),
    };

    /// <summary>Sends <paramref name="length"/> bytes of <paramref name="buffer"/>; the buffer is free again when this returns.</summary>
    public abstract Task<SendOutcome> SendAsync(byte[] buffer, int length, CancellationToken cancellationToken);

    public abstract void Dispose();

    /// <summary>
    /// <c>ExportTraceServiceResponse.partial_success.rejected_spans</c> (fields 1 and 1). Anything it cannot read
    /// counts as nothing rejected: the request itself succeeded.
    /// </summary>
    protected static long ReadRejectedSpans(ReadOnlySpan<byte> response)
    {
        var position = 0;
        while (TryReadVarint(response, ref position, out var tag))
        {
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            if (wire == ProtobufWriter.WireLengthDelimited && TryReadVarint(response, ref position, out var length)
                && length <= (ulong)(response.Length - position))
            {
                var content = response.Slice(position, (int)length);
                position += (int)length;
                if (field == 1)
                {
                    return ReadRejectedSpans(content);
                }
            }
            else if (wire == ProtobufWriter.WireVarint && TryReadVarint(response, ref position, out var value))
            {
                if (field == 1)
                {
                    return (long)value;
                }
            }
            else
            {
                return 0;
            }
        }

        return 0;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> buffer, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < buffer.Length; shift += 7)
        {
            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The outcome of one request: spans the server rejected, or why the request failed as a whole.</summary>
internal readonly record struct SendOutcome(long RejectedSpans, string? Error)
{
    public static SendOutcome Failed(string error) => new(0, error);
}

/// <summary>
/// OTLP/gRPC through Grpc.Net.Client with a marshaller that hands over the pre-encoded bytes as they are, so the
/// load generator never builds protobuf objects. One channel is one HTTP/2 connection.
/// </summary>
internal sealed class GrpcOtlpSender : OtlpSender
{
    private static readonly Method<EncodedRequest, byte[]> s_export = new(
        MethodType.Unary,
        "opentelemetry.proto.collector.trace.v1.TraceService",
        "Export",
        Marshallers.Create<EncodedRequest>(
            static (EncodedRequest request, SerializationContext context) =>
            {
                context.SetPayloadLength(request.Length);
                context.GetBufferWriter().Write(request.Buffer.AsSpan(0, request.Length));
                context.Complete();
            },
            // The client only serializes requests; gRPC's API wants both directions.
            static (DeserializationContext context) => new EncodedRequest(context.PayloadAsNewBuffer(), context.PayloadLength)),
        Marshallers.Create(static response => response, static bytes => bytes));

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Metadata? _headers;

    public GrpcOtlpSender(LoadGenOptions options)
    {
        _channel = GrpcChannel.ForAddress(options.Target, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false },
            MaxReceiveMessageSize = 4 * 1024 * 1024,
        });
        _invoker = _channel.CreateCallInvoker();
        foreach (var (name, value) in options.RequestHeaders())
        {
            (_headers ??= []).Add(name, value);
        }
    }

    public override async Task<SendOutcome> SendAsync(byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _invoker.AsyncUnaryCall(s_export, null, new CallOptions(_headers, cancellationToken: cancellationToken), new EncodedRequest(buffer, length));
            return new SendOutcome(ReadRejectedSpans(response), null);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            return SendOutcome.Failed($"grpc {e.StatusCode}");
        }
    }

    public override void Dispose() => _channel.Dispose();

    private sealed record EncodedRequest(byte[] Buffer, int Length);
}

/// <summary>OTLP/HTTP protobuf: <c>POST /v1/traces</c>, one pooled HTTP/1.1 connection per concurrent request.</summary>
internal sealed class HttpOtlpSender : OtlpSender
{
    private static readonly MediaTypeHeaderValue s_protobuf = new("application/x-protobuf");

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly (string Name, string Value)[] _headers;

    public HttpOtlpSender(LoadGenOptions options)
    {
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections }) { Timeout = TimeSpan.FromSeconds(30) };
        _endpoint = new Uri(options.Target, "/v1/traces");
        _headers = options.RequestHeaders().ToArray();
    }

    public override async Task<SendOutcome> SendAsync(byte[] buffer, int length, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(buffer, 0, length);
        content.Headers.ContentType = s_protobuf;
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
        foreach (var (name, value) in _headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await _client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return response.IsSuccessStatusCode
                ? new SendOutcome(ReadRejectedSpans(body), null)
                : SendOutcome.Failed($"http {(int)response.StatusCode}");
        }
        catch (HttpRequestException e)
        {
            return SendOutcome.Failed($"http {e.HttpRequestError}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return SendOutcome.Failed("http timeout");
        }
    }

    public override void Dispose() => _client.Dispose();
}
