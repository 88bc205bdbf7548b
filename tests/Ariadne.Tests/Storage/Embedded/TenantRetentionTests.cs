using Ariadne.Storage.Embedded;
using Ariadne.Tenancy;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class TenantRetentionTests
{
    [Fact]
    public async Task A_tenant_with_its_own_detailed_retention_loses_its_blocks_sooner_than_the_others()
    {
        var tenancy = new TenancyOptions { Tenants = [new TenantOptions { Id = "short", DetailedRetention = TimeSpan.FromDays(1) }, new TenantOptions { Id = "plain" }] };
        await using var f = new EmbeddedStoreFixture(new EmbeddedStorageOptions { RowGroupSpans = 64 }.WithTenantRetention(tenancy));
        var shortTrace = TestSpans.Trace(f.Now.AddMinutes(-1));
        var plainTrace = TestSpans.Trace(f.Now.AddMinutes(-1));
        await f.Store.AppendAsync("short", shortTrace, default);
        await f.Store.AppendAsync("plain", plainTrace, default);
        await f.Store.CutHeadAsync();

        f.Time.Advance(TimeSpan.FromDays(2));
        await f.Store.ApplyRetentionAsync();

        Assert.Empty(await f.Store.GetTraceAsync("short", shortTrace[0].TraceId, default));
        Assert.Equal(plainTrace.Count, (await f.Store.GetTraceAsync("plain", plainTrace[0].TraceId, default)).Count);
        Assert.Equal("plain", Assert.Single(f.Store.ListBlocks()).Tenant);
    }
}
