using System.Text;
using System.Text.Json;

namespace Ariadne.Ui;

/// <summary>
/// The <c>tags</c> parameter of <c>/search</c>: Jaeger UI writes a JSON object (<c>{"error":"true"}</c>), people type
/// logfmt (<c>error=true http.status_code=500 msg="card declined"</c>). Both are read; links are written as logfmt.
/// </summary>
public static class TagText
{
    public static bool TryParse(string? text, out Dictionary<string, string> tags, out string? error)
    {
        tags = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        text = text.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    tags[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }

                return true;
            }
            catch (JsonException)
            {
                error = "Tags in JSON form must be an object of strings, such as {\"error\":\"true\"}.";
                return false;
            }
        }

        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                break;
            }

            var equals = text.IndexOf('=', i);
            if (equals <= i)
            {
                error = $"'{text[i..]}' is not a key=value pair. Write tags as key=value, separated by spaces; quote values with spaces.";
                return false;
            }

            var key = text[i..equals];
            if (key.Any(char.IsWhiteSpace))
            {
                error = $"'{key}' is not a key=value pair. Write tags as key=value, separated by spaces; quote values with spaces.";
                return false;
            }

            i = equals + 1;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '"')
            {
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    value.Append(text[i++]);
                }

                if (i >= text.Length)
                {
                    error = $"The value of '{key}' has no closing quote.";
                    return false;
                }

                i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    value.Append(text[i++]);
                }
            }

            tags[key] = value.ToString();
        }

        return true;
    }

    public static string Format(IReadOnlyDictionary<string, string> tags) => string.Join(' ', tags.Select(t =>
        t.Value.Length == 0 || t.Value.Any(c => char.IsWhiteSpace(c) || c == '"')
            ? $"{t.Key}=\"{t.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\""
            : $"{t.Key}={t.Value}"));
}
