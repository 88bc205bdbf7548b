namespace Ariadne.Storage.ClickHouse;

/// <summary>Settings of the ClickHouse engine (<c>--storage clickhouse</c>), bound from the <c>ClickHouse</c> section.</summary>
public sealed class ClickHouseOptions
{
    /// <summary>
    /// HTTP interface of the server (port 8123). In cluster mode, a comma-separated list naming every node: 18.16
    /// has no ON CLUSTER without ZooKeeper, so Ariadne runs each DDL statement on each node itself.
    /// Reads and writes go to the first node that answers.
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:8123";

    /// <summary>A cluster from the servers' <c>remote_servers</c>; when set, Distributed tables shard spans by trace id.</summary>
    public string? Cluster { get; set; }

    public string Database { get; set; } = "ariadne";

    public string User { get; set; } = "default";

    public string Password { get; set; } = string.Empty;

    /// <summary>Most spans sent in one INSERT; concurrent appends are grouped up to this size.</summary>
    public int MaxBatchSpans { get; set; } = 50_000;

    /// <summary>INSERTs in flight at once; while one is on the wire the next batch is encoded.</summary>
    public int InsertConcurrency { get; set; } = 2;

    /// <summary>
    /// Acknowledge spans once they are in the ingest log (in the data directory), which feeds ClickHouse, so a
    /// ClickHouse outage loses nothing. Off: no log; acknowledge once ClickHouse has them.
    /// </summary>
    public bool Wal { get; set; } = true;

    /// <summary>Spans taken from the ingest log but not yet in ClickHouse beyond which new spans are refused (503) until they drain.</summary>
    public long MaxBacklogSpans { get; set; } = 1_000_000;

    /// <summary>
    /// Bytes of spans kept on disk (ready-to-insert rows in <c>clickhouse-spill/</c>) once <see cref="MaxBacklogSpans"/>
    /// wait in memory; past it new spans are refused (503) until ClickHouse catches up.
    /// </summary>
    public long MaxSpillBytes { get; set; } = 4L << 30;

    /// <summary>Days of detailed spans (and the trace index) kept; older day partitions are dropped.</summary>
    public int SpanRetentionDays { get; set; } = 7;

    /// <summary>Tenants whose spans are kept for another number of days (from Tenancy:Tenants:N:DetailedRetention).</summary>
    internal IReadOnlyDictionary<string, int> TenantSpanRetentionDays { get; private set; } = new Dictionary<string, int>();

    /// <summary>Days a tenant's spans are kept.</summary>
    public int SpanRetentionDaysOf(string tenant) => TenantSpanRetentionDays.GetValueOrDefault(tenant, SpanRetentionDays);

    /// <summary>
    /// A copy of these settings with each tenant's span retention from Tenancy:Tenants, rounded up to whole days
    /// (ClickHouse keeps days: its retention drops and deletes by day).
    /// </summary>
    public ClickHouseOptions WithTenantRetention(Tenancy.TenancyOptions tenancy)
    {
        var copy = (ClickHouseOptions)MemberwiseClone();
        copy.TenantSpanRetentionDays = tenancy.DetailedRetentions()
            .ToDictionary(t => t.Key, t => (int)Math.Ceiling(t.Value.TotalDays), StringComparer.Ordinal);
        return copy;
    }

    /// <summary>Days of per-minute aggregates (RED) kept.</summary>
    public int AggregateRetentionDays { get; set; } = 30;

    /// <summary>How often the per-minute RED and dependency figures counted before sampling are written (<c>call_minutes</c>, <c>edge_minutes</c>).</summary>
    public TimeSpan MinutesInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often retention runs and the size figures are refreshed.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Timeout of one HTTP request to ClickHouse.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<Uri> ParseUrls() =>
        Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();

    /// <summary>Start-up checks; messages name the key, as <see cref="Configuration.OptionsValidator"/> does.</summary>
    public void Validate(List<string> errors)
    {
        var urls = Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            errors.Add("ClickHouse:Url: name the HTTP interface, such as http://127.0.0.1:8123.");
        }

        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"ClickHouse:Url: '{url}' is not an http(s) URL; use the HTTP interface, such as http://127.0.0.1:8123.");
            }
        }

        if (urls.Length > 1 && string.IsNullOrEmpty(Cluster))
        {
            errors.Add("ClickHouse:Cluster: several URLs are given; name their cluster from remote_servers (--clickhouse-cluster), or give one URL.");
        }

        if (!IsIdentifier(Database))
        {
            errors.Add($"ClickHouse:Database: '{Database}' must be letters, digits and '_', starting with a letter.");
        }

        if (Cluster is { Length: > 0 } cluster && !IsIdentifier(cluster))
        {
            errors.Add($"ClickHouse:Cluster: '{cluster}' must be letters, digits and '_', starting with a letter.");
        }

        if (MaxSpillBytes < 0)
        {
            errors.Add($"ClickHouse:MaxSpillBytes: {MaxSpillBytes} must be 0 (keep nothing on disk) or more (default 4294967296).");
        }

        if (MaxBatchSpans < 1)
        {
            errors.Add($"ClickHouse:MaxBatchSpans: {MaxBatchSpans} must be at least 1 (default 50000).");
        }

        if (InsertConcurrency < 1)
        {
            errors.Add($"ClickHouse:InsertConcurrency: {InsertConcurrency} must be at least 1 (default 2).");
        }

        if (SpanRetentionDays < 1 || AggregateRetentionDays < SpanRetentionDays)
        {
            errors.Add($"ClickHouse:SpanRetentionDays/AggregateRetentionDays: {SpanRetentionDays}/{AggregateRetentionDays}: spans need at least 1 day and aggregates at least as many days as spans (defaults 7 and 30).");
        }

        if (MaxBacklogSpans < 1000)
        {
            errors.Add($"ClickHouse:MaxBacklogSpans: {MaxBacklogSpans} must be at least 1000 (default 1000000).");
        }

        if (MinutesInterval <= TimeSpan.Zero)
        {
            errors.Add($"ClickHouse:MinutesInterval: {MinutesInterval} must be positive, such as 00:00:05.");
        }

        if (MaintenanceInterval <= TimeSpan.Zero)
        {
            errors.Add($"ClickHouse:MaintenanceInterval: {MaintenanceInterval} must be positive, such as 00:10:00.");
        }
    }

    internal static bool IsIdentifier(string value) =>
        value.Length is > 0 and <= 64 && char.IsAsciiLetter(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
