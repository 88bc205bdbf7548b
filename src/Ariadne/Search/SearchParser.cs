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
public sealed partial class SearchParser
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

            if (Next.Type == TokenType.LeftParen)
            {
                throw Error(Current.Position,
                    $"unknown function '{word}': a stage is by(), select(), coalesce() or count(), avg(), min(), max() or sum() compared with a value; "
                    + $"a metrics function is one of {string.Join(", ", s_metricsFunctions.Keys.Select(k => k + "()"))}.");
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
        var op = ComparisonOp(opToken.Type) ?? throw Expected("a comparison (=, !=, <, <=, >, >=) after the aggregate, as in | count() > 2");
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
