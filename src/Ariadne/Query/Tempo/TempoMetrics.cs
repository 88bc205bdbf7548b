using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;
using Ariadne.Search;

namespace Ariadne.Query.Tempo;

/// <summary>
/// TraceQL metrics over the stored spans the filter selects (<c>/api/metrics/query_range</c> and
/// <c>/api/metrics/query</c>), computed as Tempo's engine computes them: spans counted in the step their start falls
/// in, the range aligned to the step, <c>rate()</c> per second, quantiles from power-of-two buckets with Tempo's
/// interpolation (durations in seconds), <c>min/max/avg/sum_over_time</c> per step, <c>histogram_over_time</c> as one
/// series per bucket labelled <c>__bucket</c>, ungrouped series labelled <c>__name__</c>, exemplars labelled
/// <c>trace:id</c>, then <c>topk</c>, <c>bottomk</c> and value filters (<c>&gt; 10</c>) in order. The answer is Tempo's
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
                    // NaN is a step without a value (min_over_time over no spans, a point a filter dropped): Tempo leaves it out.
                    if (double.IsNaN(series.Values[i]))
                    {
                        continue;
                    }

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
                        var value = exemplar.Value ?? series.Values[exemplar.Interval];
                        if (double.IsNaN(value))
                        {
                            continue;
                        }

                        w.WriteStartObject();
                        OtlpJsonWriter.WriteAttributes(w, "labels",
                        [
                            KeyValue.String("trace:id", exemplar.TraceId.ToHex()),
                            KeyValue.String("span:id", exemplar.SpanId.ToHex()),
                        ]);
                        WriteValue(w, value);
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
            foreach (var series in result.Series.Where(s => !double.IsNaN(s.Values[0])))
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

    /// <summary>
    /// Tempo reads the query from <c>query</c> (Prometheus' name, which Grafana once used), then <c>q</c>. The query is
    /// TraceQL's one grammar (<see cref="SearchQuery"/>); it must end in a metrics function.
    /// </summary>
    private static SearchQuery ParseQuery(HttpRequest request)
    {
        var text = TempoParameters.Get(request, "q") ?? TempoParameters.Get(request, "query");
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new TempoBadRequestException("query is required: give a TraceQL metrics query in q, such as { } | rate() by (resource.service.name)");
        }

        var query = TempoApi.ParseQuery(text);
        if (query.Metrics is not { } metrics)
        {
            throw new TempoBadRequestException(TempoParameters.ParseErrorText(text, text.Length,
                "not a metrics query: end it with a metrics function, such as { } | rate(), | count_over_time() by (resource.service.name) or | quantile_over_time(duration, .99)"));
        }

        if (metrics.Aggregate.Function == MetricsFunction.Compare)
        {
            throw new TempoBadRequestException(TempoParameters.ParseErrorText(text, metrics.Aggregate.Position,
                "compare() is not supported on this endpoint: compare the two selections with the Compare page, or run { } | count_over_time() by (...) on each"));
        }

        return query;
    }

    private static async Task<MetricsResult> EvaluateAsync(
        SearchQuery query, string tenant, TraceQueryService reads, long start, long end, long step, int exemplars, CancellationToken cancellationToken)
    {
        var metrics = query.Metrics!;
        var aggregate = metrics.Aggregate;
        var function = aggregate.Function;
        var intervals = (int)Math.Max(1, (end - start + step - 1) / step);
        var matches = await reads.MatchAsync(tenant, query, FromNanos(start), FromNanos(end), TraceQueryService.SampleLimit, cancellationToken);
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        // Tempo reports durations in seconds; histogram buckets are powers of two of nanoseconds, then scaled.
        var scale = aggregate.Field is { Intrinsic: Intrinsic.Duration or Intrinsic.TraceDuration or Intrinsic.EventTimeSinceStart } ? 1e9 : 1;
        foreach (var match in matches.Traces)
        {
            var trace = new TraceScope(match.Tree);
            foreach (var node in match.Matched)
            {
                var span = node.Span;
                if (span.StartTimeUnixNano < start || span.StartTimeUnixNano >= end)
                {
                    continue;
                }

                double? measured = null;
                if (aggregate.Field is { } field)
                {
                    if (!query.Read(field, trace, node).TryGetNumber(out var number))
                    {
                        continue;
                    }

                    measured = number;
                }

                var labels = aggregate.By.Select(f => new KeyValue(f.ToString(), Label(query.Read(f, trace, node)))).ToList();
                if (labels.Count == 0)
                {
                    labels.Add(KeyValue.String("__name__", SearchParser.MetricsFunctionText(function)));
                }

                if (function == MetricsFunction.HistogramOverTime)
                {
                    labels.Add(new KeyValue("__bucket", AnyValue.FromDouble(Log2Bucketize(measured!.Value) / scale)));
                }

                var key = string.Join('\u0001', labels.Select(l => l.Key + "\u0002" + l.Value.Type + "\u0002" + l.Value));
                if (!groups.TryGetValue(key, out var group))
                {
                    groups[key] = group = new Group([.. labels], intervals);
                }

                var interval = (int)((span.StartTimeUnixNano - start) / step);
                group.Counts[interval]++;
                if (measured is { } value && function != MetricsFunction.HistogramOverTime)
                {
                    (group.Measured[interval] ??= []).Add(value);
                }

                // One exemplar per step and series, the first span seen there, up to the asked-for count per series.
                if (group.Exemplars.Count < exemplars && !group.HasExemplar[interval])
                {
                    group.HasExemplar[interval] = true;
                    group.Exemplars.Add(new Exemplar(span.TraceId, span.SpanId, span.StartTimeUnixNano / 1_000_000, interval, measured / scale));
                }
            }
        }

        var stepSeconds = step / 1e9;
        var series = new List<SeriesResult>();
        foreach (var group in groups.Values)
        {
            switch (function)
            {
                case MetricsFunction.Rate:
                    series.Add(new SeriesResult(group.Labels, group.Counts.Select(c => c / stepSeconds).ToArray(), group.Exemplars));
                    break;
                case MetricsFunction.CountOverTime or MetricsFunction.HistogramOverTime:
                    series.Add(new SeriesResult(group.Labels, group.Counts.Select(c => (double)c).ToArray(), group.Exemplars));
                    break;
                case MetricsFunction.QuantileOverTime:
                    foreach (var q in aggregate.Quantiles)
                    {
                        var values = group.Measured.Select(m => m is null ? 0 : Log2Quantile(q, m) / scale).ToArray();
                        series.Add(new SeriesResult([.. group.Labels, new KeyValue("p", AnyValue.FromDouble(q))], values, group.Exemplars));
                    }

                    break;
                default:
                    // min/max/avg/sum_over_time: a step without a value has no sample (NaN, which is not written).
                    Func<List<double>, double> over = function switch
                    {
                        MetricsFunction.MinOverTime => m => m.Min(),
                        MetricsFunction.MaxOverTime => m => m.Max(),
                        MetricsFunction.AvgOverTime => m => m.Average(),
                        _ => m => m.Sum(),
                    };
                    series.Add(new SeriesResult(group.Labels, group.Measured.Select(m => m is null ? double.NaN : over(m) / scale).ToArray(), group.Exemplars));
                    break;
            }
        }

        foreach (var stage in metrics.SecondStages)
        {
            series = stage switch
            {
                MetricsTopK topK => TopK(series, topK),
                MetricsFilter filter => Filter(series, filter),
                _ => series,
            };
        }

        return new MetricsResult(series, matches.TracesExamined, matches.SpansExamined, matches.Truncated);
    }

    /// <summary>topk(n) / bottomk(n) as Tempo's MetricsSecondStage: the n series with the highest (lowest) average sample, NaN last.</summary>
    private static List<SeriesResult> TopK(List<SeriesResult> series, MetricsTopK stage)
    {
        static double Average(SeriesResult s) => s.Values.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Average();
        var ranked = series.Select(s => (Series: s, Average: Average(s))).OrderBy(s => double.IsNaN(s.Average) ? 1 : 0);
        var ordered = stage.Top ? ranked.ThenByDescending(s => s.Average) : ranked.ThenBy(s => s.Average);
        return ordered.Take(stage.Count).Select(s => s.Series).ToList();
    }

    /// <summary><c>| rate() &gt; 10</c>: the samples whose value compares true; a series left without one is dropped.</summary>
    private static List<SeriesResult> Filter(List<SeriesResult> series, MetricsFilter filter)
    {
        var kept = new List<SeriesResult>();
        foreach (var s in series)
        {
            var values = s.Values.Select(v => SpanFieldEvaluator.Compare(filter.Op, TraceQLValue.FromFloat(v), TraceQLValue.FromFloat(filter.Value)) ? v : double.NaN).ToArray();
            if (values.Any(v => !double.IsNaN(v)))
            {
                kept.Add(s with { Values = values });
            }
        }

        return kept;
    }

    /// <summary>A by() value as a label: strings, ints, floats and booleans as themselves, statuses, kinds and durations as their text.</summary>
    private static AnyValue Label(TraceQLValue value) => value.Type switch
    {
        TraceQLType.Nil => AnyValue.Empty,
        TraceQLType.String => AnyValue.FromString(value.AsString),
        TraceQLType.Int => AnyValue.FromInt(value.AsInt),
        TraceQLType.Float => AnyValue.FromDouble(value.AsFloat),
        TraceQLType.Bool => AnyValue.FromBool(value.AsBool),
        _ => AnyValue.FromString(value.ToString()),
    };

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
