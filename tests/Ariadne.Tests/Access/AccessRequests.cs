using System.Net.Http.Headers;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Tests.Access;

/// <summary>OTLP requests with a token and a tenant, and what the access tests read back from a refusal.</summary>
internal static class AccessRequests
{
    /// <summary>An export of <paramref name="count"/> spans, all in one fresh trace.</summary>
    public static ExportTraceServiceRequest Spans(int count, out TraceId traceId)
    {
        var traceBytes = Guid.NewGuid().ToByteArray();
        traceId = TraceId.FromBytes(traceBytes);
        var spans = Enumerable.Range(1, count).Select(i =>
        {
            var span = OtlpProtobufDecoderTests.ValidSpan($"span {i}");
            span.TraceId = ByteString.CopyFrom(traceBytes);
            span.SpanId = ByteString.CopyFrom(BitConverter.GetBytes((ulong)i));
            return span;
        }).ToArray();
        return OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([OtlpProtobufDecoderTests.Attribute("service.name", "access-tests")], spans));
    }

    public static ExportTraceServiceRequest Spans(int count) => Spans(count, out _);

    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, ExportTraceServiceRequest request, string? token = null, string? tenant = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new ByteArrayContent(request.ToByteArray()) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        Authorize(message, token, tenant);
        return await http.SendAsync(message);
    }

    public static void Authorize(HttpRequestMessage message, string? token, string? tenant)
    {
        if (token is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (tenant is not null)
        {
            message.Headers.Add("x-tenant", tenant);
        }
    }

    public static Metadata Metadata(string? token = null, string? tenant = null)
    {
        var metadata = new Metadata();
        if (token is not null)
        {
            metadata.Add("authorization", $"Bearer {token}");
        }

        if (tenant is not null)
        {
            metadata.Add("x-tenant", tenant);
        }

        return metadata;
    }

    /// <summary>The google.rpc.Status body of an OTLP/HTTP error response in protobuf.</summary>
    public static async Task<Google.Rpc.Status> ReadStatusAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        return Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The retry delay a gRPC error carries in grpc-status-details-bin, or null when it has none.</summary>
    public static TimeSpan? RetryDelay(RpcException error)
    {
        var details = error.Trailers.GetValueBytes("grpc-status-details-bin");
        if (details is null)
        {
            return null;
        }

        var status = Google.Rpc.Status.Parser.ParseFrom(details);
        Assert.Equal((int)error.StatusCode, status.Code);
        return RetryDelay(status);
    }

    public static TimeSpan? RetryDelay(Google.Rpc.Status status) =>
        status.Details.FirstOrDefault(d => d.Is(Google.Rpc.RetryInfo.Descriptor)) is { } any ? any.Unpack<Google.Rpc.RetryInfo>().RetryDelay.ToTimeSpan() : null;

    public static async Task<IReadOnlyList<Span>> StoredAsync(ServerFixture fixture, string tenant, TraceId traceId) =>
        await fixture.Server.Services.GetRequiredService<ISpanStore>().GetTraceAsync(tenant, traceId, CancellationToken.None);
}
