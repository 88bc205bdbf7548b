using System.Globalization;
using System.Text;
using Ariadne.Analysis;

namespace Ariadne.Search;

/// <summary>
/// Parses Ariadne's search language (docs/search.md), a small TraceQL-like language:
/// <code>
/// query      := or
/// or         := and ( "||" and )*
/// and        := structural ( "&amp;&amp;" structural )*
/// structural := spanset ( ( "&gt;" | "&gt;&gt;" ) spanset )*
/// spanset    := "{" [ condition ] "}" | "(" query ")"
/// condition  := cor ;  cor := cand ( "||" cand )* ;  cand := unary ( "&amp;&amp;" unary )*
/// unary      := "!" unary | "(" condition ")" | "true" | field op value
/// </code>
/// Errors carry the 0-based position and say what was expected there.
/// </summary>
public sealed class SearchParser
{
    private static readonly string[] s_intrinsics = ["service", "name", "status", "kind", "duration"];

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _index;

    private SearchParser(string text)
    {
        _text = text;
        _tokens = Lex(text);
    }

    private Token Current => _tokens[_index];

    public static SpansetExpression Parse(string text)
    {
        var parser = new SearchParser(text);
        if (parser.Current.Type == TokenType.End)
        {
            throw new SearchSyntaxException(0, "At 0: the query is empty; write a span filter such as { service = \"orders\" && status = error }.");
        }

        var result = parser.ParseOr();
        if (parser.Current.Type != TokenType.End)
        {
            throw parser.Expected("'&&', '||', '>' or '>>' between span filters, or the end of the query");
        }

        return result;
    }

    public static bool IsIntrinsicName(string name) => s_intrinsics.Contains(name);

    public static string OperatorText(CompareOp op) => op switch
    {
        CompareOp.Equal => "=",
        CompareOp.NotEqual => "!=",
        CompareOp.Matches => "=~",
        CompareOp.NotMatches => "!~",
        CompareOp.Greater => ">",
        CompareOp.GreaterOrEqual => ">=",
        CompareOp.Less => "<",
        _ => "<=",
    };

    private SpansetExpression ParseOr()
    {
        var left = ParseAnd();
        while (Accept(TokenType.Or))
        {
            left = new SpansetLogical(left, false, ParseAnd());
        }

        return left;
    }

    private SpansetExpression ParseAnd()
    {
        var left = ParseStructural();
        while (Accept(TokenType.And))
        {
            left = new SpansetLogical(left, true, ParseStructural());
        }

        return left;
    }

    private SpansetExpression ParseStructural()
    {
        var left = ParseSpanset();
        while (Current.Type is TokenType.Greater or TokenType.Descendant)
        {
            var op = Current.Type == TokenType.Greater ? StructuralOp.Child : StructuralOp.Descendant;
            _index++;
            left = new StructuralExpression(left, op, ParseSpanset());
        }

        return left;
    }

    private SpansetExpression ParseSpanset()
    {
        if (Accept(TokenType.LeftParen))
        {
            var inner = ParseOr();
            Require(TokenType.RightParen, "')' to close the '(' of span filters");
            return inner;
        }

        if (!Accept(TokenType.LeftBrace))
        {
            throw Expected("a span filter in braces, such as { service = \"orders\" }");
        }

        if (Accept(TokenType.RightBrace))
        {
            return new SpanFilter(new AnySpan());
        }

        var condition = ParseConditionOr();
        Require(TokenType.RightBrace, "'&&', '||' or '}' to close the span filter");
        return new SpanFilter(condition);
    }

    private SpanCondition ParseConditionOr()
    {
        var left = ParseConditionAnd();
        while (Accept(TokenType.Or))
        {
            left = new OrCondition(left, ParseConditionAnd());
        }

        return left;
    }

    private SpanCondition ParseConditionAnd()
    {
        var left = ParseUnary();
        while (Accept(TokenType.And))
        {
            left = new AndCondition(left, ParseUnary());
        }

        return left;
    }

    private SpanCondition ParseUnary()
    {
        if (Accept(TokenType.Not))
        {
            return new NotCondition(ParseUnary());
        }

        if (Accept(TokenType.LeftParen))
        {
            var inner = ParseConditionOr();
            Require(TokenType.RightParen, "')' to close the '('");
            return inner;
        }

        if (Current.Type == TokenType.Identifier && Current.Text == "true")
        {
            _index++;
            return new AnySpan();
        }

        if (Current.Type != TokenType.Identifier)
        {
            throw Expected("a field such as service, name, status, kind, duration or an attribute such as http.status_code");
        }

        var fieldToken = Current;
        var field = ToField(fieldToken.Text);
        _index++;
        var opToken = Current;
        var op = opToken.Type switch
        {
            TokenType.Equal => CompareOp.Equal,
            TokenType.NotEqual => CompareOp.NotEqual,
            TokenType.Match => CompareOp.Matches,
            TokenType.NotMatch => CompareOp.NotMatches,
            TokenType.Greater => CompareOp.Greater,
            TokenType.GreaterOrEqual => CompareOp.GreaterOrEqual,
            TokenType.Less => CompareOp.Less,
            TokenType.LessOrEqual => CompareOp.LessOrEqual,
            _ => throw Expected($"an operator (=, !=, =~, !~, >, >=, <, <=) after '{fieldToken.Text}'"),
        };
        _index++;
        var valueToken = Current;
        var value = ToLiteral(valueToken, field);
        _index++;
        Check(field, op, value, opToken, valueToken);
        return new Comparison(field, op, value);
    }

    private static Field ToField(string text) => text switch
    {
        "service" or "resource.service.name" => new Field(FieldKind.Service),
        "name" => new Field(FieldKind.Name),
        "status" => new Field(FieldKind.Status),
        "kind" => new Field(FieldKind.Kind),
        "duration" => new Field(FieldKind.Duration),
        _ when text.StartsWith("span.", StringComparison.Ordinal) && text.Length > 5 => new Field(FieldKind.Attribute, AttributeScope.Span, text[5..]),
        _ when text.StartsWith("resource.", StringComparison.Ordinal) && text.Length > 9 => new Field(FieldKind.Attribute, AttributeScope.Resource, text[9..]),
        _ when text.StartsWith('.') => new Field(FieldKind.Attribute, AttributeScope.Any, text[1..]),
        _ => new Field(FieldKind.Attribute, AttributeScope.Any, text),
    };

    private Literal ToLiteral(Token token, Field field)
    {
        switch (token.Type)
        {
            case TokenType.String:
                return new Literal(LiteralKind.String, token.Text);
            case TokenType.Number:
                if (long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return new Literal(LiteralKind.Integer, token.Text, integer);
                }

                if (double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    return new Literal(LiteralKind.Double, token.Text, number);
                }

                if (DurationText.TryParse(token.Text, out var duration))
                {
                    return new Literal(LiteralKind.Duration, token.Text, Nanos: duration.Ticks * 100);
                }

                throw new SearchSyntaxException(token.Position, $"At {token.Position}: '{token.Text}' is neither a number nor a duration (write 500, 0.5, 250ms or 1.5s).");
            case TokenType.Identifier when token.Text is "true" or "false":
                return new Literal(LiteralKind.Bool, token.Text, Bool: token.Text == "true");
            case TokenType.Identifier when field.Kind is FieldKind.Status or FieldKind.Kind:
                return new Literal(LiteralKind.Keyword, token.Text);
            case TokenType.Identifier:
                throw new SearchSyntaxException(token.Position, $"At {token.Position}: expected a value, found the bare word '{token.Text}'; quote text values: \"{token.Text}\".");
            default:
                throw Expected($"a value after the operator: a quoted string, a number, a duration such as 250ms, or true/false");
        }
    }

    private static void Check(Field field, CompareOp op, Literal value, Token opToken, Token valueToken)
    {
        var isRegex = op is CompareOp.Matches or CompareOp.NotMatches;
        var isOrdering = op is CompareOp.Greater or CompareOp.GreaterOrEqual or CompareOp.Less or CompareOp.LessOrEqual;
        string? problem = null;
        var at = valueToken.Position;
        switch (field.Kind)
        {
            case FieldKind.Service or FieldKind.Name when value.Kind != LiteralKind.String:
                problem = $"{field} takes a quoted string, such as {field} = \"{valueToken.Text}\"";
                break;
            case FieldKind.Service or FieldKind.Name when isOrdering:
                (problem, at) = ($"{field} can be compared with =, !=, =~ or !~", opToken.Position);
                break;
            case FieldKind.Status when isRegex || isOrdering:
            case FieldKind.Kind when isRegex || isOrdering:
                (problem, at) = ($"{field} can be compared with = or !=", opToken.Position);
                break;
            case FieldKind.Status when ParseStatus(value) is null:
                problem = "status is error, ok or unset";
                break;
            case FieldKind.Kind when ParseKind(value.Text) is null || value.Kind is not (LiteralKind.Keyword or LiteralKind.String):
                problem = "kind is server, client, producer, consumer, internal or unspecified";
                break;
            case FieldKind.Duration when value.Kind != LiteralKind.Duration:
                problem = "duration takes a duration with a unit, such as 250ms, 1.5s or 2m";
                break;
            case FieldKind.Duration when isRegex:
                (problem, at) = ("duration is compared with =, !=, >, >=, < or <=", opToken.Position);
                break;
            case FieldKind.Attribute when isRegex && value.Kind != LiteralKind.String:
                problem = "a regular expression is a quoted string, such as =~ \"5..\"";
                break;
            case FieldKind.Attribute when isOrdering && value.Kind is not (LiteralKind.Integer or LiteralKind.Double or LiteralKind.Duration):
                problem = $"{OperatorText(op)} compares numbers: write a number, such as {field} {OperatorText(op)} 500";
                break;
        }

        if (problem is null && isRegex)
        {
            try
            {
                _ = SpanConditionEvaluator.CompileRegex(value.Text);
            }
            catch (ArgumentException e)
            {
                problem = $"the regular expression does not parse: {e.Message}";
            }
        }

        if (problem is not null)
        {
            throw new SearchSyntaxException(at, $"At {at}: {problem}.");
        }
    }

    /// <summary>The span kind a name (any case) stands for, or null.</summary>
    public static Model.SpanKind? ParseKind(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower == "unspecified" ? Model.SpanKind.Unspecified : Model.SpanMatcher.ParseSpanKindName(lower);
    }

    /// <summary>The status a literal names, or null.</summary>
    public static Model.StatusCode? ParseStatus(Literal value) => value.Kind is LiteralKind.Keyword or LiteralKind.String
        ? value.Text.ToLowerInvariant() switch
        {
            "error" => Model.StatusCode.Error,
            "ok" => Model.StatusCode.Ok,
            "unset" => Model.StatusCode.Unset,
            _ => null,
        }
        : null;

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

    private SearchSyntaxException Expected(string expected)
    {
        var found = Current.Type == TokenType.End ? "the end of the query" : $"'{_text.Substring(Current.Position, Current.Length)}'";
        return new SearchSyntaxException(Current.Position, $"At {Current.Position}: expected {expected}, found {found}.");
    }

    private enum TokenType
    {
        LeftBrace,
        RightBrace,
        LeftParen,
        RightParen,
        And,
        Or,
        Not,
        Equal,
        NotEqual,
        Match,
        NotMatch,
        Greater,
        GreaterOrEqual,
        Less,
        LessOrEqual,
        Descendant,
        String,
        Number,
        Identifier,
        End,
    }

    private readonly record struct Token(TokenType Type, int Position, int Length, string Text);

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenType.End, text.Length, 0, string.Empty));
                return tokens;
            }

            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            (TokenType Type, int Length)? symbol = (c, next) switch
            {
                ('{', _) => (TokenType.LeftBrace, 1),
                ('}', _) => (TokenType.RightBrace, 1),
                ('(', _) => (TokenType.LeftParen, 1),
                (')', _) => (TokenType.RightParen, 1),
                ('&', '&') => (TokenType.And, 2),
                ('|', '|') => (TokenType.Or, 2),
                ('!', '=') => (TokenType.NotEqual, 2),
                ('!', '~') => (TokenType.NotMatch, 2),
                ('!', _) => (TokenType.Not, 1),
                ('=', '~') => (TokenType.Match, 2),
                ('=', '=') => (TokenType.Equal, 2),
                ('=', _) => (TokenType.Equal, 1),
                ('>', '>') => (TokenType.Descendant, 2),
                ('>', '=') => (TokenType.GreaterOrEqual, 2),
                ('>', _) => (TokenType.Greater, 1),
                ('<', '=') => (TokenType.LessOrEqual, 2),
                ('<', _) => (TokenType.Less, 1),
                _ => null,
            };
            if (symbol is { } s)
            {
                tokens.Add(new Token(s.Type, i, s.Length, text.Substring(i, s.Length)));
                i += s.Length;
                continue;
            }

            var start = i;
            if (c is '"' or '\'')
            {
                tokens.Add(new Token(TokenType.String, start, 0, ReadString(text, ref i)) with { Length = i - start });
            }
            else if (char.IsAsciiDigit(c) || (c is '-' or '+' && char.IsAsciiDigit(next)))
            {
                i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or 'µ' or 'μ'
                    || (text[i] is '-' or '+' && text[i - 1] is 'e' or 'E')))
                {
                    i++;
                }

                tokens.Add(new Token(TokenType.Number, start, i - start, text[start..i]));
            }
            else if (IsIdentifierStart(c))
            {
                i++;
                while (i < text.Length && IsIdentifierPart(text[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenType.Identifier, start, i - start, text[start..i]));
            }
            else
            {
                throw new SearchSyntaxException(i, $"At {i}: '{c}' is not part of the search language; quote it inside a string if it is part of a value.");
            }
        }
    }

    private static string ReadString(string text, ref int i)
    {
        var quote = text[i];
        var start = i;
        var sb = new StringBuilder();
        i++;
        while (i < text.Length && text[i] != quote)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
                // Unknown escapes keep their backslash, so regexes read as written: "5\d\d" is 5\d\d.
                sb.Append(text[i] switch
                {
                    'n' => "\n",
                    't' => "\t",
                    '"' or '\'' or '\\' => text[i].ToString(),
                    var other => "\\" + other,
                });
            }
            else
            {
                sb.Append(text[i]);
            }

            i++;
        }

        if (i >= text.Length)
        {
            throw new SearchSyntaxException(start, $"At {start}: the string is not closed: add a {quote} at its end.");
        }

        i++;
        return sb.ToString();
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c is '_' or '.' or '@';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/' or ':' or '@';
}
