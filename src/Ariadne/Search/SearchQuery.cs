using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Search;

/// <summary>A set of spans of one trace that a pipeline selected, with the by() values that made it.</summary>
public sealed class Spanset(List<TraceNode> spans, IReadOnlyList<KeyValuePair<string, TraceQLValue>> attributes)
{
    /// <summary>The spans, in the trace's display order.</summary>
    public List<TraceNode> Spans { get; } = spans;

    /// <summary>The by() groups this spanset belongs to (<c>by(resource.service.name)</c> → "orders"), in pipeline order.</summary>
    public IReadOnlyList<KeyValuePair<string, TraceQLValue>> Attributes { get; } = attributes;

    /// <summary>The value of the last pipeline comparison (<c>count() &gt; 2</c> → the count), or nil.</summary>
    public TraceQLValue Scalar { get; set; }
}

/// <summary>
/// A parsed TraceQL query, ready to run: the predicates the store can apply (<see cref="PushDown"/>), the evaluation
/// of the pipeline over one trace (<see cref="Evaluate"/>, <see cref="Match"/>), and, for a metrics query, the
/// metrics stage (<see cref="Metrics"/>) with the fields it reads (<see cref="Read"/>).
/// </summary>
public sealed class SearchQuery
{
    private readonly Dictionary<FieldExpression, SpanFieldEvaluator> _fields = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FieldReference, SpanFieldEvaluator> _attributes = [];

    private SearchQuery(string text, RootExpression root)
    {
        Text = text;
        Root = root;
        CompileAll(root.Pipeline);
        foreach (var attribute in root.Metrics is { } m ? m.Aggregate.By.Append(m.Aggregate.Field) : [])
        {
            if (attribute is not null)
            {
                _attributes.TryAdd(attribute, SpanFieldEvaluator.Compile(attribute));
            }
        }

        if (root.Metrics?.Aggregate.CompareFilter is { } compare)
        {
            Compile(compare.Condition);
        }
    }

    public string Text { get; }

    public RootExpression Root { get; }

    /// <summary>The spanset pipeline: for a metrics query, the part before the metrics function.</summary>
    public SpansetPipeline Pipeline => Root.Pipeline;

    /// <summary>The metrics stage (<c>| rate() by (…)</c> and what follows), or null for a search.</summary>
    public MetricsQuery? Metrics => Root.Metrics;

    public bool IsMetrics => Root.Metrics is not null;

    /// <summary>The fields of the last select() stage, for the results to show; empty without one.</summary>
    public IReadOnlyList<FieldReference> SelectedFields => Pipeline.Elements.OfType<Select>().LastOrDefault()?.Fields ?? [];

    /// <exception cref="SearchSyntaxException">The text does not parse, or uses a construct Ariadne does not run.</exception>
    public static SearchQuery Parse(string text) => new(text, SearchParser.Parse(text));

    /// <summary>
    /// A store query that every matching trace also matches, so that only candidates are read: the service, name,
    /// duration bounds and attribute equalities that one span of a spanset every match needs must carry.
    /// </summary>
    public TraceQuery PushDown(DateTimeOffset start, DateTimeOffset end, int limit)
    {
        var query = new TraceQuery { StartTimeMin = start, StartTimeMax = end, Limit = limit };
        if (Pipeline.Elements is not [SpansetExpression first, ..])
        {
            return query;
        }

        return RequiredFilters(first)
            .SelectMany(f => new[] { Narrow(query, f.Condition, traceLevel: false), Narrow(query, f.Condition, traceLevel: true) })
            .OrderByDescending(Weight)
            .FirstOrDefault() ?? query;
    }

    /// <summary>The spansets the pipeline gives for a trace; the trace matches when there is at least one.</summary>
    public List<Spanset> Evaluate(TraceTree tree)
    {
        var trace = new TraceScope(tree);
        var all = new List<TraceNode>(tree.Nodes);
        return Run(Pipeline, [new Spanset(all, [])], trace);
    }

    /// <summary>The spans the pipeline selects in a trace (every spanset's), in display order; the trace matches when there is one.</summary>
    public IReadOnlyList<TraceNode> Match(TraceTree tree)
    {
        var spansets = Evaluate(tree);
        if (spansets.Count == 1)
        {
            return spansets[0].Spans;
        }

        var seen = new HashSet<TraceNode>(ReferenceEqualityComparer.Instance);
        return spansets.SelectMany(s => s.Spans).Where(seen.Add).OrderBy(n => n.Index).ToList();
    }

    /// <summary>The value of a by(), select() or metrics field for one span (see <see cref="SpanFieldEvaluator.Read"/>).</summary>
    public TraceQLValue Read(FieldReference field, TraceScope trace, TraceNode node)
    {
        if (!_attributes.TryGetValue(field, out var evaluator))
        {
            // Fields outside the query (a caller's own by list) are compiled on first use; not on the hot path.
            lock (_attributes)
            {
                if (!_attributes.TryGetValue(field, out evaluator))
                {
                    _attributes[field] = evaluator = SpanFieldEvaluator.Compile(field);
                }
            }
        }

        return evaluator.Read(trace, node);
    }

    /// <summary>True when the span matches compare()'s filter (metrics queries with compare() only).</summary>
    public bool MatchesCompareFilter(TraceScope trace, TraceNode node) =>
        Metrics?.Aggregate.CompareFilter is { } filter && _fields[filter.Condition].Matches(trace, node);

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

            hits.Add(new SearchHit(TraceSummary.From(tree), matched.Select(n => n.Span.SpanId).ToList()));
            if (hits.Count == limit)
            {
                break;
            }
        }

        return hits;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Compilation
    // -----------------------------------------------------------------------------------------------------------

    private void CompileAll(PipelineElement element)
    {
        switch (element)
        {
            case SpansetPipeline p:
                foreach (var e in p.Elements)
                {
                    CompileAll(e);
                }

                break;
            case SpansetFilter f:
                Compile(f.Condition);
                break;
            case SpansetOperation o:
                CompileAll(o.Left);
                CompileAll(o.Right);
                break;
            case GroupBy g:
                Compile(g.Field);
                break;
            case Select s:
                foreach (var field in s.Fields)
                {
                    _attributes.TryAdd(field, SpanFieldEvaluator.Compile(field));
                }

                break;
            case ScalarFilter s:
                CompileScalar(s.Left);
                CompileScalar(s.Right);
                break;
        }
    }

    private void CompileScalar(ScalarExpression e)
    {
        switch (e)
        {
            case Aggregate { Field: { } field }:
                Compile(field);
                break;
            case ScalarOperation o:
                CompileScalar(o.Left);
                CompileScalar(o.Right);
                break;
        }
    }

    private void Compile(FieldExpression e) => _fields.TryAdd(e, SpanFieldEvaluator.Compile(e));

    // -----------------------------------------------------------------------------------------------------------
    // Evaluation
    // -----------------------------------------------------------------------------------------------------------

    private List<Spanset> Run(SpansetPipeline pipeline, List<Spanset> input, TraceScope trace)
    {
        var current = input;
        foreach (var element in pipeline.Elements)
        {
            current = element switch
            {
                SpansetExpression e => Spansets(e, current, trace),
                ScalarFilter f => current.Where(s => Holds(f, s, trace)).ToList(),
                GroupBy g => Group(g, current, trace),
                Coalesce => current.Count <= 1 ? current : [new Spanset(Union(current.Select(s => s.Spans)), [])],
                _ => current,
            };
            if (current.Count == 0)
            {
                break;
            }
        }

        return current;
    }

    private List<Spanset> Spansets(SpansetExpression expression, List<Spanset> input, TraceScope trace)
    {
        var output = new List<Spanset>(input.Count);
        foreach (var spanset in input)
        {
            switch (expression)
            {
                case SpansetFilter filter:
                    var evaluator = _fields[filter.Condition];
                    List<TraceNode>? selected = null;
                    foreach (var node in spanset.Spans)
                    {
                        if (evaluator.Matches(trace, node))
                        {
                            (selected ??= []).Add(node);
                        }
                    }

                    if (selected is not null)
                    {
                        output.Add(new Spanset(selected, spanset.Attributes));
                    }

                    break;
                case SpansetPipeline pipeline:
                    output.AddRange(Run(pipeline, [spanset], trace));
                    break;
                case SpansetOperation operation:
                    var left = Side(operation.Left, spanset, trace);
                    var right = Side(operation.Right, spanset, trace);
                    var result = Combine(operation.Op, left, right, trace.Tree);
                    if (result.Count > 0)
                    {
                        output.Add(new Spanset(result, spanset.Attributes));
                    }

                    break;
            }
        }

        return output;
    }

    private List<TraceNode> Side(PipelineElement side, Spanset input, TraceScope trace)
    {
        var spansets = side is SpansetExpression e ? Spansets(e, [input], trace) : Run(new SpansetPipeline([side]), [input], trace);
        return spansets.Count switch
        {
            0 => [],
            1 => spansets[0].Spans,
            _ => Union(spansets.Select(s => s.Spans)),
        };
    }

    private static List<TraceNode> Union(IEnumerable<List<TraceNode>> sets)
    {
        var seen = new HashSet<TraceNode>(ReferenceEqualityComparer.Instance);
        return sets.SelectMany(s => s).Where(seen.Add).OrderBy(n => n.Index).ToList();
    }

    /// <summary>
    /// A spanset operator over the spans of two sides. Structural operators give right-side spans (the union forms
    /// also the left-side spans that took part); they work on marks indexed by the span's display position, in
    /// linear time: display order is depth-first, so a parent is marked before its children.
    /// </summary>
    private static List<TraceNode> Combine(SpansetOperator op, List<TraceNode> left, List<TraceNode> right, TraceTree tree)
    {
        switch (op)
        {
            case SpansetOperator.And:
                return left.Count == 0 || right.Count == 0 ? [] : Union([left, right]);
            case SpansetOperator.Union:
                return Union([left, right]);
        }

        var negated = op is SpansetOperator.NotChild or SpansetOperator.NotParent or SpansetOperator.NotDescendant
            or SpansetOperator.NotAncestor or SpansetOperator.NotSibling;
        if (right.Count == 0 || (left.Count == 0 && !negated))
        {
            return [];
        }

        var count = tree.Nodes.Count;
        var inLeft = new bool[count];
        foreach (var node in left)
        {
            inLeft[node.Index] = true;
        }

        Func<TraceNode, bool> related;
        switch (op)
        {
            case SpansetOperator.Child or SpansetOperator.NotChild or SpansetOperator.UnionChild:
                related = n => n.Parent is { } p && inLeft[p.Index];
                break;
            case SpansetOperator.Parent or SpansetOperator.NotParent or SpansetOperator.UnionParent:
                related = n => n.Children.Exists(c => inLeft[c.Index]);
                break;
            case SpansetOperator.Descendant or SpansetOperator.NotDescendant or SpansetOperator.UnionDescendant:
                var underLeft = new bool[count];
                foreach (var node in tree.Nodes)
                {
                    underLeft[node.Index] = node.Parent is { } p && (inLeft[p.Index] || underLeft[p.Index]);
                }

                related = n => underLeft[n.Index];
                break;
            case SpansetOperator.Ancestor or SpansetOperator.NotAncestor or SpansetOperator.UnionAncestor:
                var aboveLeft = new bool[count];
                foreach (var node in left)
                {
                    for (var a = node.Parent; a is not null && !aboveLeft[a.Index]; a = a.Parent)
                    {
                        aboveLeft[a.Index] = true;
                    }
                }

                related = n => aboveLeft[n.Index];
                break;
            default:
                var leftChildren = new int[count];
                foreach (var node in left)
                {
                    if (node.Parent is { } p)
                    {
                        leftChildren[p.Index]++;
                    }
                }

                related = n => n.Parent is { } p && leftChildren[p.Index] - (inLeft[n.Index] ? 1 : 0) > 0;
                break;
        }

        var matched = right.Where(n => related(n) != negated).ToList();
        if (op is not (SpansetOperator.UnionChild or SpansetOperator.UnionParent or SpansetOperator.UnionDescendant
            or SpansetOperator.UnionAncestor or SpansetOperator.UnionSibling) || matched.Count == 0)
        {
            return matched;
        }

        // The left-side spans in the relation with a matched right-side span: the same relation, seen from the other end.
        var inMatched = new bool[count];
        foreach (var node in matched)
        {
            inMatched[node.Index] = true;
        }

        var partners = op switch
        {
            SpansetOperator.UnionChild => left.Where(l => l.Children.Exists(c => inMatched[c.Index])),
            SpansetOperator.UnionParent => left.Where(l => l.Parent is { } p && inMatched[p.Index]),
            SpansetOperator.UnionDescendant => left.Where(l => matched.Exists(m => IsAncestor(l, m))),
            SpansetOperator.UnionAncestor => left.Where(l => matched.Exists(m => IsAncestor(m, l))),
            _ => left.Where(l => l.Parent is { } p && matched.Exists(m => m != l && m.Parent == p)),
        };
        return Union([matched, partners.ToList()]);
    }

    private static bool IsAncestor(TraceNode ancestor, TraceNode node) =>
        node.Index > ancestor.Index && node.Index <= ancestor.SubtreeEnd;

    private List<Spanset> Group(GroupBy group, List<Spanset> input, TraceScope trace)
    {
        var evaluator = _fields[group.Field];
        var label = group.ToString();
        var output = new List<Spanset>();
        foreach (var spanset in input)
        {
            var groups = new Dictionary<TraceQLValue, List<TraceNode>>();
            foreach (var node in spanset.Spans)
            {
                var value = evaluator.Read(trace, node);
                if (!groups.TryGetValue(value, out var list))
                {
                    groups[value] = list = [];
                }

                list.Add(node);
            }

            foreach (var (value, spans) in groups)
            {
                output.Add(new Spanset(spans, [.. spanset.Attributes, new(label, value)]));
            }
        }

        return output;
    }

    private bool Holds(ScalarFilter filter, Spanset spanset, TraceScope trace)
    {
        var left = Scalar(filter.Left, spanset, trace);
        var right = Scalar(filter.Right, spanset, trace);
        spanset.Scalar = filter.Left is Aggregate || filter.Right is not Aggregate ? left : right;
        return SpanFieldEvaluator.Compare(filter.Op, left, right);
    }

    private TraceQLValue Scalar(ScalarExpression expression, Spanset spanset, TraceScope trace) => expression switch
    {
        ScalarStatic s => s.Value,
        ScalarOperation o => SpanFieldEvaluator.Apply(o.Op, Scalar(o.Left, spanset, trace), Scalar(o.Right, spanset, trace)),
        Aggregate { Kind: AggregateKind.Count } => TraceQLValue.FromInt(spanset.Spans.Count),
        Aggregate a => AggregateValue(a, spanset, trace),
        _ => TraceQLValue.Nil,
    };

    private TraceQLValue AggregateValue(Aggregate aggregate, Spanset spanset, TraceScope trace)
    {
        var evaluator = _fields[aggregate.Field!];
        var (count, sum, min, max) = (0, 0.0, double.MaxValue, double.MinValue);
        var allInts = true;
        var durations = true;
        foreach (var node in spanset.Spans)
        {
            var value = evaluator.Read(trace, node);
            if (!value.IsNumeric)
            {
                continue;
            }

            var number = value.AsNumber;
            (count, sum, min, max) = (count + 1, sum + number, Math.Min(min, number), Math.Max(max, number));
            allInts &= value.Type == TraceQLType.Int;
            durations &= value.Type == TraceQLType.Duration;
        }

        if (count == 0)
        {
            return TraceQLValue.Nil;
        }

        var result = aggregate.Kind switch
        {
            AggregateKind.Avg => sum / count,
            AggregateKind.Min => min,
            AggregateKind.Max => max,
            _ => sum,
        };
        return durations ? TraceQLValue.FromDuration((long)result)
            : allInts && aggregate.Kind != AggregateKind.Avg ? TraceQLValue.FromInt((long)result)
            : TraceQLValue.FromFloat(result);
    }

    // -----------------------------------------------------------------------------------------------------------
    // Push-down
    // -----------------------------------------------------------------------------------------------------------

    /// <summary>Span filters that must select a span in every matching trace (through &amp;&amp; and structure, not ||).</summary>
    private static IEnumerable<SpansetFilter> RequiredFilters(PipelineElement element) => element switch
    {
        SpansetFilter filter => [filter],
        SpansetPipeline { Elements: [var first, ..] } => RequiredFilters(first),
        SpansetOperation { Op: SpansetOperator.Union } => [],
        SpansetOperation { Op: SpansetOperator.NotChild or SpansetOperator.NotParent or SpansetOperator.NotDescendant or SpansetOperator.NotAncestor or SpansetOperator.NotSibling } o =>
            RequiredFilters(o.Right),
        SpansetOperation o => RequiredFilters(o.Left).Concat(RequiredFilters(o.Right)),
        _ => [],
    };

    /// <summary>
    /// The store query for the conditions of one span filter that all hold on one span: span-level conditions, or
    /// (<paramref name="traceLevel"/>) trace:rootService and trace:rootName, which hold on the root span.
    /// </summary>
    private static TraceQuery Narrow(TraceQuery query, FieldExpression condition, bool traceLevel)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var conjunct in Conjuncts(condition))
        {
            if (conjunct is not BinaryOperation { Left: var l, Right: var r } c)
            {
                continue;
            }

            var (field, value, op) = (l, r) switch
            {
                (FieldReference a, Static s) => (a, s.Value, c.Op),
                (Static s, FieldReference a) => (a, s.Value, Flip(c.Op)),
                _ => (null, default, c.Op),
            };
            if (field is null || field.Parent)
            {
                continue;
            }

            switch (field.Intrinsic, field.Scope, op, value.Type)
            {
                case (Intrinsic.TraceRootService, _, Operator.Equal, TraceQLType.String) when traceLevel:
                case (Intrinsic.None, AttributeScope.Resource, Operator.Equal, TraceQLType.String) when !traceLevel && field.Name == "service.name":
                    query = query with { ServiceName = value.AsString };
                    break;
                case (Intrinsic.TraceRootName, _, Operator.Equal, TraceQLType.String) when traceLevel:
                case (Intrinsic.Name, _, Operator.Equal, TraceQLType.String) when !traceLevel:
                    query = query with { OperationName = value.AsString };
                    break;
                case (Intrinsic.Duration, _, Operator.Greater or Operator.GreaterOrEqual or Operator.Equal, TraceQLType.Duration or TraceQLType.Int) when !traceLevel:
                    query = query with { MinDuration = Max(query.MinDuration, TimeSpan.FromTicks(value.AsInt / 100)) };
                    break;
                case (Intrinsic.Duration, _, Operator.Less or Operator.LessOrEqual, TraceQLType.Duration or TraceQLType.Int) when !traceLevel:
                    query = query with { MaxDuration = Min(query.MaxDuration, TimeSpan.FromTicks((value.AsInt + 99) / 100)) };
                    break;

                // Jaeger's error tag matches every span with an error status (and spans with an error=true attribute).
                case (Intrinsic.Status, _, Operator.Equal, TraceQLType.Status) when !traceLevel && value.AsInt == (long)Model.StatusCode.Error:
                    tags["error"] = "true";
                    break;

                // The store compares tags as text. Numbers and booleans are compared by value here (500 = "500.0",
                // true = "t"), which a text filter would miss, so only strings carry over.
                case (Intrinsic.None, AttributeScope.None or AttributeScope.Span or AttributeScope.Resource, Operator.Equal, TraceQLType.String) when !traceLevel:
                    tags[field.Scope == AttributeScope.Resource ? "resource." + field.Name : field.Name] = value.AsString;
                    break;
            }
        }

        return tags.Count == 0 ? query : query with { Tags = tags };
    }

    private static Operator Flip(Operator op) => op switch
    {
        Operator.Less => Operator.Greater,
        Operator.LessOrEqual => Operator.GreaterOrEqual,
        Operator.Greater => Operator.Less,
        Operator.GreaterOrEqual => Operator.LessOrEqual,
        _ => op,
    };

    private static TimeSpan Max(TimeSpan? a, TimeSpan b) => a is { } x && x > b ? x : b;

    private static TimeSpan Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

    // Errors are rare next to a service's spans: { service } >> { status = error } fetches the error traces, not a
    // sample of the service's traces that may hold none.
    private static int Weight(TraceQuery q) =>
        (q.ServiceName is null ? 0 : 4) + (q.OperationName is null ? 0 : 2) + q.Tags.Count * 2 + (q.MinDuration is null ? 0 : 1) + (q.MaxDuration is null ? 0 : 1)
        + (q.Tags.ContainsKey("error") ? 3 : 0);

    private static IEnumerable<FieldExpression> Conjuncts(FieldExpression condition) => condition is BinaryOperation { Op: Operator.And } and
        ? Conjuncts(and.Left).Concat(Conjuncts(and.Right))
        : [condition];
}
