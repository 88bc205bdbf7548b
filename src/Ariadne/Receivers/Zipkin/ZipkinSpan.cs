using Ariadne.Model;

namespace Ariadne.Receivers.Zipkin;

/// <summary>
/// One Zipkin v2 span as the JSON and proto3 decoders read it, before <see cref="ZipkinSpanMapper"/> turns it into
/// the OTLP model. One instance is reused for every span of a request.
/// </summary>
internal sealed class ZipkinSpan
{
    public TraceId TraceId { get; set; }

    public SpanId Id { get; set; }

    public SpanId ParentId { get; set; }

    /// <summary>Why the span must be rejected (an id of the wrong length or not hex); null when it is valid.</summary>
    public string? Invalid { get; set; }

    public bool HasTraceId { get; set; }

    public bool HasId { get; set; }

    public string Name { get; set; } = string.Empty;

    public SpanKind Kind { get; set; }

    /// <summary>Epoch microseconds; 0 when absent (Zipkin allows that for late data).</summary>
    public long Timestamp { get; set; }

    /// <summary>Microseconds; 0 when absent.</summary>
    public long Duration { get; set; }

    public ZipkinEndpoint LocalEndpoint { get; set; }

    public ZipkinEndpoint RemoteEndpoint { get; set; }

    public List<(long Timestamp, string Value)> Annotations { get; } = [];

    public List<KeyValuePair<string, string>> Tags { get; } = [];

    public bool Debug { get; set; }

    public bool Shared { get; set; }

    public void Reset()
    {
        TraceId = default;
        Id = default;
        ParentId = default;
        Invalid = null;
        HasTraceId = false;
        HasId = false;
        Name = string.Empty;
        Kind = SpanKind.Unspecified;
        Timestamp = 0;
        Duration = 0;
        LocalEndpoint = default;
        RemoteEndpoint = default;
        Annotations.Clear();
        Tags.Clear();
        Debug = false;
        Shared = false;
    }

    /// <summary>Records the first problem found; later ones add nothing the client needs to fix the first.</summary>
    public void MarkInvalid(string reason) => Invalid ??= reason;

    public void SetTraceId(ReadOnlySpan<char> hex)
    {
        HasTraceId = true;
        if (hex.Length is not (16 or 32) || !TraceId.TryParseHex(hex, out var id))
        {
            MarkInvalid($"traceId '{ErrorExcerpt.Of(hex)}' must be 16 or 32 hex characters");
            return;
        }

        TraceId = id;
    }

    public void SetId(ReadOnlySpan<char> hex)
    {
        HasId = true;
        if (!TryParseSpanId(hex, out var id))
        {
            MarkInvalid($"id '{ErrorExcerpt.Of(hex)}' must be 16 hex characters");
            return;
        }

        Id = id;
    }

    public void SetParentId(ReadOnlySpan<char> hex)
    {
        if (!TryParseSpanId(hex, out var id))
        {
            MarkInvalid($"parentId '{ErrorExcerpt.Of(hex)}' must be 16 hex characters");
            return;
        }

        ParentId = id;
    }

    public void SetKind(ReadOnlySpan<char> kind)
    {
        Kind = kind switch
        {
            "CLIENT" => SpanKind.Client,
            "SERVER" => SpanKind.Server,
            "PRODUCER" => SpanKind.Producer,
            "CONSUMER" => SpanKind.Consumer,
            _ => SpanKind.Unspecified,
        };
        if (Kind == SpanKind.Unspecified)
        {
            MarkInvalid($"kind '{ErrorExcerpt.Of(kind)}' must be one of CLIENT, SERVER, PRODUCER, CONSUMER");
        }
    }

    private static bool TryParseSpanId(ReadOnlySpan<char> hex, out SpanId id)
    {
        id = default;
        return hex.Length == 16 && SpanId.TryParseHex(hex, out id);
    }
}

/// <summary>A Zipkin endpoint; addresses already in text form (the proto3 encoding carries them as bytes).</summary>
internal readonly record struct ZipkinEndpoint(string? ServiceName, string? Ipv4, string? Ipv6, int Port)
{
    public bool IsEmpty => ServiceName is null && Ipv4 is null && Ipv6 is null && Port == 0;
}
