using System.Diagnostics;

namespace Ariadne.Search;

/// <summary>Field expressions inside a spanset filter: arithmetic, comparisons and their types, checked while parsing so a type error names its position.</summary>
public sealed partial class SearchParser
{
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

    /// <summary>The comparison a token writes (=, !=, &lt;, &lt;=, &gt;, &gt;=), or null when it is no comparison.</summary>
    private static Operator? ComparisonOp(TokenType type) => type switch
    {
        TokenType.Equal => Operator.Equal,
        TokenType.NotEqual => Operator.NotEqual,
        TokenType.Less => Operator.Less,
        TokenType.LessOrEqual => Operator.LessOrEqual,
        TokenType.Greater => Operator.Greater,
        TokenType.GreaterOrEqual => Operator.GreaterOrEqual,
        _ => null,
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
        // Combine hands over the tokens of FieldPrecedence's comparison level that are not =~ or !~.
        var op = ComparisonOp(opToken.Type) ?? throw new UnreachableException($"{opToken.Type} is not a comparison");
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
}
