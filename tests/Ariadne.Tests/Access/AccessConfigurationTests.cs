using Ariadne.Configuration;

namespace Ariadne.Tests.Access;

public sealed class AccessConfigurationTests
{
    [Fact]
    public void Tenants_tokens_and_limits_bind_from_flat_keys_as_environment_variables_give_them()
    {
        var options = ConfigurationLoader.Load(null, new Dictionary<string, string?>
        {
            ["Tenancy:RequireKnownTenant"] = "true",
            ["Tenancy:Tenants:0:Id"] = "shop",
            ["Tenancy:Tenants:0:IngestRateSpansPerSecond"] = "2000",
            ["Tenancy:Tenants:0:DetailedRetention"] = "14.00:00:00",
            ["Auth:Tokens:0:Token"] = "0123456789abcdef0123",
            ["Auth:Tokens:0:Tenant"] = "shop",
            ["Auth:Tokens:0:Scopes:0"] = "ingest",
            ["Auth:Tokens:0:Scopes:1"] = "query",
            ["Limits:MaxInFlightBytes"] = "1048576",
            ["Limits:MaxBytesPerTrace"] = "0",
            ["Tenancy:Tenants:0:MaxAttributeBytes"] = "2048",
        });

        var shop = Assert.Single(options.Tenancy.Tenants);
        Assert.Equal(2000, shop.IngestRateSpansPerSecond);
        Assert.Equal(TimeSpan.FromDays(14), shop.DetailedRetention);
        Assert.Null(shop.MaxRequestBytes);
        Assert.Equal(["ingest", "query"], Assert.Single(options.Auth.Tokens).Scopes);
        Assert.Equal(1048576, options.Limits.MaxInFlightBytes);
        Assert.Equal(0, options.Limits.MaxBytesPerTrace);
        Assert.Equal(2048, shop.MaxAttributeBytes);
        Assert.Null(shop.MaxEventsPerSpan);
        Assert.Equal(TimeSpan.FromDays(14), options.Embedded.WithTenantRetention(options.Tenancy).DetailedRetentionOf("shop"));
        Assert.Equal(TimeSpan.FromDays(7), options.Embedded.WithTenantRetention(options.Tenancy).DetailedRetentionOf("other"));
    }

    [Fact]
    public void Bad_access_settings_name_their_key_and_never_print_a_token()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?>
        {
            ["Tenancy:RequireKnownTenant"] = "true",
            ["Tenancy:Tenants:0:Id"] = "shop",
            ["Tenancy:Tenants:0:MaxRequestBytes"] = "999999999",
            ["Auth:Tokens:0:Token"] = "short-secret",
            ["Auth:Tokens:0:Scopes:0"] = "admin",
            ["Auth:Tokens:1:Token"] = "0123456789abcdef0123",
            ["Auth:Tokens:1:Tenant"] = "globex",
            ["Auth:Tokens:1:Scopes:0"] = "ingest",
            ["Limits:MaxHeapPercent"] = "150",
            ["Limits:HeapSpikePercent"] = "95",
            ["Limits:MaxAttributeBytes"] = "-1",
            ["Tenancy:Tenants:0:MaxBytesPerTrace"] = "100",
        }));

        Assert.Contains("Tenancy:Tenants:0:MaxRequestBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Tokens:0:Token", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Tokens:0:Scopes: 'admin'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Tokens:1:Tenant: 'globex' is not in Tenancy:Tenants", error.Message, StringComparison.Ordinal);
        Assert.Contains("Limits:MaxHeapPercent", error.Message, StringComparison.Ordinal);
        Assert.Contains("Limits:HeapSpikePercent", error.Message, StringComparison.Ordinal);
        Assert.Contains("Limits:MaxAttributeBytes: -1 must be 0 (unlimited) or at least 16", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tenancy:Tenants:0:MaxBytesPerTrace: 100", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef0123", error.Message, StringComparison.Ordinal);
    }
}
