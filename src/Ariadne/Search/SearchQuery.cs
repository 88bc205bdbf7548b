using System.Globalization;
using System.Text.RegularExpressions;
using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Search;

/// <summary>
/// A parsed query, ready to run: the predicates the store can apply (<see cref="PushDown"/>) and the evaluation of
/// the whole expression over one trace (<see cref="Match"/>).
/// </summary>
public sealed class SearchQuery
{
    private readonly SpanConditionEvaluator _evaluator = new();

    private SearchQuery(string text, SpansetExpression expression)
    {
        Text = text;
        Expression = expression;
    }

    public string Text { get; }

    public SpansetExpression Expression { get; }

    /// <exception cref="SearchSyntaxException">The text does not parse.</exception>
    public static SearchQuery Parse(string text) => new(text, SearchParser.Parse(text));

    /// <summary>
    /// A store query that every matching trace also matches, so that only candidates are read: the service, name,
    /// duration bounds and attribute equalities that one span of a spanset every match needs must carry.
    /// </summary>
    public TraceQuery PushDown(DateTimeOffset start, DateTimeOffset end, int limit)
    {
        var query = new TraceQuery { StartTimeMin = start, StartTimeMax = end, Limit = limit };
        return RequiredFilters(Expression)
            .Select(f => Narrow(query, f.Condition))
            .OrderByDescending(Weight)
            .FirstOrDefault() ?? query;
    }

    /// <summary>The spans the expression selects in a trace; the trace matches when there is at least one.</summary>
    public IReadOnlyList<TraceNode> Match(TraceTree tree) => Evaluate(Expression, tree).ToList();

    /// <summary>The first <paramref name="limit"/> of <paramref name="candidates"/> that match, in their order, each with its matched spans.</summary>
    public List<SearchHit> Hits(IEnumerable<IReadOnlyList<Span>> candidates, int limit)
    {
        var hits = new List<SearchHit>();
        foreach (var spans in candidates)
        {
            var tree = TraceTree.Build(spans);
            var matched = Match(tree);
            if (matched.Count == 0)
            {
                continue;
            }

            hits.Add(new SearchHit(TraceSummary.From(tree), matched.OrderBy(n => n.Index).Select(n => n.Span.SpanId).ToList()));
            if (hits.Count == limit)
            {
                break;
            }
        }

        return hits;
    }

    private HashSet<TraceNode> Evaluate(SpansetExpression expression, TraceTree tree)
    {
        switch (expression)
        {
            case SpanFilter filter:
                return tree.Nodes.Where(n => _evaluator.Matches(filter.Condition, n.Span)).ToHashSet();
            case SpansetLogical { IsAnd: true } and:
                var left = Evaluate(and.Left, tree);
                if (left.Count == 0)
                {
                    return left;
                }

                var right = Evaluate(and.Right, tree);
                if (right.Count == 0)
                {
                    return right;
                }

                left.UnionWith(right);
                return left;
            case SpansetLogical or:
                var either = Evaluate(or.Left, tree);
                either.UnionWith(Evaluate(or.Right, tree));
                return either;
            case StructuralExpression structural:
                var parents = Evaluate(structural.Parent, tree);
                if (parents.Count == 0)
                {
                    return parents;
                }

                var children = Evaluate(structural.Child, tree);
                children.RemoveWhere(c => !HasAncestorIn(c, parents, structural.Op == StructuralOp.Child));
                return children;
            default:
                throw new InvalidOperationException($"Unknown expression {expression.GetType().Name}.");
        }
    }

    private static bool HasAncestorIn(TraceNode node, HashSet<TraceNode> candidates, bool parentOnly)
    {
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (candidates.Contains(ancestor))
            {
                return true;
            }

            if (parentOnly)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Span filters that must select a span in every matching trace (through &amp;&amp; and structure, not ||).</summary>
    private static IEnumerable<SpanFilter> RequiredFilters(SpansetExpression expression) => expression switch
    {
        SpanFilter filter => [filter],
        SpansetLogical { IsAnd: true } and => RequiredFilters(and.Left).Concat(RequiredFilters(and.Right)),
        StructuralExpression structural => RequiredFilters(structural.Parent).Concat(RequiredFilters(structural.Child)),
        _ => [],
    };

    private static TraceQuery Narrow(TraceQuery query, SpanCondition condition)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in Conjuncts(condition).OfType<Comparison>())
        {
            switch (c.Field.Kind, c.Op)
            {
                case (FieldKind.Service, CompareOp.Equal):
                    query = query with { ServiceName = c.Value.Text };
                    break;
                case (FieldKind.Name, CompareOp.Equal):
                    query = query with { OperationName = c.Value.Text };
                    break;
                case (FieldKind.Duration, CompareOp.Greater or CompareOp.GreaterOrEqual or CompareOp.Equal):
                    query = query with { MinDuration = Max(query.MinDuration, TimeSpan.FromTicks(c.Value.Nanos / 100)) };
                    break;
                case (FieldKind.Duration, CompareOp.Less or CompareOp.LessOrEqual):
                    query = query with { MaxDuration = Min(query.MaxDuration, TimeSpan.FromTicks((c.Value.Nanos + 99) / 100)) };
                    break;
                // The store compares tags as text. Numbers and booleans are compared by value here (500 = "500.0",
                // true = "t"), which a text filter would miss, so only strings carry over.
                case (FieldKind.Attribute, CompareOp.Equal) when c.Value.Kind == LiteralKind.String:
                    tags[c.Field.Scope == AttributeScope.Resource ? "resource." + c.Field.Key : c.Field.Key] = c.Value.Text;
                    break;
            }
        }

        return tags.Count == 0 ? query : query with { Tags = tags };
    }

    private static TimeSpan Max(TimeSpan? a, TimeSpan b) => a is { } x && x > b ? x : b;

    private static TimeSpan Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

    private static int Weight(TraceQuery q) =>
        (q.ServiceName is null ? 0 : 4) + (q.OperationName is null ? 0 : 2) + q.Tags.Count * 2 + (q.MinDuration is null ? 0 : 1) + (q.MaxDuration is null ? 0 : 1);

    private static IEnumerable<SpanCondition> Conjuncts(SpanCondition condition) => condition is AndCondition and
        ? Conjuncts(and.Left).Concat(Conjuncts(and.Right))
        : [condition];
}

/// <summary>Evaluates span conditions; caches compiled regular expressions per pattern.</summary>
public sealed class SpanConditionEvaluator
{
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromMilliseconds(200);
    private readonly Dictionary<string, Regex> _regexes = new(StringComparer.Ordinal);

    /// <summary>Regexes match the whole value, as in TraceQL and PromQL: =~ "5.." matches 503, not 1503.</summary>
    public static Regex CompileRegex(string pattern) =>
        new($"^(?:{pattern})$", RegexOptions.CultureInvariant | RegexOptions.Compiled, s_regexTimeout);

    public bool Matches(SpanCondition condition, Span span) => condition switch
    {
        AnySpan => true,
        AndCondition and => Matches(and.Left, span) && Matches(and.Right, span),
        OrCondition or => Matches(or.Left, span) || Matches(or.Right, span),
        NotCondition not => !Matches(not.Inner, span),
        Comparison comparison => Compare(comparison, span),
        _ => false,
    };

    private bool Compare(Comparison c, Span span)
    {
        switch (c.Field.Kind)
        {
            case FieldKind.Service:
                return CompareText(c, span.ServiceName);
            case FieldKind.Name:
                return CompareText(c, span.Name);
            case FieldKind.Status:
                return (span.StatusCode == SearchParser.ParseStatus(c.Value)) == (c.Op == CompareOp.Equal);
            case FieldKind.Kind:
                return (span.Kind == SearchParser.ParseKind(c.Value.Text)) == (c.Op == CompareOp.Equal);
            case FieldKind.Duration:
                return CompareNumbers(span.DurationNanos, c.Op, c.Value.Nanos);
        }

        if (!TryGetAttribute(span, c.Field, out var value))
        {
            // As in TraceQL, a comparison (even !=) needs the attribute; !(key = "v") also selects spans without it.
            return false;
        }

        switch (c.Value.Kind)
        {
            case LiteralKind.String:
                return CompareText(c, value.ToString());
            case LiteralKind.Bool:
                var isBool = value.Type == AnyValueType.Bool ? value.AsBool : SpanMatcher.TryParseGoBool(value.ToString(), out var parsed) && parsed;
                var known = value.Type == AnyValueType.Bool || SpanMatcher.TryParseGoBool(value.ToString(), out _);
                return known && (isBool == c.Value.Bool) == (c.Op == CompareOp.Equal);
            default:
                var target = c.Value.Kind == LiteralKind.Duration ? c.Value.Nanos : c.Value.Number;
                return TryGetNumber(value, out var number) && CompareNumbers(number, c.Op, target);
        }
    }

    private bool CompareText(Comparison c, string actual) => c.Op switch
    {
        CompareOp.Equal => string.Equals(actual, c.Value.Text, StringComparison.Ordinal),
        CompareOp.NotEqual => !string.Equals(actual, c.Value.Text, StringComparison.Ordinal),
        CompareOp.Matches => Regex(c.Value.Text).IsMatch(actual),
        CompareOp.NotMatches => !Regex(c.Value.Text).IsMatch(actual),
        _ => false,
    };

    private Regex Regex(string pattern)
    {
        if (!_regexes.TryGetValue(pattern, out var regex))
        {
            _regexes[pattern] = regex = CompileRegex(pattern);
        }

        return regex;
    }

    private static bool CompareNumbers(double actual, CompareOp op, double target) => op switch
    {
        CompareOp.Equal => actual == target,
        CompareOp.NotEqual => actual != target,
        CompareOp.Greater => actual > target,
        CompareOp.GreaterOrEqual => actual >= target,
        CompareOp.Less => actual < target,
        CompareOp.LessOrEqual => actual <= target,
        _ => false,
    };

    /// <summary>Int and double attributes, and strings that hold a number (Zipkin and Jaeger send every tag as text).</summary>
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

    private static bool TryGetAttribute(Span span, Field field, out AnyValue value)
    {
        value = default;
        return field.Scope switch
        {
            AttributeScope.Span => Find(span.Attributes, field.Key, out value),
            AttributeScope.Resource => Find(span.Resource.Attributes, field.Key, out value),
            _ => Find(span.Attributes, field.Key, out value) || Find(span.Resource.Attributes, field.Key, out value),
        };
    }

    private static bool Find(KeyValue[] attributes, string key, out AnyValue value)
    {
        foreach (var kv in attributes)
        {
            if (string.Equals(kv.Key, key, StringComparison.Ordinal))
            {
                value = kv.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
