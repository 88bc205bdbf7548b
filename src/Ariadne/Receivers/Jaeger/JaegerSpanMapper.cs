using System.Globalization;
using Ariadne.Model;
using Ariadne.Pipeline;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// Maps Jaeger spans into the OTLP model as Jaeger v2 does, which runs the OpenTelemetry Collector's jaeger translator
/// (<c>pkg/translator/jaeger</c>: <c>jaegerthrift_to_traces.go</c>, <c>jaegerproto_to_traces.go</c>):
/// <list type="bullet">
/// <item>the process's service name becomes <c>service.name</c> and its tags the resource's attributes (<c>hostname</c>
/// renamed <c>host.name</c>, <c>jaeger.version</c> turned into <c>opencensus.exporterversion</c> "Jaeger-…");</item>
/// <item><c>span.kind</c> sets the kind; <c>error</c> (a bool true), <c>otel.status_code</c> and
/// <c>otel.status_description</c>, or else <c>http.status_code</c>, set the status;</item>
/// <item>the parent is the explicit parent id (Thrift) or else the first CHILD_OF, then FOLLOWS_FROM, reference in the
/// same trace; every other reference becomes a link with <c>opentracing.ref_type</c>;</item>
/// <item>logs become events named by their <c>event</c> field; times are µs (Thrift) or timestamps (protobuf).</item>
/// </list>
/// The protobuf path also takes the scope from <c>otel.scope.name</c>/<c>otel.scope.version</c> and the trace state
/// from <c>w3c.tracestate</c>; the Thrift path leaves those tags as attributes, as the translator does.
/// </summary>
internal sealed class JaegerSpanMapper(SpanBatch batch, bool proto)
{
    /// <summary>The service name the Collector gives a resource without one when it writes Jaeger protobuf.</summary>
    public const string NoServiceName = "OTLPResourceNoServiceName";

    private const int SampledFlag = 0x01;

    private readonly JaegerAttributes _attributes = new();
    private readonly Dictionary<(string Name, string Version), InstrumentationScope> _scopes = [];

    public SpanBatch Batch => batch;

    /// <summary>The resource of a process; one per batch (and per span that carries its own process).</summary>
    public Resource CreateResource(string serviceName, List<KeyValue> tags)
    {
        if (proto && serviceName == NoServiceName)
        {
            return new Resource { ServiceName = Resource.UnknownService };
        }

        _attributes.Clear();
        if (serviceName.Length > 0)
        {
            _attributes.Put(KeyValue.String("service.name", serviceName));
        }

        _attributes.PutAll(tags, 0, tags.Count);
        if (_attributes.TryGet("hostname", out var hostname) && !_attributes.TryGet("host.name", out _))
        {
            _attributes.Remove("hostname");
            _attributes.Put(new KeyValue("host.name", hostname));
        }

        if (_attributes.TryGet("jaeger.version", out var version) && !_attributes.TryGet("opencensus.exporterversion", out _))
        {
            _attributes.Remove("jaeger.version");
            _attributes.Put(KeyValue.String("opencensus.exporterversion", "Jaeger-" + (version.Type == AnyValueType.String ? version.AsString : string.Empty)));
        }

        var name = _attributes.TryGet("service.name", out var service) && service.Type == AnyValueType.String && service.AsString.Length > 0
            ? service.AsString
            : Resource.UnknownService;
        return new Resource { ServiceName = name, Attributes = _attributes.ToArray() };
    }

    public void Add(JaegerSpan jaeger, Resource resource)
    {
        var span = new Span
        {
            TraceId = jaeger.TraceId,
            SpanId = jaeger.SpanId,
            ParentSpanId = ParentOf(jaeger),
            Name = jaeger.OperationName,
            Flags = (uint)(jaeger.Flags & SampledFlag),
            StartTimeUnixNano = jaeger.StartTimeUnixNano,
            EndTimeUnixNano = jaeger.StartTimeUnixNano + jaeger.DurationNanos,
            Resource = jaeger.Process ?? resource,
        };
        if (proto)
        {
            span.Scope = TakeScope(jaeger.Tags);
        }

        _attributes.Clear();
        _attributes.PutAll(jaeger.Tags, 0, jaeger.Tags.Count);
        if (_attributes.TryTakeString("span.kind", out var kind))
        {
            span.Kind = kind switch
            {
                "client" => SpanKind.Client,
                "server" => SpanKind.Server,
                "producer" => SpanKind.Producer,
                "consumer" => SpanKind.Consumer,
                "internal" => SpanKind.Internal,
                _ => SpanKind.Unspecified,
            };
        }

        SetStatus(span);
        if (proto && _attributes.TryTakeString("w3c.tracestate", out var traceState))
        {
            span.TraceState = traceState;
        }

        span.Attributes = _attributes.ToArray();
        span.Events = MapLogs(jaeger);
        span.Links = MapReferences(jaeger, span.ParentSpanId);
        batch.Spans.Add(span);
    }

    /// <summary>Thrift's explicit parent; else, as Jaeger's model, the first CHILD_OF reference in the same trace, then the first FOLLOWS_FROM.</summary>
    private static SpanId ParentOf(JaegerSpan jaeger)
    {
        if (!jaeger.ParentSpanId.IsEmpty)
        {
            return jaeger.ParentSpanId;
        }

        SpanId followsFrom = default;
        foreach (var reference in jaeger.References)
        {
            if (reference.TraceId != jaeger.TraceId)
            {
                continue;
            }

            if (!reference.FollowsFrom)
            {
                return reference.SpanId;
            }

            if (followsFrom.IsEmpty)
            {
                followsFrom = reference.SpanId;
            }
        }

        return followsFrom;
    }

    /// <summary>As <c>setInternalSpanStatus</c>: the error tag first, then otel.status_code, then http.status_code.</summary>
    private void SetStatus(Span span)
    {
        var code = StatusCode.Unset;
        var message = string.Empty;
        var exists = false;
        if (_attributes.TryGet("error", out var error) && error.Type == AnyValueType.Bool && error.AsBool)
        {
            code = StatusCode.Error;
            exists = true;
            _attributes.Remove("error");
            if (!_attributes.TryTakeString("otel.status_description", out message) && _attributes.TryGet("http.status_message", out var httpMessage))
            {
                message = httpMessage.Type == AnyValueType.String ? httpMessage.AsString : string.Empty;
            }
        }

        if (_attributes.TryGet("otel.status_code", out var statusCode))
        {
            if (!exists)
            {
                exists = true;
                var value = statusCode.Type == AnyValueType.String ? statusCode.AsString : string.Empty;
                code = value.ToUpperInvariant() switch
                {
                    "OK" => StatusCode.Ok,
                    "ERROR" => StatusCode.Error,
                    _ => StatusCode.Unset,
                };
                _attributes.TryTakeString("otel.status_description", out message);
            }

            _attributes.Remove("otel.status_code");
        }
        else if (!exists && _attributes.TryGet("http.status_code", out var httpCode) && HttpStatus(httpCode) is { } http)
        {
            // A 4xx is the client's error, not the server's; 100..398 is no error (the translator's bound is < 399).
            var fromHttp = (http is >= 400 and < 500 && span.Kind == SpanKind.Server) || http is >= 100 and < 399
                ? StatusCode.Unset
                : StatusCode.Error;
            if (fromHttp != StatusCode.Unset)
            {
                exists = true;
                code = fromHttp;
            }

            if (_attributes.TryGet("http.status_message", out var httpMessage))
            {
                message = httpMessage.Type == AnyValueType.String ? httpMessage.AsString : string.Empty;
            }
        }

        if (exists)
        {
            span.StatusCode = code;
            span.StatusMessage = message;
        }
    }

    /// <summary>An int, or a string holding one, as the translator's <c>codeFromAttr</c> reads it.</summary>
    private static long? HttpStatus(AnyValue value) => value.Type switch
    {
        AnyValueType.Int => value.AsInt,
        AnyValueType.String when long.TryParse(value.AsString, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private SpanEvent[] MapLogs(JaegerSpan jaeger)
    {
        if (jaeger.Logs.Count == 0)
        {
            return [];
        }

        var events = new SpanEvent[jaeger.Logs.Count];
        for (var i = 0; i < events.Length; i++)
        {
            var log = jaeger.Logs[i];
            _attributes.Clear();
            _attributes.PutAll(jaeger.LogFields, log.FirstField, log.FieldCount);
            _attributes.TryTakeString("event", out var name);
            events[i] = new SpanEvent(log.TimeUnixNano, name, _attributes.ToArray());
        }

        return events;
    }

    private static SpanLink[] MapReferences(JaegerSpan jaeger, SpanId parent)
    {
        var links = new List<SpanLink>(jaeger.References.Count);
        foreach (var reference in jaeger.References)
        {
            if (!reference.FollowsFrom && reference.SpanId == parent)
            {
                continue;
            }

            links.Add(new SpanLink(reference.TraceId, reference.SpanId, string.Empty,
                [KeyValue.String("opentracing.ref_type", reference.FollowsFrom ? "follows_from" : "child_of")]));
        }

        return links.Count == 0 ? [] : links.ToArray();
    }

    /// <summary>As the translator's <c>getScope</c>: the first <c>otel.scope.name</c> tag, then (only with it) the first version tag, both removed.</summary>
    private InstrumentationScope TakeScope(List<KeyValue> tags)
    {
        if (TakeTag(tags, "otel.scope.name") is not { } name)
        {
            return InstrumentationScope.Empty;
        }

        var version = TakeTag(tags, "otel.scope.version") ?? string.Empty;
        if (!_scopes.TryGetValue((name, version), out var scope))
        {
            scope = new InstrumentationScope { Name = name, Version = version };
            _scopes.Add((name, version), scope);
        }

        return scope;
    }

    private static string? TakeTag(List<KeyValue> tags, string key)
    {
        for (var i = 0; i < tags.Count; i++)
        {
            if (tags[i].Key == key)
            {
                var value = tags[i].Value;
                tags.RemoveAt(i);
                return value.Type == AnyValueType.String ? value.AsString : string.Empty;
            }
        }

        return null;
    }
}
