namespace Ariadne.Configuration;

/// <summary>Start-up validation: every message names the configuration key and says what would be valid.</summary>
public static class OptionsValidator
{
    private static readonly string[] s_storageEngines = ["memory", "embedded", "clickhouse"];

    public static IReadOnlyList<string> Validate(AriadneOptions options)
    {
        var errors = new List<string>();
        CheckPort(errors, "Ports:OtlpGrpc", options.Ports.OtlpGrpc);
        CheckPort(errors, "Ports:OtlpHttp", options.Ports.OtlpHttp);
        CheckPort(errors, "Ports:Zipkin", options.Ports.Zipkin);
        CheckPort(errors, "Ports:Query", options.Ports.Query);
        CheckPort(errors, "Ports:Sampling", options.Ports.Sampling);
        CheckPort(errors, "Ports:JaegerThriftHttp", options.Ports.JaegerThriftHttp);
        CheckPort(errors, "Ports:JaegerGrpc", options.Ports.JaegerGrpc);
        CheckPort(errors, "Ports:JaegerCompact", options.Ports.JaegerCompact);
        CheckPort(errors, "Ports:JaegerBinary", options.Ports.JaegerBinary);
        CheckPort(errors, "Ports:Tempo", options.Ports.Tempo);

        if (!System.Net.IPAddress.TryParse(options.ListenAddress, out _))
        {
            errors.Add($"ListenAddress: '{options.ListenAddress}' is not an IP address; use 0.0.0.0 for all interfaces or 127.0.0.1 for this machine only.");
        }

        if (!s_storageEngines.Contains(options.Storage))
        {
            errors.Add($"Storage: '{options.Storage}' is not a storage engine; use one of {string.Join(", ", s_storageEngines)}.");
        }

        if (options.Storage == "clickhouse")
        {
            options.ClickHouse.Validate(errors);
        }

        if (options.Memory.MaxTraces < 1)
        {
            errors.Add($"Memory:MaxTraces: {options.Memory.MaxTraces} must be at least 1.");
        }

        errors.AddRange(options.Embedded.Validate());
        errors.AddRange(options.Logs.Validate());

        if (options.Ingest.MaxRequestBytes < 1024)
        {
            errors.Add($"Ingest:MaxRequestBytes: {options.Ingest.MaxRequestBytes} is too small; use at least 1024 (default 16777216).");
        }

        if (options.Ingest.GroupCommitInterval < TimeSpan.Zero || options.Ingest.GroupCommitInterval > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Ingest:GroupCommitInterval: {options.Ingest.GroupCommitInterval} must be between 00:00:00 and 00:00:01 (default 00:00:00).");
        }

        if (options.Ingest.LogSegmentBytes < 1 << 20)
        {
            errors.Add($"Ingest:LogSegmentBytes: {options.Ingest.LogSegmentBytes} is too small; use at least 1048576 (default 67108864).");
        }

        if (options.Ingest.BacklogWait < TimeSpan.Zero || options.Ingest.BacklogWait > TimeSpan.FromSeconds(30))
        {
            errors.Add($"Ingest:BacklogWait: {options.Ingest.BacklogWait} must be between 00:00:00 and 00:00:30 (default 00:00:02); exporters time out after 10 s.");
        }

        if (options.Ingest.AggregatesCheckpointInterval < TimeSpan.FromSeconds(1) || options.Ingest.AggregatesCheckpointInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Ingest:AggregatesCheckpointInterval: {options.Ingest.AggregatesCheckpointInterval} must be between 00:00:01 and 00:10:00 (default 00:00:10).");
        }

        if (options.ShutdownTimeout < TimeSpan.FromSeconds(1) || options.ShutdownTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"ShutdownTimeout: {options.ShutdownTimeout} must be between 00:00:01 and 00:05:00 (default 00:00:10).");
        }

        errors.AddRange(options.Tenancy.Validate(options.Ingest.MaxRequestBytes));
        errors.AddRange(options.Limits.Validate());
        errors.AddRange(options.Auth.Validate(options.Tenancy));
        errors.AddRange(Alerts.AlertServiceCollectionExtensions.Validate(options.Alerts));
        Sampling.SamplingOptionsValidator.Validate(options.Sampling, errors);
        options.Cluster.Validate(errors);
        if (options.Cluster.Enabled && options.Storage != "clickhouse")
        {
            errors.Add($"Cluster:Peers: cluster mode needs storage every node reads; run with --storage clickhouse (Storage is '{options.Storage}').");
        }

        return errors;
    }

    private static void CheckPort(List<string> errors, string key, int port)
    {
        if (port is < 0 or > 65535)
        {
            errors.Add($"{key}: {port} is not a TCP port; use 1-65535, or 0 to pick a free one.");
        }
    }
}
