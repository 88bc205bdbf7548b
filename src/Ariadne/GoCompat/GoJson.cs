using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ariadne.GoCompat;

/// <summary>
/// The parts of Go's encoding/json that show in Jaeger's answers: how float64 values are written, and the error texts
/// of json.Unmarshal into <c>map[string]string</c> (the <c>tags=</c> and <c>query.attributes=</c> parameters).
/// </summary>
internal static class GoJson
{
    private const string MapType = "map[string]string";

    /// <summary>
    /// A finite float64 as encoding/json writes it: shortest round-trip digits, exponent form outside [1e-6, 1e21).
    /// </summary>
    public static string FormatFloat(double value)
    {
        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }

        var (negative, digits, exponent) = ShortestDigits(value);
        var abs = Math.Abs(value);
        var sb = new StringBuilder(24);
        if (negative)
        {
            sb.Append('-');
        }

        if (abs < 1e-6 || abs >= 1e21)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            var e = exponent - 1;
            // Go writes at least two exponent digits, then encoding/json trims "e-07" to "e-7".
            sb.Append('e').Append(e < 0 ? '-' : '+');
            var magnitude = Math.Abs(e).ToString(CultureInfo.InvariantCulture);
            sb.Append(e >= 0 && magnitude.Length < 2 ? "0" + magnitude : magnitude);
            return sb.ToString();
        }

        if (exponent <= 0)
        {
            sb.Append("0.").Append('0', -exponent).Append(digits);
        }
        else if (exponent >= digits.Length)
        {
            sb.Append(digits).Append('0', exponent - digits.Length);
        }
        else
        {
            sb.Append(digits, 0, exponent).Append('.').Append(digits, exponent, digits.Length - exponent);
        }

        return sb.ToString();
    }

    /// <summary>
    /// A float64 property as Jaeger writes it. Go's encoding/json cannot write NaN or infinities (Jaeger then answers
    /// 500), so they are written as the strings proto3 JSON uses for them.
    /// </summary>
    public static void WriteDouble(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WritePropertyName(name);
            w.WriteRawValue(FormatFloat(value), skipInputValidation: true);
        }
        else
        {
            w.WriteString(name, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    /// <summary>json.Unmarshal(text, &amp;map[string]string) with Go's error texts; a JSON null gives an empty map.</summary>
    public static bool TryParseStringMap(string text, out Dictionary<string, string> map, out string error)
    {
        map = new Dictionary<string, string>(StringComparer.Ordinal);
        var scanner = new Scanner(text);
        if (!scanner.TryReadDocument(out var root, out error))
        {
            return false;
        }

        switch (root.Kind)
        {
            case "null":
                return true;
            case "object":
                string? typeError = null;
                foreach (var (key, value) in root.Members!)
                {
                    if (value.Kind == "string")
                    {
                        map[key] = value.Text!;
                    }
                    else if (value.Kind != "null")
                    {
                        typeError ??= $"json: cannot unmarshal {value.Kind} into Go struct field .{key} of type string";
                    }
                }

                error = typeError ?? string.Empty;
                return typeError is null;
            default:
                error = $"json: cannot unmarshal {root.Kind} into Go value of type {MapType}";
                return false;
        }
    }

    private static (bool Negative, string Digits, int Exponent) ShortestDigits(double value)
    {
        // "E16" would not be shortest; "R" is, in either fixed or exponent form, so normalise it to digits + exponent.
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = r[0] == '-';
        if (negative)
        {
            r = r[1..];
        }

        var exponent = 0;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }

        var point = r.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = point < 0 ? r.Length : point;
        var digits = r.Replace(".", string.Empty, StringComparison.Ordinal);
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        return (negative, digits, integerDigits - leadingZeros + exponent);
    }

    private sealed record Node(string Kind, string? Text = null, List<(string Key, Node Value)>? Members = null);

    /// <summary>A JSON reader that fails the way Go's encoding/json scanner does, with the same messages.</summary>
    private ref struct Scanner(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public bool TryReadDocument(out Node node, out string error)
        {
            node = null!;
            SkipSpace();
            if (!TryValue(out node, "looking for beginning of value", out error))
            {
                return false;
            }

            SkipSpace();
            if (_pos < _text.Length)
            {
                error = Invalid("after top-level value");
                return false;
            }

            return true;
        }

        private bool TryValue(out Node node, string context, out string error)
        {
            node = null!;
            if (_pos >= _text.Length)
            {
                error = "unexpected end of JSON input";
                return false;
            }

            switch (_text[_pos])
            {
                case '{':
                    _pos++;
                    return TryObject(out node, out error);
                case '[':
                    _pos++;
                    return TryArray(out node, out error);
                case '"':
                    _pos++;
                    var ok = TryString(out var s, out error);
                    node = new Node("string", s);
                    return ok;
                case 't':
                    node = new Node("bool");
                    return TryLiteral("true", out error);
                case 'f':
                    node = new Node("bool");
                    return TryLiteral("false", out error);
                case 'n':
                    node = new Node("null");
                    return TryLiteral("null", out error);
                case '-' or (>= '0' and <= '9'):
                    node = new Node("number");
                    return TryNumber(out error);
                default:
                    error = Invalid(context);
                    return false;
            }
        }

        private bool TryObject(out Node node, out string error)
        {
            var members = new List<(string, Node)>();
            node = new Node("object", Members: members);
            SkipSpace();
            if (_pos < _text.Length && _text[_pos] == '}')
            {
                _pos++;
                error = string.Empty;
                return true;
            }

            while (true)
            {
                SkipSpace();
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (_text[_pos] != '"')
                {
                    error = Invalid("looking for beginning of object key string");
                    return false;
                }

                _pos++;
                if (!TryString(out var key, out error))
                {
                    return false;
                }

                SkipSpace();
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (_text[_pos] != ':')
                {
                    error = Invalid("after object key");
                    return false;
                }

                _pos++;
                SkipSpace();
                if (!TryValue(out var value, "looking for beginning of value", out error))
                {
                    return false;
                }

                members.Add((key, value));
                SkipSpace();
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                var c = _text[_pos++];
                if (c == '}')
                {
                    return true;
                }

                if (c != ',')
                {
                    _pos--;
                    error = Invalid("after object key:value pair");
                    return false;
                }
            }
        }

        private bool TryArray(out Node node, out string error)
        {
            node = new Node("array");
            SkipSpace();
            if (_pos < _text.Length && _text[_pos] == ']')
            {
                _pos++;
                error = string.Empty;
                return true;
            }

            while (true)
            {
                SkipSpace();
                if (!TryValue(out _, "looking for beginning of value", out error))
                {
                    return false;
                }

                SkipSpace();
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                var c = _text[_pos++];
                if (c == ']')
                {
                    return true;
                }

                if (c != ',')
                {
                    _pos--;
                    error = Invalid("after array element");
                    return false;
                }
            }
        }

        private bool TryString(out string value, out string error)
        {
            var sb = new StringBuilder();
            value = string.Empty;
            while (_pos < _text.Length)
            {
                var c = _text[_pos];
                if (c == '"')
                {
                    _pos++;
                    value = sb.ToString();
                    error = string.Empty;
                    return true;
                }

                if (c < 0x20)
                {
                    error = Invalid("in string literal");
                    return false;
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    _pos++;
                    continue;
                }

                _pos++;
                if (_pos >= _text.Length)
                {
                    break;
                }

                var escape = _text[_pos];
                switch (escape)
                {
                    case '"' or '\\' or '/':
                        sb.Append(escape);
                        break;
                    case 'b':
                        sb.Append('\b');
                        break;
                    case 'f':
                        sb.Append('\f');
                        break;
                    case 'n':
                        sb.Append('\n');
                        break;
                    case 'r':
                        sb.Append('\r');
                        break;
                    case 't':
                        sb.Append('\t');
                        break;
                    case 'u':
                        for (var i = 1; i <= 4; i++)
                        {
                            if (_pos + i >= _text.Length)
                            {
                                error = "unexpected end of JSON input";
                                return false;
                            }

                            if (!char.IsAsciiHexDigit(_text[_pos + i]))
                            {
                                _pos += i;
                                error = Invalid("in \\u hexadecimal character escape");
                                return false;
                            }
                        }

                        sb.Append((char)int.Parse(_text.AsSpan(_pos + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                        _pos += 4;
                        break;
                    default:
                        error = Invalid("in string escape code");
                        return false;
                }

                _pos++;
            }

            error = "unexpected end of JSON input";
            return false;
        }

        private bool TryLiteral(string literal, out string error)
        {
            for (var i = 1; i < literal.Length; i++)
            {
                if (_pos + i >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (_text[_pos + i] != literal[i])
                {
                    _pos += i;
                    error = Invalid($"in literal {literal} (expecting '{literal[i]}')");
                    return false;
                }
            }

            _pos += literal.Length;
            error = string.Empty;
            return true;
        }

        private bool TryNumber(out string error)
        {
            error = string.Empty;
            if (_text[_pos] == '-')
            {
                _pos++;
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (!char.IsAsciiDigit(_text[_pos]))
                {
                    error = Invalid("in numeric literal");
                    return false;
                }
            }

            if (_text[_pos] == '0')
            {
                _pos++;
            }
            else
            {
                SkipDigits();
            }

            if (_pos < _text.Length && _text[_pos] == '.')
            {
                _pos++;
                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (!char.IsAsciiDigit(_text[_pos]))
                {
                    error = Invalid("after decimal point in numeric literal");
                    return false;
                }

                SkipDigits();
            }

            if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
            {
                _pos++;
                if (_pos < _text.Length && _text[_pos] is '+' or '-')
                {
                    _pos++;
                }

                if (_pos >= _text.Length)
                {
                    error = "unexpected end of JSON input";
                    return false;
                }

                if (!char.IsAsciiDigit(_text[_pos]))
                {
                    error = Invalid("in exponent of numeric literal");
                    return false;
                }

                SkipDigits();
            }

            return true;
        }

        private void SkipDigits()
        {
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\r' or '\n')
            {
                _pos++;
            }
        }

        private readonly string Invalid(string context)
        {
            var c = _text[_pos];
            var quoted = c switch
            {
                '\'' => "'\\''",
                '"' => "'\"'",
                _ => "'" + GoStrconv.Quote(char.IsHighSurrogate(c) && _pos + 1 < _text.Length && char.IsLowSurrogate(_text[_pos + 1])
                    ? _text.Substring(_pos, 2)
                    : c.ToString())[1..^1] + "'",
            };
            return $"invalid character {quoted} {context}";
        }
    }
}
