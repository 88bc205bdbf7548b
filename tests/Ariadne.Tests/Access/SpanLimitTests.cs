using System.Net;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tenancy;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Ariadne.Tests.Access.AccessRequests;
using static Ariadne.Tests.Receivers.Otlp.OtlpProtobufDecoderTests;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Access;

/// <summary>Span limits small enough to hit with a few spans; tenant "roomy" lifts the attribute byte limit.</summary>
public sealed class SmallSpanLimitsServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options)
    {
        options.Limits.MaxAttributeBytes = 64;
        options.Limits.MaxAttributesPerSpan = 4;
        options.Limits.MaxEventsPerSpan = 2;
        options.Limits.MaxLinksPerSpan = 1;
        options.Limits.MaxAttributeDepth = 2;
        options.Limits.MaxBytesPerTrace = 20_000;
        options.Limits.MaxLogBodyBytes = 100;
        options.Tenancy.Tenants.Add(new TenantOptions { Id = "roomy", MaxAttributeBytes = 0 });
    }
}

/// <summary>Tempo-like limits per tenant, applied in the ingest pipeline whatever the receiver, and counted on /metrics.</summary>
public sealed class SpanLimitTests(SmallSpanLimitsServerFixture fixture) : IClassFixture<SmallSpanLimitsServerFixture>
{
    [Fact]
    public async Task Over_the_limits_values_are_truncated_to_whole_characters_also_the_resources_extras_dropped_and_counted_and_deep_values_kept_as_json()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var request = Spans(1, out var trace);
        request.ResourceSpans[0].Resource.Attributes.Add(Attribute("resource.long", new string('r', 100)));
        var span = request.ResourceSpans[0].ScopeSpans[0].Spans[0];
        span.Attributes.Add(Attribute("emoji", string.Concat(Enumerable.Repeat("😀", 40))));
        span.Attributes.Add(Attribute("deep", Nested(4)));
        foreach (var i in Enumerable.Range(0, 4))
        {
            span.Attributes.Add(Attribute($"extra.{i}", "x"));
        }

        foreach (var i in Enumerable.Range(0, 3))
        {
            span.Events.Add(new PTrace.Span.Types.Event { Name = $"event {i}", TimeUnixNano = span.StartTimeUnixNano });
        }

        foreach (var i in Enumerable.Range(0, 2))
        {
            span.Links.Add(new PTrace.Span.Types.Link { TraceId = span.TraceId, SpanId = ByteString.CopyFrom(BitConverter.GetBytes(100UL + (ulong)i)) });
        }

        using var response = await PostAsync(http, request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await StoredAsync(fixture, "default", trace));
        Assert.Equal(4, stored.Attributes.Length);
        Assert.Equal(2u, stored.DroppedAttributesCount);
        Assert.True(stored.TryGetAttribute("emoji", out var emoji));
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 16)), emoji.AsString);
        Assert.True(stored.TryGetAttribute("deep", out var deep));
        Assert.Equal(AnyValueType.Array, deep.Type);
        Assert.Equal(AnyValueType.Array, deep.AsArray[0].Type);
        Assert.Equal("[[1]]", deep.AsArray[0].AsArray[0].AsString);
        Assert.Equal(new string('r', 64), stored.Resource.Attributes.Single(a => a.Key == "resource.long").Value.AsString);
        Assert.Equal(["event 0", "event 1"], stored.Events.Select(e => e.Name));
        Assert.Equal(1u, stored.DroppedEventsCount);
        Assert.Single(stored.Links);
        Assert.Equal(1u, stored.DroppedLinksCount);
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        foreach (var reason in new[] { "attribute_truncated", "attribute_dropped", "event_dropped", "link_dropped", "attribute_flattened" })
        {
            Assert.Contains($"ariadne_span_limited_items_total{{reason=\"{reason}\",tenant=\"default\"}}", metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Event_and_link_attributes_get_the_span_attribute_limits_and_an_event_adds_what_it_dropped_to_its_count()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var request = Spans(1, out var trace);
        var span = request.ResourceSpans[0].ScopeSpans[0].Spans[0];
        var crowded = new PTrace.Span.Types.Event { Name = "crowded", TimeUnixNano = span.StartTimeUnixNano, DroppedAttributesCount = 1 };
        var link = new PTrace.Span.Types.Link { TraceId = span.TraceId, SpanId = ByteString.CopyFrom(BitConverter.GetBytes(100UL)) };
        foreach (var i in Enumerable.Range(0, 6))
        {
            crowded.Attributes.Add(Attribute($"event.{i}", new string('e', 100)));
            link.Attributes.Add(Attribute($"link.{i}", new string('l', 100)));
        }

        span.Events.Add(crowded);
        span.Links.Add(link);

        using var response = await PostAsync(http, request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await StoredAsync(fixture, "default", trace));
        var storedEvent = Assert.Single(stored.Events);
        Assert.Equal(["event.0", "event.1", "event.2", "event.3"], storedEvent.Attributes.Select(a => a.Key));
        Assert.All(storedEvent.Attributes, a => Assert.Equal(new string('e', 64), a.Value.AsString));
        Assert.Equal(3u, storedEvent.DroppedAttributesCount);
        var storedLink = Assert.Single(stored.Links);
        Assert.Equal(["link.0", "link.1", "link.2", "link.3"], storedLink.Attributes.Select(a => a.Key));
        Assert.All(storedLink.Attributes, a => Assert.Equal(new string('l', 64), a.Value.AsString));
    }

    /// <summary>Issue 13: log records get the attribute limits and a body limit, counted on /metrics by reason.</summary>
    [Fact]
    public async Task Log_records_over_the_limits_have_their_body_and_attributes_cut_and_counted()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var attributes = string.Join(',', Enumerable.Range(0, 6).Select(i => $$$"""{"key":"a{{{i}}}","value":{"stringValue":"{{{(i == 0 ? new string('v', 100) : "x")}}}"}}"""));
        const string Deep = """{"key":"deep","value":{"arrayValue":{"values":[{"arrayValue":{"values":[{"arrayValue":{"values":[{"intValue":"1"}]}}]}}]}}}""";
        var body = $$$"""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"log-limits"}}]},"scopeLogs":[{"logRecords":[
              {"traceId":"{{{traceId}}}","timeUnixNano":"1700000000000000000","body":{"stringValue":"{{{new string('b', 300)}}}"},"attributes":[{{{attributes}}}]},
              {"traceId":"{{{traceId}}}","timeUnixNano":"1700000000000000001","body":{"stringValue":"short"},"attributes":[{{{Deep}}}]}]}]}]}
            """;
        using var response = await http.PostAsync("/v1/logs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var stored = System.Text.Json.JsonDocument.Parse(await fixture.Query.GetStringAsync($"/api/ariadne/traces/{traceId}/logs"));
        var logs = stored.RootElement.GetProperty("logs").EnumerateArray().ToList();
        Assert.Equal(2, logs.Count);
        var wide = logs.Single(l => l.GetProperty("body").GetString() != "short");
        Assert.Equal(new string('b', 100), wide.GetProperty("body").GetString());
        Assert.Equal(4, wide.GetProperty("attributes").EnumerateObject().Count());
        Assert.Equal(2, wide.GetProperty("droppedAttributesCount").GetInt32());
        Assert.Equal(64, wide.GetProperty("attributes").GetProperty("a0").GetString()!.Length);
        var deep = logs.Single(l => l.GetProperty("body").GetString() == "short");
        Assert.Equal(System.Text.Json.JsonValueKind.String, deep.GetProperty("attributes").GetProperty("deep")[0][0].ValueKind);

        var metrics = await fixture.Query.GetStringAsync("/metrics");
        foreach (var reason in new[] { "body_limited", "attribute_truncated", "attribute_dropped", "attribute_flattened" })
        {
            Assert.Contains($"ariadne_log_limited_items_total{{reason=\"{reason}\",tenant=\"default\"}}", metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_tenant_override_lifts_the_attribute_byte_limit_for_that_tenant_only()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var value = new string('v', 500);
        var request = Spans(1, out var trace);
        request.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes.Add(Attribute("long", value));

        using var response = await PostAsync(http, request, tenant: "roomy");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await StoredAsync(fixture, "roomy", trace));
        Assert.True(stored.TryGetAttribute("long", out var kept));
        Assert.Equal(value, kept.AsString);
    }

    [Fact]
    public async Task Spans_that_would_take_a_trace_over_its_byte_limit_are_refused_as_partial_success_and_other_traces_still_pass()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var traceBytes = Guid.NewGuid().ToByteArray();
        var trace = TraceId.FromBytes(traceBytes);
        var accepted = 0;
        var rejected = 0L;
        string? message = null;

        // Three requests of 40 spans of one trace, each span about 330 bytes: the 20,000-byte limit takes about 60.
        for (var r = 0; r < 3; r++)
        {
            var request = Spans(40);
            var n = 0;
            foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
            {
                span.TraceId = ByteString.CopyFrom(traceBytes);
                span.SpanId = ByteString.CopyFrom(BitConverter.GetBytes(1000UL * (ulong)(r + 1) + (ulong)n++));
                foreach (var a in Enumerable.Range(0, 4))
                {
                    span.Attributes.Add(Attribute($"p{a}", new string('p', 60)));
                }
            }

            using var response = await PostAsync(http, request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var partial = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).PartialSuccess;
            rejected += partial?.RejectedSpans ?? 0;
            message ??= string.IsNullOrEmpty(partial?.ErrorMessage) ? null : partial.ErrorMessage;
        }

        accepted = (await StoredAsync(fixture, "default", trace)).Count;
        using var other = await PostAsync(http, Spans(3, out var otherTrace));

        Assert.InRange(accepted, 30, 70);
        Assert.Equal(120, accepted + rejected);
        Assert.Contains("Limits:MaxBytesPerTrace", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(3, (await StoredAsync(fixture, "default", otherTrace)).Count);
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains($"ariadne_discarded_spans_total{{reason=\"trace_too_large\",tenant=\"default\"}} {rejected}", metrics, StringComparison.Ordinal);
    }

    /// <summary>An int inside <paramref name="levels"/> arrays.</summary>
    private static PCommon.AnyValue Nested(int levels)
    {
        var value = new PCommon.AnyValue { IntValue = 1 };
        for (var i = 0; i < levels; i++)
        {
            var array = new PCommon.ArrayValue();
            array.Values.Add(value);
            value = new PCommon.AnyValue { ArrayValue = array };
        }

        return value;
    }
}
