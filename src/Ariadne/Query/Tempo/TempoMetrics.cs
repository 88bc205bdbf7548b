using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Tempo;

/// <summary>
/// TraceQL metrics over the stored spans the filter selects (<c>/api/metrics/query_range</c> and
/// <c>/api/metrics/query</c>), computed as Tempo's engine computes them: spans counted in the step their start falls
/// in, the range aligned to the step, <c>rate()</c> per second, quantiles from power-of-two buckets with Tempo's
/// interpolation (durations in seconds), <c>histogram_over_time</c> as one series per bucket labelled <c>__bucket</c>,
/// ungrouped series labelled <c>__name__</c>, exemplars labelled <c>trace:id</c>. The answer is Tempo's
/// <c>QueryRangeResponse</c> / <c>QueryInstantResponse</c> JSON; PARTIAL when more traces matched than one read
/// examines (<see cref="TraceQueryService.SampleLimit"/>).
/// </summary>
internal static class TempoMetrics
{
    private const int DefaultExemplars = 100;

    public static async Task QueryRangeAsync(HttpContext context, string tenant, TraceQueryService reads)
    {
        var query = ParseQuery(context.Request);
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var (start, end) = TempoParameters.ParseMetricsWindow(context.Request, time.GetUtcNow());
        var step = TempoParameters.ParseStep(context.Request, start, end);
        var exemplars = (int)Math.Min(TempoParameters.ParseUInt(context.Request, "exemplars") ?? DefaultExemplars, 10_000);
        // Range queries are aligned to the step (traceql alignStart/alignEnd), so the same query gives the same buckets.
        start -= start % step;
        end = end % step == 0 ? end : end + step - end % step;
        var result = await EvaluateAsync(query, tenant, reads, start, end, step, exemplars, context.RequestAborted);
        await TempoApi.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("series");
            foreach (var series in result.Series)
            {
                w.WriteStartObject();
                OtlpJsonWriter.WriteAttributes(w, "labels", series.Labels);
                w.WriteStartArray("samples");
                for (var i = 0; i < series.Values.Length; i++)
                {
                    w.WriteStartObject();
                    w.WriteString("timestampMs", ((start + i * step) / 1_000_000).ToString(CultureInfo.InvariantCulture));
                    WriteValue(w, series.Values[i]);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (series.Exemplars.Count > 0)
                {
                    w.WriteStartArray("exemplars");
                    foreach (var exemplar in series.Exemplars)
                    {
                        w.WriteStartObject();
                        OtlpJsonWriter.WriteAttributes(w, "labels",
                        [
                            KeyValue.String("trace:id", exemplar.TraceId.ToHex()),
                            KeyValue.String("span:id", exemplar.SpanId.ToHex()),
                        ]);
                        WriteValue(w, exemplar.Value ?? series.Values[exemplar.Interval]);
                        w.WriteString("timestampMs", exemplar.TimestampMs.ToString(CultureInfo.InvariantCulture));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteFooter(w, result);
            w.WriteEndObject();
        });
    }

    /// <summary>One value over the whole window: the range query with a single step from start to end, unaligned.</summary>
    public static async Task QueryInstantAsync(HttpContext context, string tenant, TraceQueryService reads)
    {
        var query = ParseQuery(context.Request);
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var (start, end) = TempoParameters.ParseMetricsWindow(context.Request, time.GetUtcNow());
        var result = await EvaluateAsync(query, tenant, reads, start, end, end - start, exemplars: 0, context.RequestAborted);
        await TempoApi.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("series");
            foreach (var series in result.Series)
            {
                w.WriteStartObject();
                OtlpJsonWriter.WriteAttributes(w, "labels", series.Labels);
                WriteValue(w, series.Values[0]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteFooter(w, result);
            w.WriteEndObject();
        });
    }

    /// <summary>Tempo reads the query from <c>query</c> (Prometheus' name, which Grafana once used), then <c>q</c>.</summary>
    private static TempoMetricsQuery ParseQuery(HttpRequest request)
    {
        var text = TempoParameters.Get(request, "q") ?? TempoParameters.Get(request, "query");
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new TempoBadRequestException("query is required: give a TraceQL metrics query in q, such as { } | rate() by (resource.service.name)");
        }

        return TempoMetricsQuery.Parse(text);
    }

    private static async Task<MetricsResult> EvaluateAsync(
        TempoMetricsQuery query, string tenant, TraceQueryService reads, long start, long end, long step, int exemplars, CancellationToken cancellationToken)
    {
        var intervals = (int)Math.Max(1, (end - start + step - 1) / step);
        var matches = await reads.MatchAsync(tenant, query.Filter, FromNanos(start), FromNanos(end), TraceQueryService.SampleLimit, cancellationToken);
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        var measuresDuration = query.Attribute is "duration" or "span:duration";
        foreach (var match in matches.Traces)
        {
            var root = match.Tree.Root?.Span is { ParentSpanId.IsEmpty: true } r ? r : null;
            foreach (var node in match.Matched)
            {
                var span = node.Span;
                if (span.StartTimeUnixNano < start || span.StartTimeUnixNano >= end)
                {
                    continue;
                }

                double? measured = null;
                if (query.Attribute is { } attribute)
                {
                    if (TempoMetricsQuery.Read(attribute, span, root) is not { } value || !TryGetNumber(value, out var number))
                    {
                        continue;
                    }

                    measured = number;
                }

                var labels = query.By.Select(a => new KeyValue(a, TempoMetricsQuery.Read(a, span, root) ?? AnyValue.Empty)).ToList();
                if (labels.Count == 0)
                {
                    labels.Add(KeyValue.String("__name__", query.FunctionName));
                }

                if (query.Function == TempoMetricsFunction.HistogramOverTime)
                {
                    var bucket = Log2Bucketize(measured!.Value);
                    labels.Add(new KeyValue("__bucket", AnyValue.FromDouble(measuresDuration ? bucket / 1e9 : bucket)));
                }

                var key = string.Join('\u0001', labels.Select(l => l.Key + "\u0002" + l.Value.Type + "\u0002" + l.Value));
                if (!groups.TryGetValue(key, out var group))
                {
                    groups[key] = group = new Group([.. labels], intervals);
                }

                var interval = (int)((span.StartTimeUnixNano - start) / step);
                group.Counts[interval]++;
                if (query.Function == TempoMetricsFunction.QuantileOverTime)
                {
                    (group.Measured[interval] ??= []).Add(measured!.Value);
                }

                // One exemplar per step and series, the first span seen there, up to the asked-for count per series.
                if (group.Exemplars.Count < exemplars && !group.HasExemplar[interval])
                {
                    group.HasExemplar[interval] = true;
                    var shown = measured is { } m && measuresDuration ? m / 1e9 : measured;
                    group.Exemplars.Add(new Exemplar(span.TraceId, span.SpanId, span.StartTimeUnixNano / 1_000_000, interval,
                        query.Function is TempoMetricsFunction.QuantileOverTime or TempoMetricsFunction.HistogramOverTime ? shown : null));
                }
            }
        }

        var stepSeconds = step / 1e9;
        var series = new List<SeriesResult>();
        foreach (var group in groups.Values)
        {
            switch (query.Function)
            {
                case TempoMetricsFunction.Rate:
                    series.Add(new SeriesResult(group.Labels, group.Counts.Select(c => c / stepSeconds).ToArray(), group.Exemplars));
                    break;
                case TempoMetricsFunction.QuantileOverTime:
                    foreach (var q in query.Quantiles)
                    {
                        var values = group.Measured.Select(m => m is null ? 0 : Log2Quantile(q, m) / (measuresDuration ? 1e9 : 1)).ToArray();
                        series.Add(new SeriesResult([.. group.Labels, new KeyValue("p", AnyValue.FromDouble(q))], values, group.Exemplars));
                    }

                    break;
                default:
                    series.Add(new SeriesResult(group.Labels, group.Counts.Select(c => (double)c).ToArray(), group.Exemplars));
                    break;
            }
        }

        return new MetricsResult(series, matches.TracesExamined, matches.SpansExamined, matches.Truncated);
    }

    /// <summary>traceql.Log2Bucketize: the power of two at or above the value; -1 below 2.</summary>
    private static double Log2Bucketize(double value) =>
        value < 2 ? -1 : (double)BitOperations.RoundUpToPowerOf2((ulong)Math.Ceiling(value));

    /// <summary>traceql.Log2Quantile: the bucket holding the quantile, interpolated exponentially within it.</summary>
    private static double Log2Quantile(double p, List<double> values)
    {
        var buckets = values.GroupBy(Log2Bucketize).Select(g => (Max: g.Key, Count: g.Count())).OrderBy(b => b.Max).ToList();
        var maxSamples = Math.Max(1, (int)Math.Ceiling(p * values.Count));
        var total = 0;
        var bucket = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            bucket = i;
            if (total + buckets[i].Count > maxSamples)
            {
                break;
            }

            total += buckets[i].Count;
            if (total == maxSamples)
            {
                return buckets[i].Max;
            }
        }

        var interpolation = (double)(maxSamples - total) / buckets[bucket].Count;
        var maxV = Math.Log2(buckets[bucket].Max);
        var minV = bucket > 0 ? Math.Log2(buckets[bucket - 1].Max) : maxV - 1;
        return Math.Pow(2, minV + (maxV - minV) * interpolation);
    }

    private static bool TryGetNumber(AnyValue value, out double number)
    {
        switch (value.Type)
        {
            case AnyValueType.Int:
                number = value.AsInt;
                return true;
            case AnyValueType.Double:
                number = value.AsDouble;
                return true;
            case AnyValueType.String:
                return double.TryParse(value.AsString, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            default:
                number = 0;
                return false;
        }
    }

    /// <summary>jsonpb leaves a zero double out.</summary>
    private static void WriteValue(Utf8JsonWriter w, double value)
    {
        if (value != 0)
        {
            GoJson.WriteDouble(w, "value", value);
        }
    }

    private static void WriteFooter(Utf8JsonWriter w, MetricsResult result)
    {
        TempoApi.WriteSearchMetrics(w, result.TracesExamined, result.SpansExamined);
        if (result.Truncated)
        {
            w.WriteString("status", "PARTIAL");
            w.WriteString("message",
                $"more than {TraceQueryService.SampleLimit} traces matched the filter; the figures cover the latest {TraceQueryService.SampleLimit}: narrow the filter or the time range.");
        }
    }

    private static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);

    private sealed class Group(KeyValue[] labels, int intervals)
    {
        public KeyValue[] Labels { get; } = labels;

        public long[] Counts { get; } = new long[intervals];

        public List<double>?[] Measured { get; } = new List<double>?[intervals];

        public List<Exemplar> Exemplars { get; } = [];

        public bool[] HasExemplar { get; } = new bool[intervals];
    }

    /// <param name="Value">The measured value (seconds for durations); null for counts, which show the step's value.</param>
    private sealed record Exemplar(TraceId TraceId, SpanId SpanId, long TimestampMs, int Interval, double? Value);

    private sealed record SeriesResult(KeyValue[] Labels, double[] Values, IReadOnlyList<Exemplar> Exemplars);

    private sealed record MetricsResult(IReadOnlyList<SeriesResult> Series, int TracesExamined, int SpansExamined, bool Truncated);
}
