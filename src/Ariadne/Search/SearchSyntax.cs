using System.Text;

namespace Ariadne.Search;

/// <summary>A query that does not parse: where (0-based character offset) and what was expected there.</summary>
public sealed class SearchSyntaxException(int position, string message) : Exception(message)
{
    public int Position { get; } = position;
}

public enum FieldKind
{
    Service,
    Name,
    Status,
    Kind,
    Duration,
    Attribute,
}

public enum AttributeScope
{
    /// <summary><c>.key</c> or a bare <c>key</c>: the span's attribute, else the resource's.</summary>
    Any,
    Span,
    Resource,
}

/// <summary>What a comparison reads from a span: an intrinsic field or an attribute.</summary>
public sealed record Field(FieldKind Kind, AttributeScope Scope = AttributeScope.Any, string Key = "")
{
    public override string ToString() => Kind switch
    {
        FieldKind.Service => "service",
        FieldKind.Name => "name",
        FieldKind.Status => "status",
        FieldKind.Kind => "kind",
        FieldKind.Duration => "duration",
        _ => Scope switch
        {
            AttributeScope.Span => "span." + Key,
            AttributeScope.Resource => "resource." + Key,
            _ => SearchParser.IsIntrinsicName(Key) ? "." + Key : Key,
        },
    };
}

public enum CompareOp
{
    Equal,
    NotEqual,
    Matches,
    NotMatches,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

public enum LiteralKind
{
    String,
    Integer,
    Double,
    Duration,
    Bool,

    /// <summary>A bare word on the right of <c>status</c> or <c>kind</c>: <c>error</c>, <c>server</c>.</summary>
    Keyword,
}

/// <summary>A value as written; <see cref="Text"/> is the source text of numbers, durations and keywords.</summary>
public sealed record Literal(LiteralKind Kind, string Text, double Number = 0, long Nanos = 0, bool Bool = false)
{
    public override string ToString() => Kind switch
    {
        LiteralKind.String => Quote(Text),
        LiteralKind.Bool => Bool ? "true" : "false",
        _ => Text,
    };

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
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}

/// <summary>A condition on one span, inside <c>{ }</c>.</summary>
public abstract record SpanCondition;

public sealed record Comparison(Field Field, CompareOp Op, Literal Value) : SpanCondition
{
    public override string ToString() => $"{Field} {SearchParser.OperatorText(Op)} {Value}";
}

public sealed record AndCondition(SpanCondition Left, SpanCondition Right) : SpanCondition
{
    public override string ToString() => $"({Left} && {Right})";
}

public sealed record OrCondition(SpanCondition Left, SpanCondition Right) : SpanCondition
{
    public override string ToString() => $"({Left} || {Right})";
}

public sealed record NotCondition(SpanCondition Inner) : SpanCondition
{
    public override string ToString() => $"!({Inner})";
}

/// <summary><c>{ }</c>: every span.</summary>
public sealed record AnySpan : SpanCondition
{
    public override string ToString() => "true";
}

/// <summary>An expression over sets of spans of one trace; a trace matches when the set is not empty.</summary>
public abstract record SpansetExpression;

public sealed record SpanFilter(SpanCondition Condition) : SpansetExpression
{
    public override string ToString() => Condition is AnySpan ? "{ }" : $"{{ {Unwrap(Condition)} }}";

    private static string Unwrap(SpanCondition condition) =>
        condition is AndCondition or OrCondition ? condition.ToString()![1..^1] : condition.ToString()!;
}

public enum StructuralOp
{
    /// <summary><c>&gt;</c>: spans of the right side whose parent is in the left side.</summary>
    Child,

    /// <summary><c>&gt;&gt;</c>: spans of the right side with an ancestor in the left side.</summary>
    Descendant,
}

public sealed record StructuralExpression(SpansetExpression Parent, StructuralOp Op, SpansetExpression Child) : SpansetExpression
{
    public override string ToString() => $"({Parent} {(Op == StructuralOp.Child ? ">" : ">>")} {Child})";
}

/// <summary><c>&amp;&amp;</c> (both sides match in the trace) or <c>||</c> (either), at the level of spansets.</summary>
public sealed record SpansetLogical(SpansetExpression Left, bool IsAnd, SpansetExpression Right) : SpansetExpression
{
    public override string ToString() => $"({Left} {(IsAnd ? "&&" : "||")} {Right})";
}
