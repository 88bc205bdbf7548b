namespace Ariadne.Search;

/// <summary>The metrics stage (<c>| rate() by (...)</c> and the other functions, <c>compare</c>, second stages such as <c>topk</c>) and <c>with (...)</c> hints.</summary>
public sealed partial class SearchParser
{
    private MetricsAggregate ParseMetricsAggregate()
    {
        var nameToken = Current;
        var function = s_metricsFunctions[nameToken.Text];
        _index += 2;
        FieldReference? field = null;
        var quantiles = new List<double>();
        SpansetFilter? compareFilter = null;
        var (topN, compareStart, compareEnd) = (10, 0L, 0L);
        switch (function)
        {
            case MetricsFunction.Rate or MetricsFunction.CountOverTime:
                Require(TokenType.RightParen, $"')': {nameToken.Text}() takes no arguments");
                break;
            case MetricsFunction.Compare:
                if (Current.Type != TokenType.LeftBrace)
                {
                    throw Expected("a span filter, as in compare({ status = error })");
                }

                compareFilter = ParseSpansetFilter();
                if (Accept(TokenType.Comma))
                {
                    topN = (int)RequireInteger("the number of top values, as in compare({ status = error }, 10)", 1, 10_000);
                    if (Accept(TokenType.Comma))
                    {
                        compareStart = RequireInteger("the start of the comparison window in unix nanoseconds", 0, long.MaxValue);
                        Require(TokenType.Comma, "',' and the end of the comparison window");
                        compareEnd = RequireInteger("the end of the comparison window in unix nanoseconds", 0, long.MaxValue);
                    }
                }

                Require(TokenType.RightParen, "')' to close compare(");
                break;
            default:
                field = ParseAttribute($"{nameToken.Text}(");
                if (function == MetricsFunction.QuantileOverTime)
                {
                    Require(TokenType.Comma, "',' and the quantiles, as in quantile_over_time(duration, .5, .9, .99)");
                    do
                    {
                        var at = Current.Position;
                        var q = StaticNumber() ?? throw Expected("a quantile between 0 and 1, such as .9");
                        if (q.Type == TraceQLType.Duration || q.AsNumber is < 0 or > 1)
                        {
                            throw Error(at, "a quantile is a number between 0 and 1, such as .9.");
                        }

                        quantiles.Add(q.AsNumber);
                    }
                    while (Accept(TokenType.Comma));
                }

                Require(TokenType.RightParen, $"')' to close {nameToken.Text}(");
                break;
        }

        IReadOnlyList<FieldReference> by = [];
        if (IsWord(out var word) && word == "by")
        {
            _index++;
            Require(TokenType.LeftParen, "'(' after by, as in by (resource.service.name)");
            by = ParseAttributeList("by (");
            Require(TokenType.RightParen, "',' or ')' to close by (");
        }

        return new MetricsAggregate(function, field, quantiles, by, compareFilter, topN, compareStart, compareEnd) { Position = nameToken.Position };
    }

    private List<MetricsSecondStage> ParseSecondStages()
    {
        var stages = new List<MetricsSecondStage>();
        while (true)
        {
            if (Current.Type == TokenType.Pipe)
            {
                _index++;
                if (!IsWord(out var word) || word is not ("topk" or "bottomk"))
                {
                    throw Expected("topk(n) or bottomk(n) after a metrics function");
                }

                _index++;
                Require(TokenType.LeftParen, $"'(' after {word}");
                var count = RequireInteger($"the number of series, as in {word}(5)", 1, int.MaxValue);
                Require(TokenType.RightParen, $"')' to close {word}(");
                stages.Add(new MetricsTopK(word == "topk", (int)count));
                continue;
            }

            if (ComparisonOp(Current.Type) is not { } op)
            {
                return stages;
            }

            _index++;
            var at = Current.Position;
            var value = ParseScalar(0);
            if (value is ScalarStatic { Value.Type: TraceQLType.Duration } duration)
            {
                // Durations in metrics values are seconds (Tempo's avg_over_time(duration) > 1s).
                stages.Add(new MetricsFilter(op, duration.Value.AsInt / 1e9));
                continue;
            }

            if (HasAggregate(value) || ConstantNumber(value) is not { } number)
            {
                throw Error(at, "a metrics filter compares with a number, as in | rate() > 10.");
            }

            stages.Add(new MetricsFilter(op, number));
        }
    }

    /// <summary>A scalar expression of numbers folded to one, or null (durations are not numbers here, as in Tempo).</summary>
    private static double? ConstantNumber(ScalarExpression e) => e switch
    {
        ScalarStatic { Value.Type: TraceQLType.Int or TraceQLType.Float } s => s.Value.AsNumber,
        ScalarOperation o when ConstantNumber(o.Left) is { } l && ConstantNumber(o.Right) is { } r => SpanFieldEvaluator.ApplyToFloats(o.Op, l, r),
        _ => null,
    };

    private long RequireInteger(string expected, long min, long max)
    {
        var token = Current;
        if (token.Type != TokenType.Integer)
        {
            throw Expected(expected);
        }

        if (token.Integer < min || token.Integer > max)
        {
            throw Error(token.Position, $"expected {expected}, between {min} and {max}.");
        }

        _index++;
        return token.Integer;
    }

    private IReadOnlyDictionary<string, TraceQLValue> ParseHints()
    {
        var hints = new Dictionary<string, TraceQLValue>(StringComparer.Ordinal);
        if (!IsWord(out var word) || word != "with")
        {
            return hints;
        }

        _index++;
        Require(TokenType.LeftParen, "'(' after with, as in with (most_recent=true)");
        do
        {
            if (Current.Type != TokenType.Word)
            {
                throw Expected("a hint name, as in most_recent=true");
            }

            var name = Current.Text;
            _index++;
            Require(TokenType.Equal, $"'=' after the hint {name}");
            var at = Current.Position;
            var value = ParseField(0);
            if (value.Expr is not Static s)
            {
                throw Error(at, $"the hint {name} takes a value, such as true, 0.1 or \"text\".");
            }

            hints[name] = s.Value;
        }
        while (Accept(TokenType.Comma));
        Require(TokenType.RightParen, "',' or ')' to close with (");
        return hints;
    }

    private List<FieldReference> ParseAttributeList(string context)
    {
        var list = new List<FieldReference>();
        do
        {
            list.Add(ParseAttribute(context));
        }
        while (Accept(TokenType.Comma));
        return list;
    }

    private FieldReference ParseAttribute(string context)
    {
        var at = Current.Position;
        if (Current.Type is TokenType.Attribute or TokenType.ScopedIntrinsic or TokenType.Word)
        {
            var primary = ParsePrimary();
            if (primary.Expr is FieldReference attribute)
            {
                return attribute;
            }
        }

        throw Error(at, $"expected an attribute or an intrinsic in {context}…), such as resource.service.name, span.http.route or name.");
    }
}
