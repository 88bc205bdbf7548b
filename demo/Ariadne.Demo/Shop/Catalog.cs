using System.Globalization;
using Ariadne.Instrumentation.Data;
using Microsoft.Data.Sqlite;

namespace Ariadne.Demo.Shop;

internal sealed record Product(string Id, string Name, string Category, long PriceCents);

/// <summary>Catalog: products and search over HTTP, stored in SQLite.</summary>
internal static class Catalog
{
    private static readonly (string Name, string Category, long Price)[] s_seed =
    [
        ("Trail running shoes", "shoes", 12900), ("Merino wool socks", "apparel", 1900), ("Rain jacket", "apparel", 15900),
        ("Headlamp 400 lm", "gear", 4500), ("Ultralight tent", "gear", 34900), ("Sleeping bag -5C", "gear", 22900),
        ("Water filter", "gear", 3900), ("Trekking poles", "gear", 8900), ("Camp stove", "gear", 6900),
        ("Insulated bottle", "gear", 2900), ("Hiking boots", "shoes", 18900), ("Sun hat", "apparel", 2500),
        ("Backpack 40 L", "gear", 13900), ("First aid kit", "gear", 3400), ("Compass", "gear", 2200),
        ("Down vest", "apparel", 11900), ("Gaiters", "apparel", 3900), ("Camp chair", "gear", 5900),
        ("Big-wall haul bag (ships from central warehouse)", "warehouse", 24900), ("Expedition sled (ships from central warehouse)", "warehouse", 39900),
    ];

    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("catalog", args);
        var app = ShopHost.Build(builder);
        var settings = app.Services.GetRequiredService<ShopSettings>();
        var faults = app.Services.GetRequiredService<FaultSwitchboard>();
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(settings.DataDirectory, "catalog.db"), Pooling = true }.ToString();
        await SeedAsync(connectionString);
        app.UseErrorBurst();

        app.MapGet("/products", async (string? q, string? category, CancellationToken ct) =>
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            if (faults.Current.SlowSql)
            {
                // The injected fault: a correlated count over a generated series, the kind of query that is fine in
                // development and slow with production data. It shows up as one long db span.
                command.CommandText = """
                    SELECT id, name, category, price_cents FROM products
                    WHERE (name LIKE $q OR category LIKE $q) AND (
                      WITH RECURSIVE series(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM series WHERE x < 600000)
                      SELECT count(*) FROM series) > 0
                    ORDER BY name
                    """;
            }
            else
            {
                command.CommandText = "SELECT id, name, category, price_cents FROM products WHERE (name LIKE $q OR category LIKE $q) ORDER BY name";
            }

            command.Parameters.AddWithValue("$q", $"%{q ?? category ?? string.Empty}%");
            return await command.ExecuteReaderTracedAsync(ReadProduct, ct);
        });

        app.MapGet("/products/{id}", async (string id, CancellationToken ct) =>
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, name, category, price_cents FROM products WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            var found = await command.ExecuteReaderTracedAsync(ReadProduct, ct);
            return found.Count == 1 ? Results.Ok(found[0]) : Results.NotFound(new { error = $"no product {id}" });
        });

        await app.RunAsync();
    }

    private static Product ReadProduct(System.Data.Common.DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));

    private static async Task SeedAsync(string connectionString)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price_cents INTEGER NOT NULL)";
            await create.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < s_seed.Length; i++)
        {
            var (name, category, price) = s_seed[i];
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT OR REPLACE INTO products (id, name, category, price_cents) VALUES ($id, $name, $category, $price)";
            insert.Parameters.AddWithValue("$id", ProductId(i, category));
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$category", category);
            insert.Parameters.AddWithValue("$price", price);
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Product ids the traffic generator can pick from; warehouse items are slow to reserve.</summary>
    public static string ProductId(int index, string category) =>
        category == "warehouse" ? string.Create(CultureInfo.InvariantCulture, $"wh-{index:D3}") : string.Create(CultureInfo.InvariantCulture, $"p-{index:D3}");

    public static IReadOnlyList<string> RegularProductIds { get; } =
        [.. s_seed.Select((p, i) => (p, i)).Where(x => x.p.Category != "warehouse").Select(x => ProductId(x.i, x.p.Category))];

    public static IReadOnlyList<string> WarehouseProductIds { get; } =
        [.. s_seed.Select((p, i) => (p, i)).Where(x => x.p.Category == "warehouse").Select(x => ProductId(x.i, x.p.Category))];
}
