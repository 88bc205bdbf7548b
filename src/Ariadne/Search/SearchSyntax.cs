using System.Text;

namespace Ariadne.Search;

/// <summary>
/// A query that does not parse or uses a construct Ariadne does not run: where (0-based character offset, and
/// 1-based line and column) and what was expected there. The HTTP layers answer it with 400.
/// </summary>
public sealed class SearchSyntaxException(int position, int line, int column, string problem, string message) : Exception(message)
{
    public int Position { get; } = position;

    /// <summary>What is wrong, without where (<see cref="Exception.Message"/> starts with where), for callers that say where their own way.</summary>
    public string Problem { get; } = problem;

    public int Line { get; } = line;

    public int Column { get; } = column;

    /// <summary>An error at <paramref name="position"/> of <paramref name="text"/>; the message starts with where it is.</summary>
    public static SearchSyntaxException At(string text, int position, string problem)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < position && i < text.Length; i++)
        {
            (line, column) = text[i] == '\n' ? (line + 1, 1) : (line, column + 1);
        }

        var where = line == 1 ? $"At {position}" : $"At {position} (line {line}, column {column})";
        return new SearchSyntaxException(position, line, column, problem, $"{where}: {problem}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------------

public enum TraceQLType : byte
{
    Nil,
    Int,
    Float,
    String,
    Bool,
    Duration,
    Status,
    Kind,

    /// <summary>An array attribute (OTLP ArrayValue); <c>=</c> and <c>=~</c> match any element.</summary>
    Array,
}

/// <summary>
/// A TraceQL value without allocation: ints, durations (nanoseconds), bools, statuses and kinds in
/// <see cref="Bits"/>, floats as their bits, strings and arrays in <see cref="Ref"/>.
/// </summary>
public readonly record struct TraceQLValue(TraceQLType Type, long Bits, object? Ref)
{
    public static readonly TraceQLValue Nil = default;
    public static readonly TraceQLValue True = FromBool(true);
    public static readonly TraceQLValue False = FromBool(false);

    public static TraceQLValue FromInt(long value) => new(TraceQLType.Int, value, null);

    public static TraceQLValue FromFloat(double value) => new(TraceQLType.Float, BitConverter.DoubleToInt64Bits(value), null);

    public static TraceQLValue FromDuration(long nanos) => new(TraceQLType.Duration, nanos, null);

    public static TraceQLValue FromString(string value) => new(TraceQLType.String, 0, value);

    public static TraceQLValue FromBool(bool value) => new(TraceQLType.Bool, value ? 1 : 0, null);

    public static TraceQLValue FromStatus(Model.StatusCode value) => new(TraceQLType.Status, (long)value, null);

    public static TraceQLValue FromKind(Model.SpanKind value) => new(TraceQLType.Kind, (long)value, null);

    public bool IsNil => Type == TraceQLType.Nil;

    public bool IsNumeric => Type is TraceQLType.Int or TraceQLType.Float or TraceQLType.Duration;

    public string AsString => Ref as string ?? string.Empty;

    public bool AsBool => Bits != 0;

    public long AsInt => Bits;

    public double AsFloat => BitConverter.Int64BitsToDouble(Bits);

    /// <summary>Ints, floats and durations (in nanoseconds) as a double; NaN otherwise.</summary>
    public double AsNumber => Type switch
    {
        TraceQLType.Int or TraceQLType.Duration => Bits,
        TraceQLType.Float => AsFloat,
        _ => double.NaN,
    };

    /// <summary>
    /// The value as a number: ints, floats and durations (in nanoseconds), and text that holds a number ("502", "0.25"),
    /// because Zipkin and Jaeger clients send every tag as text.
    /// </summary>
    public bool TryGetNumber(out double number)
    {
        switch (Type)
        {
            case TraceQLType.Int or TraceQLType.Duration:
                number = Bits;
                return true;
            case TraceQLType.Float:
                number = AsFloat;
                return true;
            case TraceQLType.String:
                return double.TryParse(AsString, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out number);
            default:
                number = 0;
                return false;
        }
    }

    /// <summary>The value as a label or a query literal (strings unquoted): <c>500</c>, <c>1.5s</c>, <c>error</c>, <c>server</c>.</summary>
    public override string ToString() => Type switch
    {
        TraceQLType.Nil => "nil",
        TraceQLType.Int => Bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TraceQLType.Float => FloatText(AsFloat),
        TraceQLType.String => AsString,
        TraceQLType.Bool => AsBool ? "true" : "false",
        TraceQLType.Duration => GoCompat.GoDuration.Format(Bits),
        TraceQLType.Status => ((Model.StatusCode)Bits).ToString().ToLowerInvariant(),
        TraceQLType.Kind => ((Model.SpanKind)Bits).ToString().ToLowerInvariant(),
        _ => "[" + string.Join(", ", ((Model.AnyValue[])Ref!).Select(v => v.ToString())) + "]",
    };

    /// <summary>A float that reads back as a float: 1000.0, not 1000.</summary>
    private static string FloatText(double value)
    {
        var text = value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny(".EN") >= 0 || text.Contains('I') ? text : text + ".0";
    }

    /// <summary>The value as TraceQL source: strings quoted.</summary>
    public string ToQueryText() => Type == TraceQLType.String ? Quote(AsString) : ToString();

    public static string Quote(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Field expressions: what goes inside { }, in by(), select(), aggregates and metrics functions
// ---------------------------------------------------------------------------------------------------------------

public abstract record FieldExpression;

/// <summary>A literal: <c>"text"</c>, <c>500</c>, <c>0.5</c>, <c>250ms</c>, <c>true</c>, <c>error</c>, <c>server</c>, <c>nil</c>.</summary>
public sealed record Static(TraceQLValue Value) : FieldExpression
{
    public override string ToString() => Value.ToQueryText();
}

public enum AttributeScope
{
    /// <summary><c>.key</c>: the span's attribute, else the resource's.</summary>
    None,
    Span,
    Resource,
    Event,
    Link,
    Instrumentation,

    /// <summary>An intrinsic of the trace: <c>trace:duration</c>, <c>trace:rootName</c>…</summary>
    Trace,
}

public enum Intrinsic
{
    None,
    Name,
    Status,
    StatusMessage,
    Kind,
    Duration,
    ChildCount,
    SpanId,
    ParentId,
    TraceId,
    TraceRootName,
    TraceRootService,
    TraceDuration,
    EventName,
    EventTimeSinceStart,
    LinkTraceId,
    LinkSpanId,
    InstrumentationName,
    InstrumentationVersion,
}

/// <summary>
/// An attribute (<see cref="Intrinsic"/> is None, <see cref="Name"/> is its key) or an intrinsic field
/// (<see cref="Name"/> is how it was written: <c>name</c>, <c>span:name</c>, <c>rootServiceName</c>).
/// <see cref="Parent"/>: read from the span's parent (<c>parent.span.key</c>).
/// </summary>
public sealed record FieldReference(AttributeScope Scope, string Name, Intrinsic Intrinsic = Intrinsic.None, bool Parent = false) : FieldExpression
{
    public bool IsIntrinsic => Intrinsic != Intrinsic.None;

    public static FieldReference Unscoped(string key) => new(AttributeScope.None, key);

    public static FieldReference OfSpan(string key) => new(AttributeScope.Span, key);

    public static FieldReference OfResource(string key) => new(AttributeScope.Resource, key);

    public static FieldReference Of(Intrinsic intrinsic) => new(IntrinsicScope(intrinsic), SearchParser.IntrinsicText(intrinsic), intrinsic);

    /// <summary>The scope an intrinsic belongs to (span, trace, event, link, instrumentation).</summary>
    public static AttributeScope IntrinsicScope(Intrinsic intrinsic) => intrinsic switch
    {
        Intrinsic.TraceId or Intrinsic.TraceRootName or Intrinsic.TraceRootService or Intrinsic.TraceDuration => AttributeScope.Trace,
        Intrinsic.EventName or Intrinsic.EventTimeSinceStart => AttributeScope.Event,
        Intrinsic.LinkTraceId or Intrinsic.LinkSpanId => AttributeScope.Link,
        Intrinsic.InstrumentationName or Intrinsic.InstrumentationVersion => AttributeScope.Instrumentation,
        _ => AttributeScope.Span,
    };

    public override string ToString()
    {
        if (IsIntrinsic)
        {
            return Name;
        }

        var prefix = Scope switch
        {
            AttributeScope.Span => "span.",
            AttributeScope.Resource => "resource.",
            AttributeScope.Event => "event.",
            AttributeScope.Link => "link.",
            AttributeScope.Instrumentation => "instrumentation.",
            _ => ".",
        };
        return (Parent ? "parent" + (Scope == AttributeScope.None ? "" : ".") : "") + prefix + SearchLexer.AttributeNameText(Name);
    }
}

public enum Operator
{
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Regex,
    NotRegex,
    And,
    Or,
    Not,

    /// <summary>Unary minus.</summary>
    Negate,

    /// <summary><c>x != nil</c>.</summary>
    Exists,

    /// <summary><c>x = nil</c>.</summary>
    NotExists,
}

public sealed record BinaryOperation(Operator Op, FieldExpression Left, FieldExpression Right) : FieldExpression
{
    public override string ToString() => $"{Wrap(Left)} {SearchParser.OperatorText(Op)} {Wrap(Right)}";

    internal static string Wrap(FieldExpression e) => e is BinaryOperation ? $"({e})" : e.ToString()!;
}

public sealed record UnaryOperation(Operator Op, FieldExpression Operand) : FieldExpression
{
    public override string ToString() => Op switch
    {
        Operator.Exists => $"{BinaryOperation.Wrap(Operand)} != nil",
        Operator.NotExists => $"{BinaryOperation.Wrap(Operand)} = nil",
        Operator.Not => $"!({Operand})",
        _ => $"-({Operand})",
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Spanset expressions and pipelines
// ---------------------------------------------------------------------------------------------------------------

/// <summary>One stage of a pipeline: it takes the spansets of a trace and gives spansets.</summary>
public abstract record PipelineElement;

/// <summary>An expression over spansets: a filter, or two combined by a logical or structural operator.</summary>
public abstract record SpansetExpression : PipelineElement;

/// <summary><c>{ condition }</c>: the spans for which the condition is true; <c>{ }</c> selects every span.</summary>
public sealed record SpansetFilter(FieldExpression Condition) : SpansetExpression
{
    public static readonly SpansetFilter All = new(new Static(TraceQLValue.True));

    public override string ToString() => this == All ? "{ }" : $"{{ {Condition} }}";
}

public enum SpansetOperator
{
    /// <summary><c>&amp;&amp;</c>: both sides select spans; the spans of both.</summary>
    And,

    /// <summary><c>||</c>: the spans of either side.</summary>
    Union,

    /// <summary><c>&gt;</c>: right-side spans whose parent is a left-side span.</summary>
    Child,

    /// <summary><c>&lt;</c>: right-side spans that are the parent of a left-side span.</summary>
    Parent,

    /// <summary><c>&gt;&gt;</c>: right-side spans with an ancestor among the left-side spans.</summary>
    Descendant,

    /// <summary><c>&lt;&lt;</c>: right-side spans that are an ancestor of a left-side span.</summary>
    Ancestor,

    /// <summary><c>~</c>: right-side spans with a sibling among the left-side spans.</summary>
    Sibling,
    NotChild,
    NotParent,
    NotDescendant,
    NotAncestor,
    NotSibling,

    /// <summary><c>&amp;&gt;</c>: as <c>&gt;</c>, and the left-side spans that took part.</summary>
    UnionChild,
    UnionParent,
    UnionDescendant,
    UnionAncestor,
    UnionSibling,
}

public sealed record SpansetOperation(SpansetOperator Op, PipelineElement Left, PipelineElement Right) : SpansetExpression
{
    public override string ToString() => $"({Left}) {SearchParser.SpansetOperatorText(Op)} ({Right})";
}

/// <summary>Stages separated by <c>|</c>; also a parenthesised pipeline used as an operand of a spanset operator.</summary>
public sealed record SpansetPipeline(IReadOnlyList<PipelineElement> Elements) : SpansetExpression
{
    public bool Equals(SpansetPipeline? other) => other is not null && Elements.SequenceEqual(other.Elements);

    public override int GetHashCode() => Elements.Count;

    public override string ToString() => string.Join(" | ", Elements);
}

public enum AggregateKind
{
    Count,
    Avg,
    Min,
    Max,
    Sum,
}

public abstract record ScalarExpression;

/// <summary><c>count()</c>, <c>avg(duration)</c>…: over the spans of each spanset.</summary>
public sealed record Aggregate(AggregateKind Kind, FieldExpression? Field) : ScalarExpression
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}({Field})";
}

public sealed record ScalarStatic(TraceQLValue Value) : ScalarExpression
{
    public override string ToString() => Value.ToQueryText();
}

public sealed record ScalarOperation(Operator Op, ScalarExpression Left, ScalarExpression Right) : ScalarExpression
{
    public override string ToString() => $"({Left} {SearchParser.OperatorText(Op)} {Right})";
}

/// <summary><c>| count() &gt; 2</c>: keeps the spansets for which the comparison holds.</summary>
public sealed record ScalarFilter(Operator Op, ScalarExpression Left, ScalarExpression Right) : PipelineElement
{
    public override string ToString() => $"{Left} {SearchParser.OperatorText(Op)} {Right}";
}

/// <summary><c>| by(resource.service.name)</c>: splits each spanset by the value of the expression.</summary>
public sealed record GroupBy(FieldExpression Field) : PipelineElement
{
    public override string ToString() => $"by({Field})";
}

/// <summary><c>| coalesce()</c>: merges the spansets into one.</summary>
public sealed record Coalesce : PipelineElement
{
    public override string ToString() => "coalesce()";
}

/// <summary><c>| select(span.http.url, …)</c>: fields to return with each span; selects no spans away.</summary>
public sealed record Select(IReadOnlyList<FieldReference> Fields) : PipelineElement
{
    public bool Equals(Select? other) => other is not null && Fields.SequenceEqual(other.Fields);

    public override int GetHashCode() => Fields.Count;

    public override string ToString() => $"select({string.Join(", ", Fields)})";
}

// ---------------------------------------------------------------------------------------------------------------
// Metrics: `{ … } | rate() by (resource.service.name) | topk(5)`
// ---------------------------------------------------------------------------------------------------------------

public enum MetricsFunction
{
    Rate,
    CountOverTime,
    MinOverTime,
    MaxOverTime,
    AvgOverTime,
    SumOverTime,
    QuantileOverTime,
    HistogramOverTime,
    Compare,
}

/// <summary>
/// The first stage of a metrics query: a function over the spans the pipeline selects, per time step, one
/// series per distinct value of the <see cref="By"/> fields.
/// </summary>
/// <param name="Field">The field the function reads (<c>duration</c> in <c>quantile_over_time(duration, .9)</c>); null for rate and count_over_time.</param>
/// <param name="Quantiles">quantile_over_time's quantiles, in order; empty otherwise.</param>
/// <param name="By">The grouping fields, in order; empty for one series.</param>
/// <param name="CompareFilter">compare()'s selection; null otherwise.</param>
/// <param name="CompareTopN">compare()'s top values per attribute (10 by default).</param>
/// <param name="CompareStart">compare()'s optional window start (unix nanoseconds, 0 when absent).</param>
/// <param name="CompareEnd">compare()'s optional window end (unix nanoseconds, 0 when absent).</param>
public sealed record MetricsAggregate(
    MetricsFunction Function,
    FieldReference? Field,
    IReadOnlyList<double> Quantiles,
    IReadOnlyList<FieldReference> By,
    SpansetFilter? CompareFilter = null,
    int CompareTopN = 10,
    long CompareStart = 0,
    long CompareEnd = 0)
{
    public bool Equals(MetricsAggregate? other) => other is not null && Function == other.Function && Field == other.Field
        && Quantiles.SequenceEqual(other.Quantiles) && By.SequenceEqual(other.By) && CompareFilter == other.CompareFilter
        && (CompareTopN, CompareStart, CompareEnd) == (other.CompareTopN, other.CompareStart, other.CompareEnd);

    /// <summary>Where the function's name starts in the query text, for errors about it; not part of equality.</summary>
    public int Position { get; init; }

    public override int GetHashCode() => HashCode.Combine(Function, Field, By.Count);

    public override string ToString()
    {
        var name = SearchParser.MetricsFunctionText(Function);
        var args = Function switch
        {
            MetricsFunction.QuantileOverTime => string.Join(", ", Quantiles.Select(q => q.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Prepend(Field!.ToString())),
            MetricsFunction.Compare => CompareStart == 0 && CompareEnd == 0
                ? $"{CompareFilter}, {CompareTopN}"
                : $"{CompareFilter}, {CompareTopN}, {CompareStart}, {CompareEnd}",
            _ => Field?.ToString() ?? string.Empty,
        };
        var by = By.Count == 0 ? string.Empty : $" by ({string.Join(", ", By)})";
        return $"{name}({args}){by}";
    }
}

/// <summary>A stage after the metrics function: <c>topk(n)</c>, <c>bottomk(n)</c> or a filter on the values (<c>&gt; 10</c>).</summary>
public abstract record MetricsSecondStage;

/// <summary><c>| topk(n)</c> (<see cref="Top"/>) or <c>| bottomk(n)</c>: the n series with the highest (lowest) average value over the range, as Tempo ranks them.</summary>
public sealed record MetricsTopK(bool Top, int Count) : MetricsSecondStage
{
    public override string ToString() => $"| {(Top ? "topk" : "bottomk")}({Count})";
}

/// <summary><c>&gt; 10</c> after a metrics function: keeps the points whose value compares true.</summary>
public sealed record MetricsFilter(Operator Op, double Value) : MetricsSecondStage
{
    public override string ToString() => $"{SearchParser.OperatorText(Op)} {Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>A metrics query: which spans (<see cref="Pipeline"/>), the function, then any second stages in order.</summary>
public sealed record MetricsQuery(SpansetPipeline Pipeline, MetricsAggregate Aggregate, IReadOnlyList<MetricsSecondStage> SecondStages)
{
    public bool Equals(MetricsQuery? other) => other is not null && Pipeline == other.Pipeline && Aggregate == other.Aggregate
        && SecondStages.SequenceEqual(other.SecondStages);

    public override int GetHashCode() => Aggregate.GetHashCode();

    public override string ToString() =>
        string.Join(" ", new[] { $"{Pipeline} | {Aggregate}" }.Concat(SecondStages.Select(s => s.ToString()!)));
}
