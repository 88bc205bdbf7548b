using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Ariadne.GoCompat;
using Ariadne.Model;
using Ariadne.Tenancy;
using Microsoft.Extensions.Primitives;

namespace Ariadne.Query.Jaeger;

/// <summary>What the Jaeger v1 and api_v3 handlers share: parameters read as Go reads them, ids, tenant, JSON output.</summary>
internal static class JaegerHttp
{
    private static readonly JavaScriptEncoder s_encoder = JavaScriptEncoder.Create(UnicodeRanges.All);

    /// <summary>Go's <c>url.Values.Get</c>: the first value, or empty.</summary>
    public static string Get(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] ?? string.Empty : string.Empty;

    public static StringValues GetAll(HttpRequest request, string name) => request.Query[name];

    /// <summary>Jaeger's <c>prettyPrint</c> switch: any value but empty or "false".</summary>
    public static bool WantsPrettyPrint(HttpRequest request) => Get(request, "prettyPrint") is { Length: > 0 } p && p != "false";

    /// <summary>
    /// A span kind filter as Jaeger's storage applies it: empty means every kind, a lower-case kind name that kind;
    /// any other text matches no operation (false), since Jaeger compares the text with stored kind names.
    /// </summary>
    public static bool TryParseKindFilter(string text, out SpanKind? kind)
    {
        kind = SpanMatcher.ParseSpanKindName(text);
        return text.Length == 0 || kind is not null;
    }

    /// <summary>The request's tenant, or null after answering 400 through <paramref name="fail"/>.</summary>
    public static async Task<string?> ResolveTenantAsync(HttpContext context, Func<HttpContext, int, string, Task> fail)
    {
        var resolver = context.RequestServices.GetRequiredService<TenantResolver>();
        var tenant = resolver.Resolve(context.Request);
        if (tenant is null)
        {
            await fail(context, StatusCodes.Status400BadRequest,
                $"invalid tenant in the {resolver.HeaderName} or {TenantResolver.TempoHeader} header: use 1 to 64 letters, digits, '-', '_' or '.'");
        }

        return tenant;
    }

    /// <summary>Jaeger's model.TraceIDFromString: 1 to 32 hex digits, shorter ids padded with zeros.</summary>
    public static bool TryParseTraceId(string text, out TraceId id, out string error)
    {
        id = default;
        ulong high = 0;
        ulong low;
        if (text.Length > 32)
        {
            error = "TraceID cannot be longer than 32 hex characters: " + text;
            return false;
        }

        if (text.Length > 16)
        {
            if (!GoStrconv.TryParseUint(text[..^16], 16, out high, out error) || !GoStrconv.TryParseUint(text[^16..], 16, out low, out error))
            {
                return false;
            }
        }
        else if (!GoStrconv.TryParseUint(text, 16, out low, out error))
        {
            return false;
        }

        id = new TraceId(high, low);
        return true;
    }

    /// <summary>A count of units of <paramref name="ticksPerUnit"/> since the epoch, clamped to the times .NET can hold.</summary>
    public static DateTimeOffset FromUnix(long count, long ticksPerUnit)
    {
        var maxCount = (DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks / ticksPerUnit;
        var minCount = (DateTimeOffset.MinValue - DateTimeOffset.UnixEpoch).Ticks / ticksPerUnit;
        return DateTimeOffset.UnixEpoch.AddTicks(Math.Clamp(count, minCount, maxCount) * ticksPerUnit);
    }

    /// <summary>A Go duration in nanoseconds as a TimeSpan (whole ticks).</summary>
    public static TimeSpan FromNanos(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);

    /// <summary>
    /// Writes a JSON answer, indented by four spaces when <paramref name="pretty"/> (Jaeger's indent). HTML-sensitive
    /// characters are escaped, as Go's encoding/json does, and so is non-ASCII text, which .NET's encoders insist on.
    /// </summary>
    public static async Task WriteJsonAsync(HttpContext context, int statusCode, string contentType, bool pretty, Action<Utf8JsonWriter> write, bool newline = false)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Indented = pretty, IndentSize = 4, Encoder = s_encoder }))
        {
            write(writer);
        }

        if (newline)
        {
            await context.Response.BodyWriter.WriteAsync("\n"u8.ToArray());
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>Go's http.Error: the body as plain text and a trailing newline.</summary>
    public static Task WriteGoErrorAsync(HttpContext context, int statusCode, Action<Utf8JsonWriter> write)
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return WriteJsonAsync(context, statusCode, "text/plain; charset=utf-8", pretty: false, write, newline: true);
    }
}
