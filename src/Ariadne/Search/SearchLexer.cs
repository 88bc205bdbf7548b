using System.Globalization;
using System.Text;
using Ariadne.GoCompat;

namespace Ariadne.Search;

internal enum TokenType
{
    LeftBrace,
    RightBrace,
    LeftParen,
    RightParen,
    Comma,
    Pipe,
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
    Ancestor,
    Sibling,
    NotChild,
    NotParent,
    NotDescendant,
    NotAncestor,
    UnionChild,
    UnionParent,
    UnionDescendant,
    UnionAncestor,
    UnionSibling,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    String,
    Integer,
    Float,
    Duration,

    /// <summary>An attribute: <c>.key</c>, <c>span.key</c>, <c>resource."a b"</c>, <c>parent.span.key</c>; see <see cref="Token.Scope"/>.</summary>
    Attribute,

    /// <summary>A scoped intrinsic: <c>span:name</c>, <c>trace:duration</c>; <see cref="Token.Text"/> is the whole word.</summary>
    ScopedIntrinsic,

    /// <summary>A keyword or a bare word (<c>name</c>, <c>error</c>, <c>count</c>, <c>http.status_code</c>).</summary>
    Word,
    End,
}

/// <param name="Text">A string's value, an attribute's key, or the source text of anything else.</param>
internal readonly record struct Token(TokenType Type, int Position, int Length, string Text, AttributeScope Scope = AttributeScope.None, bool Parent = false, long Integer = 0, double Float = 0);

/// <summary>
/// TraceQL's tokens (grafana/tempo pkg/traceql/lexer.go): attributes after a scope run to the next space or one of
/// <c>{}()=~!&lt;&gt;&amp;|^,</c>; numbers directly followed by a unit are durations; strings are Go strings
/// (double quotes or backticks). Ariadne also takes single-quoted strings, keeps unknown escapes so regexes read as
/// written (<c>"5\d\d"</c>), and bare dotted words (<c>http.status_code</c>), which TraceQL rejects.
/// </summary>
internal static class SearchLexer
{
    private static readonly (string Text, TokenType Type)[] s_symbols =
    [
        ("&>>", TokenType.UnionDescendant), ("&<<", TokenType.UnionAncestor), ("!>>", TokenType.NotDescendant), ("!<<", TokenType.NotAncestor),
        ("&&", TokenType.And), ("||", TokenType.Or), ("!=", TokenType.NotEqual), ("!~", TokenType.NotMatch), ("=~", TokenType.Match),
        (">>", TokenType.Descendant), ("<<", TokenType.Ancestor), (">=", TokenType.GreaterOrEqual), ("<=", TokenType.LessOrEqual),
        ("!>", TokenType.NotChild), ("!<", TokenType.NotParent), ("&>", TokenType.UnionChild), ("&<", TokenType.UnionParent), ("&~", TokenType.UnionSibling),
        ("{", TokenType.LeftBrace), ("}", TokenType.RightBrace), ("(", TokenType.LeftParen), (")", TokenType.RightParen), (",", TokenType.Comma),
        ("|", TokenType.Pipe), ("!", TokenType.Not), ("=", TokenType.Equal), (">", TokenType.Greater), ("<", TokenType.Less), ("~", TokenType.Sibling),
        ("+", TokenType.Add), ("-", TokenType.Sub), ("*", TokenType.Mul), ("/", TokenType.Div), ("%", TokenType.Mod), ("^", TokenType.Pow),
    ];

    private static readonly (string Prefix, AttributeScope Scope)[] s_scopes =
    [
        ("span.", AttributeScope.Span), ("resource.", AttributeScope.Resource), ("event.", AttributeScope.Event),
        ("link.", AttributeScope.Link), ("instrumentation.", AttributeScope.Instrumentation),
    ];

    public static List<Token> Lex(string text)
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

            var start = i;
            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            if (c is '"' or '\'' or '`')
            {
                var value = ReadString(text, ref i);
                tokens.Add(new Token(TokenType.String, start, i - start, value));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(next)))
            {
                tokens.Add(ReadNumber(text, ref i));
            }
            else if (c == '.')
            {
                i++;
                var key = ReadAttributeName(text, ref i, start);
                tokens.Add(new Token(TokenType.Attribute, start, i - start, key, AttributeScope.None));
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                tokens.Add(ReadWord(text, ref i));
            }
            else if (c == '=' && next == '=')
            {
                throw SearchSyntaxException.At(text, i, "'==' is not a TraceQL operator; write = for equality.");
            }
            else if (Symbol(text, i) is { } symbol)
            {
                tokens.Add(new Token(symbol.Type, i, symbol.Text.Length, symbol.Text));
                i += symbol.Text.Length;
            }
            else
            {
                throw SearchSyntaxException.At(text, i, $"'{c}' is not part of TraceQL; quote it inside a string if it is part of a value.");
            }
        }
    }

    /// <summary>An attribute key as TraceQL source: quoted when it holds a character that would end it.</summary>
    public static string AttributeNameText(string name) =>
        name.Length > 0 && name.All(IsAttributeRune) && !char.IsAsciiDigit(name[0]) ? name : TraceQLValue.Quote(name);

    private static (string Text, TokenType Type)? Symbol(string text, int i)
    {
        foreach (var symbol in s_symbols)
        {
            if (string.CompareOrdinal(text, i, symbol.Text, 0, symbol.Text.Length) == 0)
            {
                return symbol;
            }
        }

        return null;
    }

    private static Token ReadWord(string text, ref int i)
    {
        var start = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
        {
            i++;
        }

        var word = text[start..i];
        if (i < text.Length && text[i] == ':' && word is "span" or "trace" or "event" or "link" or "instrumentation")
        {
            i++;
            var nameStart = i;
            while (i < text.Length && char.IsAsciiLetterOrDigit(text[i]))
            {
                i++;
            }

            if (i == nameStart)
            {
                throw SearchSyntaxException.At(text, i, $"expected an intrinsic after '{word}:', such as {word}:{(word == "trace" ? "duration" : "name")}.");
            }

            return new Token(TokenType.ScopedIntrinsic, start, i - start, text[start..i]);
        }

        if (i < text.Length && text[i] == '.')
        {
            var parent = false;
            var scope = AttributeScope.None;
            var at = start;
            if (word == "parent")
            {
                parent = true;
                at = i + 1;
            }

            foreach (var (prefix, s) in s_scopes)
            {
                if (string.CompareOrdinal(text, at, prefix, 0, prefix.Length) == 0)
                {
                    scope = s;
                    at += prefix.Length;
                    break;
                }
            }

            if (parent || scope != AttributeScope.None)
            {
                if (parent && scope is not (AttributeScope.None or AttributeScope.Span or AttributeScope.Resource))
                {
                    throw SearchSyntaxException.At(text, start, "parent. takes a span or resource attribute: parent.span.key, parent.resource.key or parent.key.");
                }

                i = at;
                var key = ReadAttributeName(text, ref i, start);
                return new Token(TokenType.Attribute, start, i - start, key, scope, parent);
            }

            // A bare dotted word (http.status_code): Ariadne's shorthand for the unscoped attribute .http.status_code.
            i = start;
            var bare = ReadAttributeName(text, ref i, start);
            return new Token(TokenType.Word, start, i - start, bare);
        }

        return new Token(TokenType.Word, start, i - start, word);
    }

    private static string ReadAttributeName(string text, ref int i, int start)
    {
        var sb = new StringBuilder();
        while (i < text.Length)
        {
            if (text[i] == '"')
            {
                var quoteStart = i;
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw SearchSyntaxException.At(text, quoteStart, "the quoted attribute name is not closed: add a \" at its end.");
                    }

                    if (text[i] == '"')
                    {
                        i++;
                        break;
                    }

                    if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                    {
                        i++;
                    }
                    else if (text[i] == '\\')
                    {
                        throw SearchSyntaxException.At(text, i, "only \\\" and \\\\ are escapes in a quoted attribute name.");
                    }

                    sb.Append(text[i]);
                    i++;
                }
            }
            else if (IsAttributeRune(text[i]))
            {
                sb.Append(text[i]);
                i++;
            }
            else
            {
                break;
            }
        }

        if (sb.Length == 0)
        {
            throw SearchSyntaxException.At(text, i, $"expected an attribute name after '{text[start..i]}', such as {text[start..i]}http.method.");
        }

        return sb.ToString();
    }

    private static bool IsAttributeRune(char c) =>
        !char.IsWhiteSpace(c) && c is not ('{' or '}' or '(' or ')' or '=' or '~' or '!' or '<' or '>' or '&' or '|' or '^' or ',' or '"');

    private static Token ReadNumber(string text, ref int i)
    {
        var start = i;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'
            || (text[i] is 'e' or 'E' && i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || (text[i + 1] is '+' or '-' && i + 2 < text.Length && char.IsAsciiDigit(text[i + 2]))))
            || (text[i] is '+' or '-' && text[i - 1] is 'e' or 'E')))
        {
            i++;
        }

        var numberEnd = i;

        // A number directly followed by a unit is a duration (1.5s, 250ms, 1h30m, 2d as in PromQL).
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or 'µ' or 'μ'))
        {
            i++;
        }

        var source = text[start..i];
        if (i > numberEnd)
        {
            if (TryParseDuration(source, out var nanos))
            {
                return new Token(TokenType.Duration, start, i - start, source, Integer: nanos);
            }

            throw SearchSyntaxException.At(text, start, $"'{source}' is neither a number nor a duration (write 500, 0.5, 250ms, 1.5s or 1h30m).");
        }

        if (long.TryParse(source, NumberStyles.None, CultureInfo.InvariantCulture, out var integer))
        {
            return new Token(TokenType.Integer, start, i - start, source, Integer: integer);
        }

        if (double.TryParse(source, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return new Token(TokenType.Float, start, i - start, source, Float: number);
        }

        throw SearchSyntaxException.At(text, start, $"'{source}' is not a number (write 500, 0.5 or 1e3).");
    }

    private static bool TryParseDuration(string source, out long nanos)
    {
        if (GoDuration.TryParse(source.Replace('μ', 'µ'), out nanos, out _))
        {
            return true;
        }

        // PromQL's day, week and year units, which Tempo also accepts (whole numbers only).
        var unit = source[^1];
        var perUnit = unit switch
        {
            'd' => 86_400_000_000_000L,
            'w' => 7 * 86_400_000_000_000L,
            'y' => 365 * 86_400_000_000_000L,
            _ => 0L,
        };
        if (perUnit > 0 && long.TryParse(source.AsSpan(0, source.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count <= long.MaxValue / perUnit)
        {
            nanos = count * perUnit;
            return true;
        }

        return false;
    }

    private static string ReadString(string text, ref int i)
    {
        var quote = text[i];
        var start = i;
        var sb = new StringBuilder();
        i++;
        while (i < text.Length && text[i] != quote)
        {
            if (text[i] == '\\' && quote != '`' && i + 1 < text.Length)
            {
                i++;
                // Unknown escapes keep their backslash, so regexes read as written: "5\d\d" is 5\d\d.
                sb.Append(text[i] switch
                {
                    'n' => "\n",
                    't' => "\t",
                    'r' => "\r",
                    '"' or '\'' or '\\' or '`' => text[i].ToString(),
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
            throw SearchSyntaxException.At(text, start, $"the string is not closed: add a {quote} at its end.");
        }

        i++;
        return sb.ToString();
    }
}
