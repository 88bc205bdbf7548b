using System.Globalization;

namespace Ariadne.Search;

/// <summary>A parsed TraceQL query: the spanset pipeline, the metrics stage when it is a metrics query, and its hints.</summary>
/// <param name="Hints"><c>with (most_recent=true, sample=0.1)</c>, by name.</param>
public sealed record RootExpression(SpansetPipeline Pipeline, MetricsQuery? Metrics, IReadOnlyDictionary<string, TraceQLValue> Hints)
{
    public bool Equals(RootExpression? other) => other is not null && Pipeline == other.Pipeline && Metrics == other.Metrics
        && Hints.Count == other.Hints.Count && Hints.All(h => other.Hints.TryGetValue(h.Key, out var v) && v == h.Value);

    public override int GetHashCode() => Pipeline.GetHashCode();

    public override string ToString()
    {
        var body = Metrics?.ToString() ?? Pipeline.ToString();
        return Hints.Count == 0 ? body : $"{body} with ({string.Join(", ", Hints.Select(h => $"{h.Key}={h.Value.ToQueryText()}"))})";
    }
}

/// <summary>
/// Parses TraceQL as grafana/tempo's pkg/traceql/expr.y defines it (docs/search.md):
/// <code>
/// root        := pipeline [ "|" metrics { secondStage } ] [ "with" "(" hint { "," hint } ")" ]
/// pipeline    := stage { "|" stage }
/// stage       := spansets | scalar cmp scalar | "by" "(" field ")" | "select" "(" attribute { "," attribute } ")" | "coalesce" "(" ")"
/// spansets    := operand { ( "&amp;&amp;" | "||" ) operand' }          operand' binds structural operators first
/// operand     := "{" [ field ] "}" | "(" pipeline ")"               structural: &gt; &lt; &gt;&gt; &lt;&lt; ~ !&gt; !&lt; !&gt;&gt; !&lt;&lt; !~ &amp;&gt; &amp;&lt; &amp;&gt;&gt; &amp;&lt;&lt; &amp;~
/// field       := field op field | "!" field | "-" field | "(" field ")" | static | attribute | intrinsic
/// </code>
/// <c>&amp;&amp;</c> and <c>||</c> have the same precedence and group left to right, as in Tempo; comparisons and structural
/// operators bind tighter, then + -, then ! , then * / %, then ^. Errors carry the position and say what was expected.
/// </summary>
public sealed class SearchParser
{
    private static readonly Dictionary<string, Intrinsic> s_unscopedIntrinsics = new(StringComparer.Ordinal)
    {
        ["name"] = Intrinsic.Name,
        ["status"] = Intrinsic.Status,
        ["statusMessage"] = Intrinsic.StatusMessage,
        ["kind"] = Intrinsic.Kind,
        ["duration"] = Intrinsic.Duration,
        ["rootName"] = Intrinsic.TraceRootName,
        ["rootServiceName"] = Intrinsic.TraceRootService,
        ["traceDuration"] = Intrinsic.TraceDuration,
    };

    private static readonly Dictionary<string, Intrinsic> s_scopedIntrinsics = new(StringComparer.Ordinal)
    {
        ["span:name"] = Intrinsic.Name,
        ["span:status"] = Intrinsic.Status,
        ["span:statusMessage"] = Intrinsic.StatusMessage,
        ["span:kind"] = Intrinsic.Kind,
        ["span:duration"] = Intrinsic.Duration,
        ["span:childCount"] = Intrinsic.ChildCount,
        ["span:id"] = Intrinsic.SpanId,
        ["span:parentID"] = Intrinsic.ParentId,
        ["trace:id"] = Intrinsic.TraceId,
        ["trace:rootName"] = Intrinsic.TraceRootName,
        ["trace:rootService"] = Intrinsic.TraceRootService,
        ["trace:duration"] = Intrinsic.TraceDuration,
        ["event:name"] = Intrinsic.EventName,
        ["event:timeSinceStart"] = Intrinsic.EventTimeSinceStart,
        ["link:traceID"] = Intrinsic.LinkTraceId,
        ["link:spanID"] = Intrinsic.LinkSpanId,
        ["instrumentation:name"] = Intrinsic.InstrumentationName,
        ["instrumentation:version"] = Intrinsic.InstrumentationVersion,
    };

    private static readonly Dictionary<string, TraceQLValue> s_statics = new(StringComparer.Ordinal)
    {
        ["true"] = TraceQLValue.True,
        ["false"] = TraceQLValue.False,
        ["nil"] = TraceQLValue.Nil,
        ["ok"] = TraceQLValue.FromStatus(Model.StatusCode.Ok),
        ["error"] = TraceQLValue.FromStatus(Model.StatusCode.Error),
        ["unset"] = TraceQLValue.FromStatus(Model.StatusCode.Unset),
        ["unspecified"] = TraceQLValue.FromKind(Model.SpanKind.Unspecified),
        ["internal"] = TraceQLValue.FromKind(Model.SpanKind.Internal),
        ["server"] = TraceQLValue.FromKind(Model.SpanKind.Server),
        ["client"] = TraceQLValue.FromKind(Model.SpanKind.Client),
        ["producer"] = TraceQLValue.FromKind(Model.SpanKind.Producer),
        ["consumer"] = TraceQLValue.FromKind(Model.SpanKind.Consumer),
        ["minInt"] = TraceQLValue.FromInt(long.MinValue),
        ["maxInt"] = TraceQLValue.FromInt(long.MaxValue),
    };

    private static readonly Dictionary<string, MetricsFunction> s_metricsFunctions = new(StringComparer.Ordinal)
    {
        ["rate"] = MetricsFunction.Rate,
        ["count_over_time"] = MetricsFunction.CountOverTime,
        ["min_over_time"] = MetricsFunction.MinOverTime,
        ["max_over_time"] = MetricsFunction.MaxOverTime,
        ["avg_over_time"] = MetricsFunction.AvgOverTime,
        ["sum_over_time"] = MetricsFunction.SumOverTime,
        ["quantile_over_time"] = MetricsFunction.QuantileOverTime,
        ["histogram_over_time"] = MetricsFunction.HistogramOverTime,
        ["compare"] = MetricsFunction.Compare,
    };

    private static readonly Dictionary<string, AggregateKind> s_aggregates = new(StringComparer.Ordinal)
    {
        ["count"] = AggregateKind.Count,
        ["avg"] = AggregateKind.Avg,
        ["min"] = AggregateKind.Min,
        ["max"] = AggregateKind.Max,
        ["sum"] = AggregateKind.Sum,
    };

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _index;

    private SearchParser(string text)
    {
        _text = text;
        _tokens = SearchLexer.Lex(text);
    }

    private Token Current => _tokens[_index];

    private Token Next => _tokens[Math.Min(_index + 1, _tokens.Count - 1)];

    /// <exception cref="SearchSyntaxException">The text does not parse, or uses a construct Ariadne does not run.</exception>
    public static RootExpression Parse(string text)
    {
        var parser = new SearchParser(text);
        if (parser.Current.Type == TokenType.End)
        {
            throw parser.Error(0, "the query is empty; write a span filter such as { resource.service.name = \"orders\" && status = error }.");
        }

        var (pipeline, metrics) = parser.ParsePipeline(allowMetrics: true);
        var hints = parser.ParseHints();
        if (parser.Current.Type != TokenType.End)
        {
            throw parser.Expected(metrics is null
                ? "'&&', '||', a structural operator (>, >>, <, <<, ~) or '|' between span filters, or the end of the query"
                : "'| topk(n)', '| bottomk(n)', a comparison such as > 10, 'with (…)' or the end of the query");
        }

        return new RootExpression(pipeline, metrics, hints);
    }

    public static string IntrinsicText(Intrinsic intrinsic) =>
        s_scopedIntrinsics.First(p => p.Value == intrinsic).Key;

    public static string MetricsFunctionText(MetricsFunction function) => s_metricsFunctions.First(p => p.Value == function).Key;

    public static string OperatorText(Operator op) => op switch
    {
        Operator.Add => "+",
        Operator.Sub or Operator.Negate => "-",
        Operator.Mul => "*",
        Operator.Div => "/",
        Operator.Mod => "%",
        Operator.Pow => "^",
        Operator.Equal => "=",
        Operator.NotEqual => "!=",
        Operator.Less => "<",
        Operator.LessOrEqual => "<=",
        Operator.Greater => ">",
        Operator.GreaterOrEqual => ">=",
        Operator.Regex => "=~",
        Operator.NotRegex => "!~",
        Operator.And => "&&",
        Operator.Or => "||",
        Operator.Not => "!",
        Operator.Exists => "!= nil",
        _ => "= nil",
    };

    public static string SpansetOperatorText(SpansetOperator op) => op switch
    {
        SpansetOperator.And => "&&",
        SpansetOperator.Union => "||",
        SpansetOperator.Child => ">",
        SpansetOperator.Parent => "<",
        SpansetOperator.Descendant => ">>",
        SpansetOperator.Ancestor => "<<",
        SpansetOperator.Sibling => "~",
        SpansetOperator.NotChild => "!>",
        SpansetOperator.NotParent => "!<",
        SpansetOperator.NotDescendant => "!>>",
        SpansetOperator.NotAncestor => "!<<",
        SpansetOperator.NotSibling => "!~",
        SpansetOperator.UnionChild => "&>",
        SpansetOperator.UnionParent => "&<",
        SpansetOperator.UnionDescendant => "&>>",
        SpansetOperator.UnionAncestor => "&<<",
        _ => "&~",
    };

    // -----------------------------------------------------------------------------------------------------------
    // Pipelines and spansets
    // -----------------------------------------------------------------------------------------------------------

    private (SpansetPipeline Pipeline, MetricsQuery? Metrics) ParsePipeline(bool allowMetrics)
    {
        var elements = new List<PipelineElement>();
        while (true)
        {
            if (IsWord(out var word) && s_metricsFunctions.ContainsKey(word) && Next.Type == TokenType.LeftParen)
            {
                if (elements.Count == 0)
                {
                    throw Error(Current.Position, $"{word}() is a metrics function: it follows a span filter, as in {{ status = error }} | {word}().");
                }

                if (!allowMetrics)
                {
                    throw Error(Current.Position, "arithmetic between metrics queries, such as ({ } | rate()) / ({ } | count_over_time()), is not supported: run each query on its own.");
                }

                var pipeline = new SpansetPipeline(elements);
                return (pipeline, new MetricsQuery(pipeline, ParseMetricsAggregate(), ParseSecondStages()));
            }

            elements.Add(ParseStage(elements.Count == 0));
            if (!Accept(TokenType.Pipe))
            {
                return (new SpansetPipeline(elements), null);
            }
        }
    }

    private PipelineElement ParseStage(bool first)
    {
        if (IsWord(out var word))
        {
            switch (word)
            {
                case "by" when Next.Type == TokenType.LeftParen:
                    _index += 2;
                    var at = Current.Position;
                    var field = ParseField(0);
                    RequireSpanReference(field, at, "by()");
                    Require(TokenType.RightParen, "')' to close by(");
                    return new GroupBy(field.Expr);
                case "select" when Next.Type == TokenType.LeftParen:
                    _index += 2;
                    var fields = ParseAttributeList("select(");
                    Require(TokenType.RightParen, "',' or ')' to close select(");
                    return new Select(fields);
                case "coalesce" when Next.Type == TokenType.LeftParen:
                    if (first)
                    {
                        throw Error(Current.Position, "coalesce() merges the spansets of the stages before it: write it after one, as in { } | by(name) | coalesce().");
                    }

                    _index += 2;
                    Require(TokenType.RightParen, "')': coalesce takes no arguments");
                    return new Coalesce();
                case "topk" or "bottomk" when Next.Type == TokenType.LeftParen:
                    throw Error(Current.Position, $"{word}() follows a metrics function, as in {{ }} | rate() by (resource.service.name) | {word}(5).");
            }

            if (s_aggregates.ContainsKey(word) && Next.Type == TokenType.LeftParen)
            {
                return ParseScalarFilter();
            }
        }

        if (Current.Type is TokenType.Integer or TokenType.Float or TokenType.Duration)
        {
            return ParseScalarFilter();
        }

        return ParseSpansets(0);
    }

    private static int SpansetPrecedence(TokenType type) => type switch
    {
        TokenType.And or TokenType.Or => 1,
        TokenType.Greater or TokenType.Less or TokenType.Descendant or TokenType.Ancestor or TokenType.Sibling
            or TokenType.NotChild or TokenType.NotParent or TokenType.NotDescendant or TokenType.NotAncestor or TokenType.NotMatch
            or TokenType.UnionChild or TokenType.UnionParent or TokenType.UnionDescendant or TokenType.UnionAncestor or TokenType.UnionSibling => 2,
        _ => 0,
    };

    private static SpansetOperator SpansetOp(TokenType type) => type switch
    {
        TokenType.And => SpansetOperator.And,
        TokenType.Or => SpansetOperator.Union,
        TokenType.Greater => SpansetOperator.Child,
        TokenType.Less => SpansetOperator.Parent,
        TokenType.Descendant => SpansetOperator.Descendant,
        TokenType.Ancestor => SpansetOperator.Ancestor,
        TokenType.Sibling => SpansetOperator.Sibling,
        TokenType.NotChild => SpansetOperator.NotChild,
        TokenType.NotParent => SpansetOperator.NotParent,
        TokenType.NotDescendant => SpansetOperator.NotDescendant,
        TokenType.NotAncestor => SpansetOperator.NotAncestor,
        TokenType.NotMatch => SpansetOperator.NotSibling,
        TokenType.UnionChild => SpansetOperator.UnionChild,
        TokenType.UnionParent => SpansetOperator.UnionParent,
        TokenType.UnionDescendant => SpansetOperator.UnionDescendant,
        TokenType.UnionAncestor => SpansetOperator.UnionAncestor,
        _ => SpansetOperator.UnionSibling,
    };

    private SpansetExpression ParseSpansets(int minPrecedence)
    {
        var left = ParseSpansetOperand();
        while (SpansetPrecedence(Current.Type) is var precedence && precedence > 0 && precedence >= minPrecedence)
        {
            var op = SpansetOp(Current.Type);
            _index++;
            left = new SpansetOperation(op, left, ParseSpansets(precedence + 1));
        }

        return left;
    }

    private SpansetExpression ParseSpansetOperand()
    {
        if (Accept(TokenType.LeftParen))
        {
            var (inner, _) = ParsePipeline(allowMetrics: false);
            Require(TokenType.RightParen, "')' to close the '(' of span filters");
            return inner.Elements is [SpansetExpression single] ? single : inner;
        }

        if (Current.Type != TokenType.LeftBrace)
        {
            throw Expected("a span filter in braces, such as { resource.service.name = \"orders\" }");
        }

        return ParseSpansetFilter();
    }

    private SpansetFilter ParseSpansetFilter()
    {
        Require(TokenType.LeftBrace, "'{'");
        if (Accept(TokenType.RightBrace))
        {
            return SpansetFilter.All;
        }

        var at = Current.Position;
        var condition = ParseField(0);
        if (condition.Type is { } type && type != TraceQLType.Bool)
        {
            throw Error(at, $"the condition of a span filter is true or false, and this is a{(type is TraceQLType.Int or TraceQLType.Status ? "n" : "")} {TypeName(type)}: compare it, as in {{ span.key = \"value\" }}.");
        }

        Require(TokenType.RightBrace, "an operator, '&&', '||' or '}' to close the span filter");
        return new SpansetFilter(condition.Expr);
    }

    // -----------------------------------------------------------------------------------------------------------
    // Scalar filters: count() > 2, avg(duration) > 20ms
    // -----------------------------------------------------------------------------------------------------------

    private ScalarFilter ParseScalarFilter()
    {
        var left = ParseScalar(0);
        var opToken = Current;
        var op = opToken.Type switch
        {
            TokenType.Equal => Operator.Equal,
            TokenType.NotEqual => Operator.NotEqual,
            TokenType.Less => Operator.Less,
            TokenType.LessOrEqual => Operator.LessOrEqual,
            TokenType.Greater => Operator.Greater,
            TokenType.GreaterOrEqual => Operator.GreaterOrEqual,
            _ => throw Expected("a comparison (=, !=, <, <=, >, >=) after the aggregate, as in | count() > 2"),
        };
        _index++;
        var right = ParseScalar(0);
        if (!HasAggregate(left) && !HasAggregate(right))
        {
            throw Error(opToken.Position, "a pipeline comparison needs an aggregate (count(), avg(…), min(…), max(…) or sum(…)) on one side.");
        }

        return new ScalarFilter(op, left, right);
    }

    private static bool HasAggregate(ScalarExpression e) => e switch
    {
        Aggregate => true,
        ScalarOperation o => HasAggregate(o.Left) || HasAggregate(o.Right),
        _ => false,
    };

    private static int ScalarPrecedence(TokenType type) => type switch
    {
        TokenType.Add or TokenType.Sub => 1,
        TokenType.Mul or TokenType.Div or TokenType.Mod => 2,
        TokenType.Pow => 3,
        _ => 0,
    };

    private ScalarExpression ParseScalar(int minPrecedence)
    {
        var left = ParseScalarOperand();
        while (ScalarPrecedence(Current.Type) is var precedence && precedence > 0 && precedence >= minPrecedence)
        {
            var op = ArithmeticOp(Current.Type);
            _index++;
            left = new ScalarOperation(op, left, ParseScalar(op == Operator.Pow ? precedence : precedence + 1));
        }

        return left;
    }

    private ScalarExpression ParseScalarOperand()
    {
        if (Accept(TokenType.LeftParen))
        {
            var inner = ParseScalar(0);
            Require(TokenType.RightParen, "')'");
            return inner;
        }

        if (Accept(TokenType.Sub))
        {
            var operand = ParseScalarOperand();
            return operand is ScalarStatic s ? new ScalarStatic(Negate(s.Value)) : new ScalarOperation(Operator.Sub, new ScalarStatic(TraceQLValue.FromInt(0)), operand);
        }

        if (StaticNumber() is { } number)
        {
            return new ScalarStatic(number);
        }

        if (Current.Type == TokenType.LeftBrace)
        {
            throw Error(Current.Position, "arithmetic between metrics queries, such as ({ } | rate()) / ({ } | count_over_time()), is not supported: run each query on its own.");
        }

        if (IsWord(out var word) && s_aggregates.TryGetValue(word, out var kind))
        {
            _index++;
            Require(TokenType.LeftParen, $"'(' after {word}");
            if (kind == AggregateKind.Count)
            {
                Require(TokenType.RightParen, "')': count() takes no arguments");
                return new Aggregate(kind, null);
            }

            var at = Current.Position;
            if (Current.Type == TokenType.RightParen)
            {
                throw Error(at, $"{word}() takes a field, as in {word}(duration) or {word}(span.http.response_content_length).");
            }

            var field = ParseField(0);
            RequireSpanReference(field, at, $"{word}()");
            if (field.Type is { } type && type is not (TraceQLType.Int or TraceQLType.Float or TraceQLType.Duration))
            {
                throw Error(at, $"{word}() takes a number or a duration, and this is a {TypeName(type)}.");
            }

            Require(TokenType.RightParen, $"')' to close {word}(");
            return new Aggregate(kind, field.Expr);
        }

        throw Expected("an aggregate (count(), avg(…), min(…), max(…), sum(…)) or a number");
    }

    private TraceQLValue? StaticNumber()
    {
        var token = Current;
        TraceQLValue? value = token.Type switch
        {
            TokenType.Integer => TraceQLValue.FromInt(token.Integer),
            TokenType.Float => TraceQLValue.FromFloat(token.Float),
            TokenType.Duration => TraceQLValue.FromDuration(token.Integer),
            _ => null,
        };
        if (value is not null)
        {
            _index++;
        }

        return value;
    }

    private static TraceQLValue Negate(TraceQLValue value) => value.Type switch
    {
        TraceQLType.Int => TraceQLValue.FromInt(-value.AsInt),
        TraceQLType.Duration => TraceQLValue.FromDuration(-value.AsInt),
        _ => TraceQLValue.FromFloat(-value.AsFloat),
    };

    // -----------------------------------------------------------------------------------------------------------
    // Metrics
    // -----------------------------------------------------------------------------------------------------------

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

        return new MetricsAggregate(function, field, quantiles, by, compareFilter, topN, compareStart, compareEnd);
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

            var op = Current.Type switch
            {
                TokenType.Equal => Operator.Equal,
                TokenType.NotEqual => Operator.NotEqual,
                TokenType.Less => Operator.Less,
                TokenType.LessOrEqual => Operator.LessOrEqual,
                TokenType.Greater => Operator.Greater,
                TokenType.GreaterOrEqual => Operator.GreaterOrEqual,
                _ => (Operator?)null,
            };
            if (op is null)
            {
                return stages;
            }

            _index++;
            var at = Current.Position;
            var value = ParseScalar(0);
            if (value is ScalarStatic { Value.Type: TraceQLType.Duration } duration)
            {
                // Durations in metrics values are seconds (Tempo's avg_over_time(duration) > 1s).
                stages.Add(new MetricsFilter(op.Value, duration.Value.AsInt / 1e9));
                continue;
            }

            if (HasAggregate(value) || ConstantNumber(value) is not { } number)
            {
                throw Error(at, "a metrics filter compares with a number, as in | rate() > 10.");
            }

            stages.Add(new MetricsFilter(op.Value, number));
        }
    }

    /// <summary>A scalar expression of numbers folded to one, or null (durations are not numbers here, as in Tempo).</summary>
    private static double? ConstantNumber(ScalarExpression e) => e switch
    {
        ScalarStatic { Value.Type: TraceQLType.Int or TraceQLType.Float } s => s.Value.AsNumber,
        ScalarOperation o when ConstantNumber(o.Left) is { } l && ConstantNumber(o.Right) is { } r => o.Op switch
        {
            Operator.Add => l + r,
            Operator.Sub => l - r,
            Operator.Mul => l * r,
            Operator.Div => l / r,
            Operator.Mod => l % r,
            _ => Math.Pow(l, r),
        },
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

    // -----------------------------------------------------------------------------------------------------------
    // Field expressions
    // -----------------------------------------------------------------------------------------------------------

    /// <summary>A field expression with its type when known (null: an attribute, whose type is only known per span).</summary>
    private readonly record struct Typed(FieldExpression Expr, TraceQLType? Type);

    private static int FieldPrecedence(TokenType type) => type switch
    {
        TokenType.And or TokenType.Or => 1,
        TokenType.Equal or TokenType.NotEqual or TokenType.Less or TokenType.LessOrEqual or TokenType.Greater
            or TokenType.GreaterOrEqual or TokenType.Match or TokenType.NotMatch => 2,
        TokenType.Add or TokenType.Sub => 3,
        TokenType.Mul or TokenType.Div or TokenType.Mod => 5,
        TokenType.Pow => 6,
        _ => 0,
    };

    private static Operator ArithmeticOp(TokenType type) => type switch
    {
        TokenType.Add => Operator.Add,
        TokenType.Sub => Operator.Sub,
        TokenType.Mul => Operator.Mul,
        TokenType.Div => Operator.Div,
        TokenType.Mod => Operator.Mod,
        _ => Operator.Pow,
    };

    private Typed ParseField(int minPrecedence)
    {
        var left = ParseUnary();
        while (FieldPrecedence(Current.Type) is var precedence && precedence > 0 && precedence >= minPrecedence)
        {
            var opToken = Current;
            _index++;
            var right = ParseField(opToken.Type == TokenType.Pow ? precedence : precedence + 1);
            left = Combine(opToken, left, right);
        }

        return left;
    }

    private Typed ParseUnary()
    {
        var token = Current;
        if (Accept(TokenType.Not))
        {
            var operand = ParseField(5);
            if (operand.Type is { } t && t != TraceQLType.Bool)
            {
                throw Error(token.Position, $"! negates a condition, and this is a {TypeName(t)}: write the comparison in parentheses, as in !(span.key = \"value\").");
            }

            return new Typed(new UnaryOperation(Operator.Not, operand.Expr), TraceQLType.Bool);
        }

        if (Accept(TokenType.Sub))
        {
            var operand = ParseField(5);
            if (operand.Type is { } t && t is not (TraceQLType.Int or TraceQLType.Float or TraceQLType.Duration))
            {
                throw Error(token.Position, $"- negates a number or a duration, and this is a {TypeName(t)}.");
            }

            return operand.Expr is Static s
                ? new Typed(new Static(Negate(s.Value)), operand.Type)
                : new Typed(new UnaryOperation(Operator.Negate, operand.Expr), operand.Type);
        }

        if (Accept(TokenType.LeftParen))
        {
            var inner = ParseField(0);
            Require(TokenType.RightParen, "')' to close the '('");
            return inner;
        }

        return ParsePrimary();
    }

    private Typed ParsePrimary()
    {
        var token = Current;
        switch (token.Type)
        {
            case TokenType.String:
                _index++;
                return new Typed(new Static(TraceQLValue.FromString(token.Text)), TraceQLType.String);
            case TokenType.Integer or TokenType.Float or TokenType.Duration:
                var number = StaticNumber()!.Value;
                return new Typed(new Static(number), number.Type);
            case TokenType.Attribute:
                _index++;
                return new Typed(new FieldReference(token.Scope, token.Text, Intrinsic.None, token.Parent), null);
            case TokenType.ScopedIntrinsic:
                if (!s_scopedIntrinsics.TryGetValue(token.Text, out var scoped))
                {
                    var scope = token.Text[..token.Text.IndexOf(':')];
                    var valid = string.Join(", ", s_scopedIntrinsics.Keys.Where(k => k.StartsWith(scope + ":", StringComparison.Ordinal)));
                    throw Error(token.Position, $"'{token.Text}' is not an intrinsic; the {scope} intrinsics are {valid}.");
                }

                _index++;
                return new Typed(new FieldReference(FieldReference.IntrinsicScope(scoped), token.Text, scoped), IntrinsicType(scoped));
            case TokenType.Word:
                return ParseWord(token);
            default:
                throw Expected("a field such as name, status, duration, span.http.route or resource.service.name, or a value");
        }
    }

    private Typed ParseWord(Token token)
    {
        var word = token.Text;
        if (s_statics.TryGetValue(word, out var value))
        {
            _index++;
            return new Typed(new Static(value), value.Type);
        }

        if (s_unscopedIntrinsics.TryGetValue(word, out var intrinsic))
        {
            _index++;
            return new Typed(new FieldReference(FieldReference.IntrinsicScope(intrinsic), word, intrinsic), IntrinsicType(intrinsic));
        }

        if (word is "parent" or "nestedSetLeft" or "nestedSetRight" or "nestedSetParent" or "childCount")
        {
            throw Error(token.Position, word == "childCount"
                ? "childCount is written span:childCount."
                : $"the intrinsic '{word}' is not supported; use span:parentID, or the structural operators (>, >>, <, <<) for relations between spans.");
        }

        // Ariadne's shorthands from before TraceQL: service is the resource's service.name, and a bare word followed
        // by a comparison is an unscoped attribute (TraceQL writes .key). Neither is a TraceQL keyword.
        if (word == "service")
        {
            _index++;
            return new Typed(FieldReference.OfResource("service.name"), null);
        }

        if (FieldPrecedence(Next.Type) == 2 && !IsAfterComparison())
        {
            _index++;
            return new Typed(FieldReference.Unscoped(word), null);
        }

        if (IsAfterComparison() && _index >= 2 && _tokens[_index - 2] is { Type: TokenType.Word or TokenType.ScopedIntrinsic } left
            && left.Text is "status" or "span:status" or "kind" or "span:kind")
        {
            throw Error(token.Position, left.Text.EndsWith("status", StringComparison.Ordinal)
                ? "status is error, ok or unset."
                : "kind is server, client, producer, consumer, internal or unspecified.");
        }

        throw Error(token.Position, $"expected a value, found the bare word '{word}'; quote text values: \"{word}\", and write attributes with a scope: span.{word}, resource.{word} or .{word}.");
    }

    private bool IsAfterComparison() => _index > 0 && FieldPrecedence(_tokens[_index - 1].Type) == 2;

    private Typed Combine(Token opToken, Typed left, Typed right)
    {
        switch (opToken.Type)
        {
            case TokenType.And or TokenType.Or:
                foreach (var side in (ReadOnlySpan<Typed>)[left, right])
                {
                    if (side.Type is { } t && t != TraceQLType.Bool)
                    {
                        throw Error(opToken.Position, $"{opToken.Text} joins conditions, and one side is a {TypeName(t)}: compare it, as in span.key = \"value\".");
                    }
                }

                return new Typed(new BinaryOperation(opToken.Type == TokenType.And ? Operator.And : Operator.Or, left.Expr, right.Expr), TraceQLType.Bool);
            case TokenType.Add or TokenType.Sub or TokenType.Mul or TokenType.Div or TokenType.Mod or TokenType.Pow:
                foreach (var side in (ReadOnlySpan<Typed>)[left, right])
                {
                    if (side.Type is { } t && t is not (TraceQLType.Int or TraceQLType.Float or TraceQLType.Duration))
                    {
                        throw Error(opToken.Position, $"{opToken.Text} works on numbers and durations, and one side is a {TypeName(t)}.");
                    }
                }

                var type = (left.Type, right.Type) switch
                {
                    (null, _) or (_, null) => (TraceQLType?)null,
                    (TraceQLType.Duration, _) or (_, TraceQLType.Duration) => TraceQLType.Duration,
                    (TraceQLType.Float, _) or (_, TraceQLType.Float) => TraceQLType.Float,
                    _ => TraceQLType.Int,
                };
                return new Typed(new BinaryOperation(ArithmeticOp(opToken.Type), left.Expr, right.Expr), type);
            case TokenType.Match or TokenType.NotMatch:
                if (right.Expr is not Static { Value.Type: TraceQLType.String } pattern)
                {
                    throw Error(opToken.Position, $"{opToken.Text} takes a regular expression in quotes on its right, as in span.http.route =~ \"/api/.*\".");
                }

                if (left.Type is { } lt && lt != TraceQLType.String)
                {
                    throw Error(opToken.Position, $"{opToken.Text} matches text, and the left side is a {TypeName(lt)}.");
                }

                try
                {
                    _ = SpanFieldEvaluator.CompileRegex(pattern.Value.AsString);
                }
                catch (ArgumentException e)
                {
                    throw Error(right.Expr == pattern ? opToken.Position + opToken.Length + 1 : opToken.Position, $"the regular expression does not parse: {e.Message}");
                }

                return new Typed(new BinaryOperation(opToken.Type == TokenType.Match ? Operator.Regex : Operator.NotRegex, left.Expr, right.Expr), TraceQLType.Bool);
            default:
                return Compare(opToken, left, right);
        }
    }

    private Typed Compare(Token opToken, Typed left, Typed right)
    {
        var op = opToken.Type switch
        {
            TokenType.Equal => Operator.Equal,
            TokenType.NotEqual => Operator.NotEqual,
            TokenType.Less => Operator.Less,
            TokenType.LessOrEqual => Operator.LessOrEqual,
            TokenType.Greater => Operator.Greater,
            _ => Operator.GreaterOrEqual,
        };
        var leftNil = left.Type == TraceQLType.Nil;
        var rightNil = right.Type == TraceQLType.Nil;
        if (leftNil || rightNil)
        {
            if (op is not (Operator.Equal or Operator.NotEqual))
            {
                throw Error(opToken.Position, "nil is compared with = (the field is missing) or != (it is present).");
            }

            if (leftNil && rightNil)
            {
                return new Typed(new Static(TraceQLValue.False), TraceQLType.Bool);
            }

            var field = leftNil ? right : left;
            if (field.Type is TraceQLType.Status or TraceQLType.Kind or TraceQLType.Duration || field.Expr is FieldReference { Scope: AttributeScope.Resource, Name: "service.name" }
                || (field.Type is not null && field.Expr is not FieldReference))
            {
                throw Error(opToken.Position, $"{field.Expr} is never nil: compare it with a value.");
            }

            return new Typed(new UnaryOperation(op == Operator.Equal ? Operator.NotExists : Operator.Exists, field.Expr), TraceQLType.Bool);
        }

        if (left.Type is { } l && right.Type is { } r && !Comparable(l, r))
        {
            throw Error(opToken.Position, $"a {TypeName(l)} cannot be compared with a {TypeName(r)}{Example(left.Expr)}.");
        }

        var known = left.Type ?? right.Type;
        if (known is TraceQLType.Status or TraceQLType.Kind or TraceQLType.Bool && op is not (Operator.Equal or Operator.NotEqual))
        {
            var name = known == TraceQLType.Bool ? "true or false" : (left.Expr as FieldReference)?.Name ?? TypeName(known.Value);
            throw Error(opToken.Position, $"{name} can be compared with = or !=.");
        }

        return new Typed(new BinaryOperation(op, left.Expr, right.Expr), TraceQLType.Bool);
    }

    private static string Example(FieldExpression left) => left switch
    {
        UnaryOperation { Op: Operator.Not } => "; ! applies only to what follows it: write the comparison in parentheses, as in !(span.key = \"value\")",
        FieldReference { Intrinsic: Intrinsic.Status } a => $"; {a.Name} is error, ok or unset",
        FieldReference { Intrinsic: Intrinsic.Kind } a => $"; {a.Name} is server, client, producer, consumer, internal or unspecified",
        FieldReference { Intrinsic: Intrinsic.Duration or Intrinsic.TraceDuration or Intrinsic.EventTimeSinceStart } a => $"; {a.Name} takes a duration with a unit, such as 250ms, 1.5s or 2m",
        FieldReference { IsIntrinsic: true } a => $"; {a.Name} takes a quoted string",
        _ => string.Empty,
    };

    private static bool Comparable(TraceQLType a, TraceQLType b) =>
        a == b || (IsNumeric(a) && IsNumeric(b));

    private static bool IsNumeric(TraceQLType t) => t is TraceQLType.Int or TraceQLType.Float or TraceQLType.Duration;

    private void RequireSpanReference(Typed field, int at, string context)
    {
        if (!References(field.Expr))
        {
            throw Error(at, $"{context} needs a field of the span, such as duration or span.http.response_content_length, not a constant.");
        }
    }

    private static bool References(FieldExpression e) => e switch
    {
        FieldReference => true,
        BinaryOperation b => References(b.Left) || References(b.Right),
        UnaryOperation u => References(u.Operand),
        _ => false,
    };

    public static TraceQLType IntrinsicType(Intrinsic intrinsic) => intrinsic switch
    {
        Intrinsic.Status => TraceQLType.Status,
        Intrinsic.Kind => TraceQLType.Kind,
        Intrinsic.Duration or Intrinsic.TraceDuration or Intrinsic.EventTimeSinceStart => TraceQLType.Duration,
        Intrinsic.ChildCount => TraceQLType.Int,
        _ => TraceQLType.String,
    };

    private static string TypeName(TraceQLType type) => type switch
    {
        TraceQLType.Int => "integer",
        TraceQLType.Float => "float",
        TraceQLType.String => "string",
        TraceQLType.Bool => "boolean",
        TraceQLType.Duration => "duration",
        TraceQLType.Status => "status",
        TraceQLType.Kind => "kind",
        _ => type.ToString().ToLowerInvariant(),
    };

    // -----------------------------------------------------------------------------------------------------------
    // Tokens
    // -----------------------------------------------------------------------------------------------------------

    private bool IsWord(out string word)
    {
        word = Current.Type == TokenType.Word ? Current.Text : string.Empty;
        return Current.Type == TokenType.Word;
    }

    private bool Accept(TokenType type)
    {
        if (Current.Type != type)
        {
            return false;
        }

        _index++;
        return true;
    }

    private void Require(TokenType type, string expected)
    {
        if (!Accept(type))
        {
            throw Expected(expected);
        }
    }

    private SearchSyntaxException Error(int position, string problem) => SearchSyntaxException.At(_text, position, problem);

    private SearchSyntaxException Expected(string expected)
    {
        var found = Current.Type == TokenType.End ? "the end of the query" : $"'{_text.Substring(Current.Position, Current.Length)}'";
        return Error(Current.Position, $"expected {expected}, found {found}.");
    }
}
