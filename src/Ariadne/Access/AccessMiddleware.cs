using System.Buffers;
using System.Buffers.Binary;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Limits;
using Ariadne.Operations;
using Ariadne.Receivers.Jaeger;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Grpc;
using Ariadne.Tenancy;
using Grpc.Core;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http.Features;

namespace Ariadne.Access;

/// <summary>
/// Who may do what, and whether the server can take more, checked once for every request by the listener it
/// arrived on, before any endpoint reads the body. Ingest listeners (OTLP gRPC, OTLP HTTP, Zipkin, Jaeger HTTP and
/// gRPC): bearer token with the ingest scope, known tenant, the tenant's request size and rate, then the server's
/// memory bounds, then a turn among the ingest requests handled at once, at ingest priority (<see cref="IngestConcurrency"/>).
/// Query listener: bearer token with the query scope and known tenant; health probes (and /metrics with
/// Auth:AllowAnonymousMetrics) answer without. The sampling listener is open.
/// </summary>
internal sealed class AccessMiddleware(
    RequestDelegate next,
    BearerTokens tokens,
    TenantResolver tenants,
    TenantRateLimiter rates,
    IngestMemoryLimiter memory,
    IngestConcurrency concurrency,
    AriadneOptions options,
    IngestMetrics metrics,
    ILogger<AccessMiddleware> logger)
{
    private const string ZipkinProtocol = "zipkin";
    private const int GrpcFrameHeaderBytes = 5;

    private readonly RefusalLog _log = new(logger);

    public async Task InvokeAsync(HttpContext context)
    {
        var listener = context.GetListener();
        var scope = listener switch
        {
            Listener.OtlpGrpc or Listener.OtlpHttp or Listener.Zipkin or Listener.JaegerThriftHttp or Listener.JaegerGrpc => AuthScopes.Ingest,
            Listener.Query or Listener.Tempo => AuthScopes.Query,
            _ => AuthScopes.None,
        };
        var anonymous = false;
        var operations = scope == AuthScopes.Query && IsOperationsPath(context.Request.Path, out anonymous);
        if (scope == AuthScopes.None || anonymous)
        {
            await next(context);
            return;
        }

        // Kestrel's whole-body limit would cut a gRPC call a few framing bytes before the receiver's per-message
        // limit (the same number), and the client would get a reset stream instead of ResourceExhausted; it can
        // only be lifted before the body is first read, and this middleware may read the frame header.
        if (listener!.Value.IsGrpc() && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        if ((Authenticate(context, scope) ?? (operations ? OperationsOnly(context) : CheckTenant(context) ?? CheckUiTenant(context))) is { } refusal)
        {
            await RefuseAsync(context, listener!.Value, refusal);
            return;
        }

        // A tenant header that is not a tenant id is the receiver's to answer (400), as without limits.
        if (scope == AuthScopes.Query || tenants.Resolve(context.Request) is not { } tenant)
        {
            await next(context);
            return;
        }

        if (await GetRequestBytesAsync(context, listener!.Value) is not { } bytes)
        {
            return;
        }

        if (Admit(tenant, bytes, listener.Value.IsGrpc()) is { } overLimit)
        {
            await RefuseAsync(context, listener.Value, overLimit);
            return;
        }

        try
        {
            await concurrency.EnterAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away while waiting for its turn: nothing was read, nothing to answer.
            memory.Release(bytes);
            return;
        }

        try
        {
            await concurrency.RunAsync(() => next(context));
        }
        finally
        {
            concurrency.Exit();
            memory.Release(bytes);
        }
    }

    private Refusal? Authenticate(HttpContext context, AuthScopes scope)
    {
        if (!tokens.Enabled)
        {
            return null;
        }

        var request = context.Request;
        if (!TryGetBearerToken(request.Headers.Authorization.ToString(), out var presented))
        {
            return Unauthenticated("a bearer token is required: send the header 'Authorization: Bearer <token>' with a token from Auth:Tokens.", "Bearer");
        }

        if (tokens.Find(presented) is not { } token)
        {
            return Unauthenticated("the bearer token is not valid: use a token listed in Auth:Tokens.", "Bearer error=\"invalid_token\"");
        }

        var name = scope == AuthScopes.Ingest ? "ingest" : "query";
        if ((token.Scopes & scope) == 0)
        {
            return new Refusal(StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "forbidden",
                $"the bearer token may not {name}: use a token with the {name} scope (Auth:Tokens:N:Scopes).", Challenge: "Bearer error=\"insufficient_scope\"");
        }

        if (token.Tenant is { } bound)
        {
            if (tenants.NamesTenant(request) && tenants.ResolveFromHeaders(request) != bound)
            {
                return new Refusal(StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "forbidden",
                    $"the bearer token belongs to tenant '{bound}' and may not act as another: drop the {tenants.HeaderName} header or use that tenant's token.");
            }

            context.Features.Set(new TenantBinding(bound));
        }

        return null;
    }

    private Refusal? CheckTenant(HttpContext context)
    {
        if (tenants.Resolve(context.Request) is not { } tenant || tenants.IsAllowed(tenant))
        {
            return null;
        }

        var message = $"tenant '{tenant}' is not known: name a known tenant in the {tenants.HeaderName} header, or add it to the server's Tenancy:Tenants (Tenancy:Tenants:N:Id={tenant}).";
        return new Refusal(StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, "unknown_tenant", message, Challenge: tokens.Enabled ? "Bearer" : null);
    }

    /// <summary>
    /// /metrics spans every tenant (span metrics, service-graph edges, exemplars with trace ids), so a token
    /// bound to one tenant may not read it; an unbound query token (an operator's) may.
    /// </summary>
    private static Refusal? OperationsOnly(HttpContext context) =>
        context.Features.Get<TenantBinding>() is { } binding
            ? new Refusal(StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "forbidden",
                $"/metrics holds every tenant's data and the bearer token belongs to tenant '{binding.Tenant}': scrape it with a query token that has no Auth:Tokens:N:Tenant.")
            : null;

    /// <summary>
    /// API endpoints answer a malformed tenant header themselves (400, in their own format); UI pages would render
    /// the default tenant instead, so they are refused here the same way.
    /// </summary>
    private Refusal? CheckUiTenant(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is null || tenants.Resolve(context.Request) is not null)
        {
            return null;
        }

        return new Refusal(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "bad_tenant",
            $"the {tenants.HeaderName} (or {TenantResolver.TempoHeader}) header must be 1 to 64 letters, digits, '-', '_' or '.'; fix the header your proxy sends.");
    }

    private Refusal? Admit(string tenant, long bytes, bool grpc)
    {
        // A gRPC message over the server's limit by its frame header: refused before anything is reserved or read
        // (a header may declare 4 GiB, and reserving that would turn every other request away meanwhile). An HTTP
        // Content-Length over it is Kestrel's to refuse (MaxRequestBodySize) when the receiver starts reading: an
        // answer sent here, before the endpoint runs, races an HTTP/1.1 client still sending its body into a reset.
        if (grpc && bytes > options.Ingest.MaxRequestBytes)
        {
            return new Refusal(StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "too_large",
                $"the request is {bytes} bytes, over the server's limit of {options.Ingest.MaxRequestBytes} (Ingest:MaxRequestBytes); send smaller batches.");
        }

        if (tenants.Find(tenant)?.MaxRequestBytes is { } maxBytes && bytes > maxBytes)
        {
            return new Refusal(StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "too_large",
                $"the request is {bytes} bytes, over the {maxBytes} bytes tenant '{tenant}' may send at once (Tenancy:Tenants:N:MaxRequestBytes); send smaller batches.");
        }

        var wait = rates.TimeUntilAvailable(tenant);
        if (wait > TimeSpan.Zero)
        {
            return new Refusal(StatusCodes.Status429TooManyRequests, StatusCode.ResourceExhausted, "rate_limited",
                $"tenant '{tenant}' is over its ingest rate limit (IngestRateSpansPerSecond); retry later, as Retry-After says.", wait);
        }

        if (memory.IsHeapOverLimit())
        {
            return Overloaded("the server's memory is over its bound (Limits:MaxHeapBytes / Limits:MaxHeapPercent)");
        }

        return memory.TryReserve(bytes)
            ? null
            : Overloaded($"the server is receiving more than {options.Limits.MaxInFlightBytes} bytes of requests at once (Limits:MaxInFlightBytes)");
    }

    private Refusal Overloaded(string why) =>
        new(StatusCodes.Status429TooManyRequests, StatusCode.ResourceExhausted, "overloaded", $"{why}; retry later, as Retry-After says.", options.Limits.OverloadRetryAfter);

    private static Refusal Unauthenticated(string message, string challenge) =>
        new(StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, "unauthenticated", message, Challenge: challenge);

    private async Task RefuseAsync(HttpContext context, Listener listener, Refusal refusal)
    {
        if (IngestProtocol(listener) is { } protocol)
        {
            metrics.RecordFailedRequest(protocol, refusal.Reason);
        }

        _log.Refused(listener, refusal, context.Request.Path, tenants.Resolve(context.Request));
        await refusal.WriteAsync(context, listener);
    }

    /// <summary>The protocol label of a listener's failed requests on /metrics; null for listeners that take no spans.</summary>
    internal static string? IngestProtocol(Listener listener) => listener switch
    {
        Listener.OtlpGrpc => OtlpTraceService.GrpcProtocol,
        Listener.OtlpHttp => OtlpTraceService.HttpProtocol,
        Listener.Zipkin => ZipkinProtocol,
        Listener.JaegerThriftHttp => JaegerIngest.ThriftHttpProtocol,
        Listener.JaegerGrpc => JaegerIngest.GrpcProtocol,
        Listener.Cluster => Cluster.ClusterForwarder.Protocol,
        _ => null,
    };

    /// <summary>
    /// The bytes a request will take in memory as sent: Content-Length, or for gRPC the length in the first
    /// message's frame header, read without consuming it. Null when the client went away meanwhile.
    /// </summary>
    private static async ValueTask<long?> GetRequestBytesAsync(HttpContext context, Listener listener)
    {
        var request = context.Request;
        if (!listener.IsGrpc() || !OtlpGrpcReceiver.IsGrpc(request.ContentType))
        {
            return request.ContentLength ?? 0;
        }

        try
        {
            var result = await request.BodyReader.ReadAtLeastAsync(GrpcFrameHeaderBytes, context.RequestAborted);
            var length = ReadFrameLength(result.Buffer);
            // Nothing consumed or examined: the receiver reads the same bytes next.
            request.BodyReader.AdvanceTo(result.Buffer.Start);
            return length;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return null;
        }
    }

    private static long ReadFrameLength(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < GrpcFrameHeaderBytes)
        {
            return buffer.Length;
        }

        Span<byte> header = stackalloc byte[GrpcFrameHeaderBytes];
        buffer.Slice(0, GrpcFrameHeaderBytes).CopyTo(header);
        return GrpcFrameHeaderBytes + BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }

    private static bool TryGetBearerToken(string authorization, out ReadOnlySpan<char> token)
    {
        var value = authorization.AsSpan().Trim();
        const string scheme = "Bearer ";
        if (value.Length > scheme.Length && value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            token = value[scheme.Length..].Trim();
            return token.Length > 0;
        }

        token = default;
        return false;
    }

    /// <summary>Health probes and /metrics: no tenant's data. Probes are always anonymous, /metrics when configured.</summary>
    private bool IsOperationsPath(PathString path, out bool anonymous)
    {
        // Tempo's /ready is its readiness probe, which Tempo serves without authentication too.
        var probe = path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.Equals("/ready", StringComparison.OrdinalIgnoreCase);
        var metricsPath = path.Equals("/metrics", StringComparison.OrdinalIgnoreCase);
        anonymous = probe || (metricsPath && options.Auth.AllowAnonymousMetrics);
        return probe || metricsPath;
    }
}
