using System.Globalization;
using Ariadne.Model;
using Ariadne.Search;

namespace Ariadne.Query.Tempo;

public enum TempoMetricsFunction
{
    Rate,
    CountOverTime,
    QuantileOverTime,
    HistogramOverTime,
}

/// <summary>
/// A TraceQL metrics query: a spanset filter, then <c>| rate()</c>, <c>| count_over_time()</c>,
/// <c>| quantile_over_time(attr, q, …)</c> or <c>| histogram_over_time(attr)</c>, optionally <c>by (attr, …)</c>.
/// </summary>
/// <param name="Attribute">What quantiles and histograms measure: <c>duration</c> or a numeric attribute.</param>
public sealed record TempoMetricsQuery(SearchQuery Filter, TempoMetricsFunction Function, IReadOnlyList<string> By, string? Attribute, IReadOnlyList<double> Quantiles)
{
    public string FunctionName => Function switch
    {
        TempoMetricsFunction.Rate => "rate",
        TempoMetricsFunction.CountOverTime => "count_over_time",
        TempoMetricsFunction.QuantileOverTime => "quantile_over_time",
        _ => "histogram_over_time",
    };

    /// <summary>
    /// Parses <paramref name="text"/>: the part before the first <c>|</c> outside braces and quotes is the spanset filter
    /// (Ariadne's search grammar), the rest the metrics stage.
    /// </summary>
    /// <exception cref="TempoBadRequestException">The text does not parse: Tempo's message, naming the line and column.</exception>
    public static TempoMetricsQuery Parse(string text)
    {
        try
        {
            var pipe = FindPipe(text);
            if (pipe < 0)
            {
                throw new MetricsSyntaxException(text.Length,
                    "not a metrics query: end it with a metrics function, such as { } | rate(), | count_over_time() by (resource.service.name) or | quantile_over_time(duration, .99)");
            }

            SearchQuery filter;
            try
            {
                filter = SearchQuery.Parse(text[..pipe]);
            }
            catch (SearchSyntaxException e)
            {
                throw new MetricsSyntaxException(e.Position, e.Problem);
            }

            return new StageParser(text, pipe + 1).Parse(filter);
        }
        catch (MetricsSyntaxException e)
        {
            throw new TempoBadRequestException(TempoParameters.ParseErrorText(text, e.Position, e.Message));
        }
    }

    /// <summary>The value of a by() label or measured attribute on a span; null when the span has none.</summary>
    public static AnyValue? Read(string attribute, Span span, Span? root)
    {
        switch (attribute)
        {
            case "name" or "span:name":
                return AnyValue.FromString(span.Name);
            case "status" or "span:status":
                return AnyValue.FromString(span.StatusCode switch { StatusCode.Ok => "ok", StatusCode.Error => "error", _ => "unset" });
            case "kind" or "span:kind":
                return AnyValue.FromString(span.Kind.ToString().ToLowerInvariant());
            case "statusMessage" or "span:statusMessage":
                return AnyValue.FromString(span.StatusMessage);
            case "duration" or "span:duration":
                return AnyValue.FromInt(span.DurationNanos);
            case "rootServiceName" or "trace:rootService":
                return root is null ? null : AnyValue.FromString(root.ServiceName);
            case "rootName" or "trace:rootName":
                return root is null ? null : AnyValue.FromString(root.Name);
            case "instrumentation:name":
                return AnyValue.FromString(span.Scope.Name);
        }

        var dot = attribute.IndexOf('.', StringComparison.Ordinal);
        var key = attribute[(dot + 1)..];
        return attribute[..dot] switch
        {
            "span" => Find(span.Attributes, key),
            "resource" => key == "service.name" ? AnyValue.FromString(span.ServiceName) : Find(span.Resource.Attributes, key),
            "instrumentation" => Find(span.Scope.Attributes, key),
            _ => Find(span.Attributes, key) ?? (key == "service.name" ? AnyValue.FromString(span.ServiceName) : Find(span.Resource.Attributes, key)),
        };
    }

    private static AnyValue? Find(KeyValue[] attributes, string key)
    {
        foreach (var kv in attributes)
        {
            if (kv.Key == key)
            {
                return kv.Value;
            }
        }

        return null;
    }

    private static int FindPipe(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '"' or '`':
                    var quote = text[i];
                    for (i++; i < text.Length && text[i] != quote; i++)
                    {
                        if (text[i] == '\\' && quote == '"')
                        {
                            i++;
                        }
                    }

                    break;
                case '{' or '(':
                    depth++;
                    break;
                case '}' or ')':
                    depth--;
                    break;
                case '|' when depth == 0 && (i + 1 >= text.Length || text[i + 1] != '|'):
                    return i;
                case '|' when depth == 0:
                    i++;
                    break;
            }
        }

        return -1;
    }

    /// <summary>The metrics stage: <c>function(args) [by (attrs)]</c>, with positions in the whole query.</summary>
    private sealed class StageParser(string text, int position)
    {
        private static readonly string[] s_intrinsics =
        [
            "name", "status", "kind", "statusMessage", "duration", "rootServiceName", "rootName", "instrumentation:name",
            "span:name", "span:status", "span:kind", "span:statusMessage", "span:duration", "trace:rootService", "trace:rootName",
        ];

        private int _at = position;

        public TempoMetricsQuery Parse(SearchQuery filter)
        {
            var nameAt = Skip();
            var name = Word();
            var function = name switch
            {
                "rate" => TempoMetricsFunction.Rate,
                "count_over_time" => TempoMetricsFunction.CountOverTime,
                "quantile_over_time" => TempoMetricsFunction.QuantileOverTime,
                "histogram_over_time" => TempoMetricsFunction.HistogramOverTime,
                _ => throw new MetricsSyntaxException(nameAt,
                    $"unknown metrics function '{name}': use rate(), count_over_time(), quantile_over_time(attr, q, ...) or histogram_over_time(attr)"),
            };
            Expect('(');
            string? attribute = null;
            var quantiles = new List<double>();
            if (function is TempoMetricsFunction.QuantileOverTime or TempoMetricsFunction.HistogramOverTime)
            {
                attribute = Attribute();
                while (function == TempoMetricsFunction.QuantileOverTime && Peek() == ',')
                {
                    _at++;
                    var numberAt = Skip();
                    var number = Word();
                    if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var q) || q is < 0 or > 1)
                    {
                        throw new MetricsSyntaxException(numberAt, $"quantile '{number}' must be a number from 0 to 1, such as .95");
                    }

                    quantiles.Add(q);
                }

                if (function == TempoMetricsFunction.QuantileOverTime && quantiles.Count == 0)
                {
                    throw new MetricsSyntaxException(Skip(), "quantile_over_time needs at least one quantile: quantile_over_time(duration, .5, .99)");
                }
            }

            Expect(')');
            var by = new List<string>();
            var byAt = Skip();
            if (_at < text.Length)
            {
                if (Word() != "by")
                {
                    throw new MetricsSyntaxException(byAt, "unexpected text after the metrics function: only by (attr, ...) may follow it");
                }

                Expect('(');
                by.Add(Attribute());
                while (Peek() == ',')
                {
                    _at++;
                    by.Add(Attribute());
                }

                Expect(')');
                if (Skip() < text.Length)
                {
                    throw new MetricsSyntaxException(_at, "unexpected text after by (...): the metrics query ends there");
                }
            }

            return new TempoMetricsQuery(filter, function, by, attribute, quantiles);
        }

        private string Attribute()
        {
            var at = Skip();
            var name = Word();
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            var scoped = dot >= 0 && dot < name.Length - 1 && name[..dot] is "" or "span" or "resource" or "instrumentation";
            if (!scoped && !s_intrinsics.Contains(name))
            {
                throw new MetricsSyntaxException(at,
                    $"'{name}' is not an attribute: use an intrinsic (duration, name, status, kind, ...) or a scoped attribute such as resource.service.name or span.http.route");
            }

            return name;
        }

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new MetricsSyntaxException(_at, _at < text.Length ? $"expected '{c}' but found '{text[_at]}'" : $"expected '{c}' at the end of the query");
            }

            _at++;
        }

        private char? Peek() => Skip() < text.Length ? text[_at] : null;

        private int Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }

            return _at;
        }

        private string Word()
        {
            var start = Skip();
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] is '.' or '_' or ':' or '-'))
            {
                _at++;
            }

            if (_at == start)
            {
                throw new MetricsSyntaxException(start, start < text.Length ? $"unexpected '{text[start]}'" : "unexpected end of the query");
            }

            return text[start.._at];
        }
    }

    private sealed class MetricsSyntaxException(int position, string message) : Exception(message)
    {
        public int Position { get; } = position;
    }
}
