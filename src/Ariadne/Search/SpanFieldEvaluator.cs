using System.Text.RegularExpressions;
using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Search;

/// <summary>What a field expression is evaluated against: one span of a trace, and the event and link being looked at.</summary>
public struct SpanContext(TraceScope trace, TraceNode node)
{
    public TraceScope Trace { get; } = trace;

    public TraceNode Node { get; } = node;

    /// <summary>The event that <c>event.</c> fields read, or -1.</summary>
    public int Event { get; set; } = -1;

    /// <summary>The link that <c>link.</c> fields read, or -1.</summary>
    public int Link { get; set; } = -1;
}

/// <summary>A trace being evaluated, with the trace-level intrinsics worked out once.</summary>
public sealed class TraceScope(TraceTree tree)
{
    private string? _traceIdHex;

    public TraceTree Tree { get; } = tree;

    /// <summary>The span without a parent that starts first, as Tempo's trace:rootName and trace:rootService read; null when it was not received.</summary>
    public Span? RootSpan { get; } = tree.Roots.FirstOrDefault(r => r.Span.IsRoot)?.Span;

    public string TraceIdHex => _traceIdHex ??= Tree.TraceId.ToHex();
}

/// <summary>
/// A field expression compiled once per query into a tree of nodes that evaluate a span without allocating
/// (regular expressions compiled once, attribute values read in place).
/// </summary>
public abstract class SpanFieldEvaluator
{
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromMilliseconds(200);

    public abstract TraceQLValue Evaluate(ref SpanContext context);

    /// <summary>True when the expression reads <c>event.</c> or <c>event:</c> fields; it is then evaluated per event.</summary>
    public bool ReadsEvents { get; private set; }

    /// <summary>True when the expression reads <c>link.</c> or <c>link:</c> fields; it is then evaluated per link.</summary>
    public bool ReadsLinks { get; private set; }

    /// <summary>Regexes match the whole value, as in TraceQL and PromQL: =~ "5.." matches 503, not 1503.</summary>
    public static Regex CompileRegex(string pattern) =>
        new($"^(?:{pattern})$", RegexOptions.CultureInvariant | RegexOptions.Compiled, s_regexTimeout);

    public static SpanFieldEvaluator Compile(FieldExpression expression)
    {
        var node = Build(expression);
        Visit(expression);
        return node;

        void Visit(FieldExpression e)
        {
            switch (e)
            {
                case FieldReference a:
                    node.ReadsEvents |= a.Scope == AttributeScope.Event;
                    node.ReadsLinks |= a.Scope == AttributeScope.Link;
                    break;
                case BinaryOperation b:
                    Visit(b.Left);
                    Visit(b.Right);
                    break;
                case UnaryOperation u:
                    Visit(u.Operand);
                    break;
            }
        }
    }

    /// <summary>
    /// True when the condition holds for the span: for a condition on <c>event.</c> (or <c>link.</c>) fields, when
    /// it holds for one of the span's events (links), all its event fields read from that same event.
    /// </summary>
    public bool Matches(TraceScope trace, TraceNode node)
    {
        var context = new SpanContext(trace, node);
        if (!ReadsEvents && !ReadsLinks)
        {
            return IsTrue(Evaluate(ref context));
        }

        var span = node.Span;
        var events = ReadsEvents ? Math.Max(span.Events.Length, 1) : 1;
        var links = ReadsLinks ? Math.Max(span.Links.Length, 1) : 1;
        for (var e = 0; e < events; e++)
        {
            context.Event = ReadsEvents && span.Events.Length > 0 ? e : -1;
            for (var l = 0; l < links; l++)
            {
                context.Link = ReadsLinks && span.Links.Length > 0 ? l : -1;
                if (IsTrue(Evaluate(ref context)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The value of a field for one span (event and link fields read the first event or link): for by() labels and metrics.</summary>
    public TraceQLValue Read(TraceScope trace, TraceNode node)
    {
        var context = new SpanContext(trace, node)
        {
            Event = node.Span.Events.Length > 0 ? 0 : -1,
            Link = node.Span.Links.Length > 0 ? 0 : -1,
        };
        return Evaluate(ref context);
    }

    public static bool IsTrue(TraceQLValue value) => value.Type == TraceQLType.Bool && value.AsBool;

    private static SpanFieldEvaluator Build(FieldExpression expression) => expression switch
    {
        Static s => new Constant(s.Value),
        FieldReference { IsIntrinsic: true } a => new IntrinsicField(a.Intrinsic),
        FieldReference a => new AttributeField(a.Scope, a.Name, a.Parent),
        UnaryOperation { Op: Operator.Not } u => new Not(Build(u.Operand)),
        UnaryOperation { Op: Operator.Exists } u => new Exists(Build(u.Operand), true),
        UnaryOperation { Op: Operator.NotExists } u => new Exists(Build(u.Operand), false),
        UnaryOperation u => new Arithmetic(Operator.Sub, new Constant(TraceQLValue.FromInt(0)), Build(u.Operand)),
        BinaryOperation { Op: Operator.And } b => new Logical(Build(b.Left), Build(b.Right), true),
        BinaryOperation { Op: Operator.Or } b => new Logical(Build(b.Left), Build(b.Right), false),
        BinaryOperation { Op: Operator.Regex or Operator.NotRegex } b =>
            new RegexMatch(Build(b.Left), CompileRegex(((Static)b.Right).Value.AsString), b.Op == Operator.Regex),
        BinaryOperation { Op: Operator.Add or Operator.Sub or Operator.Mul or Operator.Div or Operator.Mod or Operator.Pow } b =>
            new Arithmetic(b.Op, Build(b.Left), Build(b.Right)),
        BinaryOperation b => new Comparison(b.Op, Build(b.Left), Build(b.Right)),
        _ => throw new InvalidOperationException($"Unknown field expression {expression.GetType().Name}."),
    };

    /// <summary>Compares two values as TraceQL does, plus Ariadne's reading of text tags as numbers and booleans.</summary>
    public static bool Compare(Operator op, TraceQLValue left, TraceQLValue right)
    {
        if (left.IsNil || right.IsNil)
        {
            return false;
        }

        if (left.Type == TraceQLType.Array)
        {
            // = matches when any element does; != when none is equal (Tempo's array semantics).
            var elements = (AnyValue[])left.Ref!;
            if (op == Operator.NotEqual)
            {
                foreach (var element in elements)
                {
                    if (CompareScalar(Operator.Equal, FromAnyValue(element), right))
                    {
                        return false;
                    }
                }

                return elements.Length > 0;
            }

            foreach (var element in elements)
            {
                if (CompareScalar(op, FromAnyValue(element), right))
                {
                    return true;
                }
            }

            return false;
        }

        return CompareScalar(op, left, right);
    }

    private static bool CompareScalar(Operator op, TraceQLValue left, TraceQLValue right)
    {
        if (left.Type == right.Type)
        {
            return left.Type switch
            {
                TraceQLType.Int or TraceQLType.Duration => Order(op, left.AsInt.CompareTo(right.AsInt)),
                TraceQLType.Float => Numbers(op, left.AsFloat, right.AsFloat),
                TraceQLType.String => Order(op, string.CompareOrdinal(left.AsString, right.AsString)),
                _ => op switch
                {
                    Operator.Equal => left.Bits == right.Bits,
                    Operator.NotEqual => left.Bits != right.Bits,
                    _ => false,
                },
            };
        }

        if (left.IsNumeric && right.IsNumeric)
        {
            return Numbers(op, left.AsNumber, right.AsNumber);
        }

        // Zipkin and Jaeger clients send every tag as text: a text tag that holds a number or a boolean compares as one,
        // and a number compares with text as its text (an int 502 = "502").
        if (left.Type == TraceQLType.String && (right.IsNumeric || right.Type == TraceQLType.Bool))
        {
            return Coerce(op, left, right, swapped: false);
        }

        // A number against text only compares for equality (TraceQL itself never equates them).
        if (right.Type == TraceQLType.String && (left.IsNumeric || left.Type == TraceQLType.Bool) && op is Operator.Equal or Operator.NotEqual)
        {
            return Coerce(op, right, left, swapped: true);
        }

        return false;
    }

    private static bool Coerce(Operator op, TraceQLValue text, TraceQLValue other, bool swapped)
    {
        if (other.Type == TraceQLType.Bool)
        {
            return SpanMatcher.TryParseGoBool(text.AsString, out var b) && op switch
            {
                Operator.Equal => b == other.AsBool,
                Operator.NotEqual => b != other.AsBool,
                _ => false,
            };
        }

        if (other.Type != TraceQLType.Duration && text.TryGetNumber(out var number))
        {
            return swapped ? Numbers(op, other.AsNumber, number) : Numbers(op, number, other.AsNumber);
        }

        return op switch
        {
            Operator.Equal => string.Equals(text.AsString, other.ToString(), StringComparison.Ordinal),
            Operator.NotEqual => !string.Equals(text.AsString, other.ToString(), StringComparison.Ordinal),
            _ => false,
        };
    }

    private static bool Numbers(Operator op, double left, double right) => op switch
    {
        Operator.Equal => left == right,
        Operator.NotEqual => left != right,
        Operator.Less => left < right,
        Operator.LessOrEqual => left <= right,
        Operator.Greater => left > right,
        Operator.GreaterOrEqual => left >= right,
        _ => false,
    };

    private static bool Order(Operator op, int comparison) => op switch
    {
        Operator.Equal => comparison == 0,
        Operator.NotEqual => comparison != 0,
        Operator.Less => comparison < 0,
        Operator.LessOrEqual => comparison <= 0,
        Operator.Greater => comparison > 0,
        Operator.GreaterOrEqual => comparison >= 0,
        _ => false,
    };

    public static TraceQLValue FromAnyValue(AnyValue value) => value.Type switch
    {
        AnyValueType.String => new TraceQLValue(TraceQLType.String, 0, value.AsString),
        AnyValueType.Int => TraceQLValue.FromInt(value.AsInt),
        AnyValueType.Double => TraceQLValue.FromFloat(value.AsDouble),
        AnyValueType.Bool => TraceQLValue.FromBool(value.AsBool),
        AnyValueType.Array => new TraceQLValue(TraceQLType.Array, 0, value.AsArray),
        AnyValueType.Empty => TraceQLValue.Nil,
        _ => TraceQLValue.FromString(value.ToString()),
    };

    private static bool TryFind(KeyValue[] attributes, string key, out TraceQLValue value)
    {
        foreach (var kv in attributes)
        {
            if (string.Equals(kv.Key, key, StringComparison.Ordinal))
            {
                value = FromAnyValue(kv.Value);
                return true;
            }
        }

        value = TraceQLValue.Nil;
        return false;
    }

    private sealed class Constant(TraceQLValue value) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) => value;
    }

    private sealed class AttributeField(AttributeScope scope, string key, bool parent) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context)
        {
            var node = parent ? context.Node.Parent : context.Node;
            if (node is null)
            {
                return TraceQLValue.Nil;
            }

            var span = node.Span;
            TraceQLValue value;
            switch (scope)
            {
                case AttributeScope.Span:
                    return TryFind(span.Attributes, key, out value) ? value : TraceQLValue.Nil;
                case AttributeScope.Resource:
                    return Resource(span, out value) ? value : TraceQLValue.Nil;
                case AttributeScope.Event:
                    return context.Event >= 0 && TryFind(span.Events[context.Event].Attributes, key, out value) ? value : TraceQLValue.Nil;
                case AttributeScope.Link:
                    return context.Link >= 0 && TryFind(span.Links[context.Link].Attributes, key, out value) ? value : TraceQLValue.Nil;
                case AttributeScope.Instrumentation:
                    return TryFind(span.Scope.Attributes, key, out value) ? value : TraceQLValue.Nil;
                default:
                    return TryFind(span.Attributes, key, out value) || Resource(span, out value) ? value : TraceQLValue.Nil;
            }
        }

        private bool Resource(Span span, out TraceQLValue value)
        {
            if (TryFind(span.Resource.Attributes, key, out value))
            {
                return true;
            }

            // The service name is kept on the resource even when a receiver did not copy it into the attributes.
            if (key == "service.name")
            {
                value = new TraceQLValue(TraceQLType.String, 0, span.ServiceName);
                return true;
            }

            return false;
        }
    }

    private sealed class IntrinsicField(Intrinsic intrinsic) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context)
        {
            var span = context.Node.Span;
            switch (intrinsic)
            {
                case Intrinsic.Name:
                    return new TraceQLValue(TraceQLType.String, 0, span.Name);
                case Intrinsic.Status:
                    return TraceQLValue.FromStatus(span.StatusCode);
                case Intrinsic.StatusMessage:
                    return new TraceQLValue(TraceQLType.String, 0, span.StatusMessage);
                case Intrinsic.Kind:
                    return TraceQLValue.FromKind(span.Kind);
                case Intrinsic.Duration:
                    return TraceQLValue.FromDuration(span.DurationNanos);
                case Intrinsic.ChildCount:
                    return TraceQLValue.FromInt(context.Node.Children.Count);
                case Intrinsic.SpanId:
                    return TraceQLValue.FromString(span.SpanId.ToHex());
                case Intrinsic.ParentId:
                    return span.ParentSpanId.IsEmpty ? TraceQLValue.Nil : TraceQLValue.FromString(span.ParentSpanId.ToHex());
                case Intrinsic.TraceId:
                    return new TraceQLValue(TraceQLType.String, 0, context.Trace.TraceIdHex);
                case Intrinsic.TraceRootName:
                    return context.Trace.RootSpan is { } root ? new TraceQLValue(TraceQLType.String, 0, root.Name) : TraceQLValue.Nil;
                case Intrinsic.TraceRootService:
                    return context.Trace.RootSpan is { } rootSpan ? new TraceQLValue(TraceQLType.String, 0, rootSpan.ServiceName) : TraceQLValue.Nil;
                case Intrinsic.TraceDuration:
                    return TraceQLValue.FromDuration(context.Trace.Tree.DurationNanos);
                case Intrinsic.EventName:
                    return context.Event >= 0 ? new TraceQLValue(TraceQLType.String, 0, span.Events[context.Event].Name) : TraceQLValue.Nil;
                case Intrinsic.EventTimeSinceStart:
                    return context.Event >= 0 ? TraceQLValue.FromDuration(span.Events[context.Event].TimeUnixNano - span.StartTimeUnixNano) : TraceQLValue.Nil;
                case Intrinsic.LinkTraceId:
                    return context.Link >= 0 ? TraceQLValue.FromString(span.Links[context.Link].TraceId.ToHex()) : TraceQLValue.Nil;
                case Intrinsic.LinkSpanId:
                    return context.Link >= 0 ? TraceQLValue.FromString(span.Links[context.Link].SpanId.ToHex()) : TraceQLValue.Nil;
                case Intrinsic.InstrumentationName:
                    return new TraceQLValue(TraceQLType.String, 0, span.Scope.Name);
                default:
                    return new TraceQLValue(TraceQLType.String, 0, span.Scope.Version);
            }
        }
    }

    private sealed class Not(SpanFieldEvaluator operand) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) => TraceQLValue.FromBool(!IsTrue(operand.Evaluate(ref context)));
    }

    private sealed class Exists(SpanFieldEvaluator operand, bool present) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) => TraceQLValue.FromBool(operand.Evaluate(ref context).IsNil != present);
    }

    private sealed class Logical(SpanFieldEvaluator left, SpanFieldEvaluator right, bool and) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) => TraceQLValue.FromBool(and
            ? IsTrue(left.Evaluate(ref context)) && IsTrue(right.Evaluate(ref context))
            : IsTrue(left.Evaluate(ref context)) || IsTrue(right.Evaluate(ref context)));
    }

    private sealed class Comparison(Operator op, SpanFieldEvaluator left, SpanFieldEvaluator right) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) =>
            TraceQLValue.FromBool(Compare(op, left.Evaluate(ref context), right.Evaluate(ref context)));
    }

    private sealed class RegexMatch(SpanFieldEvaluator operand, Regex regex, bool match) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context)
        {
            var value = operand.Evaluate(ref context);
            switch (value.Type)
            {
                case TraceQLType.Nil:
                    return TraceQLValue.False;
                case TraceQLType.Array:
                    var any = false;
                    foreach (var element in (AnyValue[])value.Ref!)
                    {
                        any |= regex.IsMatch(element.ToString());
                    }

                    return TraceQLValue.FromBool(any == match);
                default:
                    // Non-text values match by their text: =~ "5.." matches an int 503.
                    return TraceQLValue.FromBool(regex.IsMatch(value.Type == TraceQLType.String ? value.AsString : value.ToString()) == match);
            }
        }
    }

    private sealed class Arithmetic(Operator op, SpanFieldEvaluator left, SpanFieldEvaluator right) : SpanFieldEvaluator
    {
        public override TraceQLValue Evaluate(ref SpanContext context) => Apply(op, left.Evaluate(ref context), right.Evaluate(ref context));
    }

    /// <summary>TraceQL arithmetic: ints stay ints (1 / 2 is 0), a duration makes the result a duration, anything else is a float.</summary>
    public static TraceQLValue Apply(Operator op, TraceQLValue left, TraceQLValue right)
    {
        if (!left.IsNumeric || !right.IsNumeric)
        {
            return TraceQLValue.Nil;
        }

        if (left.Type == TraceQLType.Int && right.Type == TraceQLType.Int)
        {
            var (a, b) = (left.AsInt, right.AsInt);
            return op switch
            {
                Operator.Add => TraceQLValue.FromInt(a + b),
                Operator.Sub => TraceQLValue.FromInt(a - b),
                Operator.Mul => TraceQLValue.FromInt(a * b),
                Operator.Div => b == 0 ? TraceQLValue.Nil : TraceQLValue.FromInt(a / b),
                Operator.Mod => b == 0 ? TraceQLValue.Nil : TraceQLValue.FromInt(a % b),
                _ => TraceQLValue.FromFloat(Math.Pow(a, b)),
            };
        }

        var result = ApplyToFloats(op, left.AsNumber, right.AsNumber);
        if (double.IsNaN(result) || double.IsInfinity(result))
        {
            return TraceQLValue.Nil;
        }

        return left.Type == TraceQLType.Duration || right.Type == TraceQLType.Duration
            ? TraceQLValue.FromDuration((long)result)
            : TraceQLValue.FromFloat(result);
    }

    /// <summary>Arithmetic on two floats (NaN and infinities included): the part of <see cref="Apply"/> past its int rule.</summary>
    internal static double ApplyToFloats(Operator op, double x, double y) => op switch
    {
        Operator.Add => x + y,
        Operator.Sub => x - y,
        Operator.Mul => x * y,
        Operator.Div => x / y,
        Operator.Mod => x % y,
        _ => Math.Pow(x, y),
    };
}
