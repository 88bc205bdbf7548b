using Ariadne.Model;
using Ariadne.Pipeline;

namespace Ariadne.Receivers.Zipkin;

/// <summary>
/// Maps Zipkin v2 spans into the OTLP model the way the OpenTelemetry Collector's zipkin receiver does (which is
/// what Jaeger v2 runs): <c>localEndpoint.serviceName</c> becomes the resource's <c>service.name</c>, endpoints
/// become <c>net.host.*</c>/<c>net.peer.*</c>/<c>peer.service</c> attributes, tags become string attributes,
/// annotations become events, µs become ns. One mapper per request: resources and scopes are shared by the
/// spans of a service, so a request allocates one <see cref="Resource"/> per service, not per span.
/// </summary>
/// <remarks>
/// Shared spans (<c>"shared": true</c>, a server span that reuses its client's span id) are kept as they are, so
/// a trace holds two spans with one id. Jaeger stores them the same way and separates them when reading
/// (its query service's SpanIDUniquifier gives the server span a fresh id and makes the client span its parent);
/// readers of our storage do the same, since the two halves usually arrive in different requests.
/// </remarks>
internal sealed class ZipkinSpanMapper(SpanBatch batch)
{
    /// <summary>The Collector marks spans that came without a timestamp with this attribute (start is then 0).</summary>
    public const string StartTimeAbsentAttribute = "otel.zipkin.absentField.startTime";

    /// <summary>Zipkin's "store even if sampling says no" flag; there is no OTLP field for it.</summary>
    public const string DebugAttribute = "zipkin.debug";

    private const uint SampledFlag = 0x01;

    private readonly Dictionary<string, Resource> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string Version), InstrumentationScope> _scopes = [];
    private readonly List<KeyValue> _attributes = [];

    public void Add(ZipkinSpan zipkin)
    {
        if (zipkin.Invalid is not null)
        {
            batch.Reject(zipkin.Invalid);
            return;
        }

        if (!zipkin.HasTraceId || !zipkin.HasId)
        {
            batch.Reject(zipkin.HasTraceId ? "id is required" : "traceId is required");
            return;
        }

        var serviceName = string.IsNullOrEmpty(zipkin.LocalEndpoint.ServiceName) ? Resource.UnknownService : zipkin.LocalEndpoint.ServiceName;
        var span = new Span
        {
            TraceId = zipkin.TraceId,
            SpanId = zipkin.Id,
            // A parent equal to the span itself means "no parent" to Zipkin instrumentation that reports root spans that way.
            ParentSpanId = zipkin.ParentId == zipkin.Id ? default : zipkin.ParentId,
            Name = zipkin.Name,
            Kind = zipkin.Kind,
            Flags = SampledFlag,
            Resource = GetResource(serviceName),
        };

        string? scopeName = null, scopeVersion = null, statusCode = null, statusDescription = null, error = null;
        _attributes.Clear();
        foreach (var (key, value) in zipkin.Tags)
        {
            switch (key)
            {
                case "otel.scope.name" or "otel.library.name":
                    scopeName = value;
                    break;
                case "otel.scope.version" or "otel.library.version":
                    scopeVersion = value;
                    break;
                case "otel.status_code":
                    statusCode = value;
                    break;
                case "otel.status_description":
                    statusDescription = value;
                    break;
                case "error":
                    error = value;
                    break;
                case "w3c.tracestate":
                    span.TraceState = value;
                    break;
                case "span.kind" when zipkin.Kind == SpanKind.Unspecified:
                    if (value == "internal")
                    {
                        span.Kind = SpanKind.Internal;
                    }

                    break;
                default:
                    _attributes.Add(KeyValue.String(key, value));
                    break;
            }
        }

        if (scopeName is not null)
        {
            span.Scope = GetScope(scopeName, scopeVersion ?? string.Empty);
        }

        SetStatus(span, statusCode, statusDescription, error);
        KeepStatusTags(statusCode, statusDescription, error);
        AddEndpointAttributes(zipkin);
        if (zipkin.Debug)
        {
            _attributes.Add(KeyValue.Bool(DebugAttribute, true));
        }

        if (zipkin.Timestamp == 0)
        {
            _attributes.Add(KeyValue.Bool(StartTimeAbsentAttribute, true));
        }

        span.StartTimeUnixNano = zipkin.Timestamp * 1000;
        span.EndTimeUnixNano = span.StartTimeUnixNano + (zipkin.Duration * 1000);
        span.Attributes = _attributes.ToArray();
        if (zipkin.Annotations.Count > 0)
        {
            var events = new SpanEvent[zipkin.Annotations.Count];
            for (var i = 0; i < events.Length; i++)
            {
                var (timestamp, value) = zipkin.Annotations[i];
                events[i] = new SpanEvent(timestamp * 1000, value, []);
            }

            span.Events = events;
        }

        batch.Spans.Add(span);
    }

    /// <summary>
    /// The status as the OpenTelemetry Collector's zipkinv2 translator sets it (Jaeger v2 runs it, and readers of
    /// the Jaeger API must see the span Jaeger shows): <c>otel.status_code</c>, when present, sets the code (its
    /// proto names and the Go exporter's Unset/Ok/Error; any other value, even "OK" or "ERROR", is unset) and only
    /// then <c>otel.status_description</c> the message. Then Zipkin's <c>error</c> tag, whatever its value, makes
    /// the span ERROR; it is never the message.
    /// </summary>
    private static void SetStatus(Span span, string? statusCode, string? statusDescription, string? error)
    {
        if (statusCode is not null)
        {
            span.StatusCode = statusCode switch
            {
                "STATUS_CODE_OK" or "Ok" => StatusCode.Ok,
                "STATUS_CODE_ERROR" or "Error" => StatusCode.Error,
                _ => StatusCode.Unset,
            };
            span.StatusMessage = statusDescription ?? string.Empty;
        }

        if (error is not null)
        {
            span.StatusCode = StatusCode.Error;
        }
    }

    /// <summary>
    /// The status tags the translator leaves as attributes: an <c>error</c> tag other than "true" (the message or
    /// the exception's name, kept as the string tag <c>error</c>), and <c>otel.status_description</c> without
    /// <c>otel.status_code</c>.
    /// </summary>
    private void KeepStatusTags(string? statusCode, string? statusDescription, string? error)
    {
        if (statusCode is null && statusDescription is not null)
        {
            _attributes.Add(KeyValue.String("otel.status_description", statusDescription));
        }

        if (error is not (null or "true"))
        {
            _attributes.Add(KeyValue.String("error", error));
        }
    }

    private void AddEndpointAttributes(ZipkinSpan zipkin)
    {
        var local = zipkin.LocalEndpoint;
        if ((local.Ipv6 ?? local.Ipv4) is { } hostIp)
        {
            AddIfAbsent(KeyValue.String("net.host.ip", hostIp));
        }

        if (local.Port > 0)
        {
            AddIfAbsent(KeyValue.Int("net.host.port", local.Port));
        }

        var remote = zipkin.RemoteEndpoint;
        if (!string.IsNullOrEmpty(remote.ServiceName))
        {
            AddIfAbsent(KeyValue.String("peer.service", remote.ServiceName));
        }

        if ((remote.Ipv6 ?? remote.Ipv4) is { } peerIp)
        {
            AddIfAbsent(KeyValue.String("net.peer.ip", peerIp));
        }

        if (remote.Port > 0)
        {
            AddIfAbsent(KeyValue.Int("net.peer.port", remote.Port));
        }
    }

    /// <summary>A tag the instrumentation set itself wins over the one derived from an endpoint.</summary>
    private void AddIfAbsent(KeyValue attribute)
    {
        foreach (var existing in _attributes)
        {
            if (existing.Key == attribute.Key)
            {
                return;
            }
        }

        _attributes.Add(attribute);
    }

    private Resource GetResource(string serviceName)
    {
        if (!_resources.TryGetValue(serviceName, out var resource))
        {
            resource = new Resource { ServiceName = serviceName, Attributes = [KeyValue.String("service.name", serviceName)] };
            _resources.Add(serviceName, resource);
        }

        return resource;
    }

    private InstrumentationScope GetScope(string name, string version)
    {
        if (!_scopes.TryGetValue((name, version), out var scope))
        {
            scope = new InstrumentationScope { Name = name, Version = version };
            _scopes.Add((name, version), scope);
        }

        return scope;
    }
}
