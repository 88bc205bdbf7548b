namespace Ariadne.Instrumentation.Data;

/// <summary>
/// The operation and the first table of a simple SQL statement, for span names and <c>db.operation.name</c> /
/// <c>db.collection.name</c>. Deliberately small: anything it does not recognise yields nulls, never a guess.
/// </summary>
internal static class SqlSummary
{
    public static (string? Operation, string? Collection) Parse(string? sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            return (null, null);
        }

        var words = sql.Split((char[])[' ', '\t', '\r', '\n', '(', ')', ','], 12, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return (null, null);
        }

        var operation = words[0].ToUpperInvariant();
        var tableAfter = operation switch
        {
            "SELECT" or "DELETE" => "FROM",
            "INSERT" or "REPLACE" => "INTO",
            "UPDATE" => null,
            "CREATE" or "DROP" or "ALTER" => "TABLE",
            _ => string.Empty,
        };
        if (tableAfter is null)
        {
            return (operation, Clean(words.Length > 1 ? words[1] : null));
        }

        if (tableAfter.Length == 0)
        {
            return (operation, null);
        }

        for (var i = 1; i < words.Length - 1; i++)
        {
            if (string.Equals(words[i], tableAfter, StringComparison.OrdinalIgnoreCase))
            {
                var next = words[i + 1];
                if (string.Equals(next, "IF", StringComparison.OrdinalIgnoreCase) && i + 4 < words.Length)
                {
                    next = words[i + 4]; // IF NOT EXISTS name
                }

                return (operation, Clean(next));
            }
        }

        return (operation, null);
    }

    private static string? Clean(string? name) => name?.Trim('"', '`', '[', ']', ';');
}
