using System.Globalization;
using System.Text;

namespace Ariadne.Storage.ClickHouse;

/// <summary>Literals and TabSeparated parsing. 18.16 has no query parameters, so every value is an escaped literal.</summary>
public static class ClickHouseSql
{
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\'':
                    builder.Append(@"\'");
                    break;
                case '\0':
                    builder.Append(@"\0");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.Append('\'').ToString();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A FixedString(16) literal of a trace id: its 16 big-endian bytes as \xNN escapes.</summary>
    public static string TraceId(Model.TraceId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.WriteBytes(bytes);
        var builder = new StringBuilder(66).Append('\'');
        foreach (var b in bytes)
        {
            builder.Append(@"\x").Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return builder.Append('\'').ToString();
    }

    public static string List(IEnumerable<string> values) => string.Join(", ", values.Select(Quote));

    public static IReadOnlyList<string[]> ParseTabSeparated(string text)
    {
        var rows = new List<string[]>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            rows.Add(line.Split('\t').Select(Unescape).ToArray());
        }

        return rows;
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            var c = field[i];
            if (c != '\\' || i + 1 == field.Length)
            {
                builder.Append(c);
                continue;
            }

            var next = field[++i];
            builder.Append(next switch
            {
                't' => '\t',
                'n' => '\n',
                'r' => '\r',
                '0' => '\0',
                'b' => '\b',
                'f' => '\f',
                _ => next,
            });
        }

        return builder.ToString();
    }
}
