using Ariadne.Storage;
using Ariadne.Storage.Embedded;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>The storage contract on the embedded engine; reopening disposes the store (writing the head out as blocks) and opens the same directory.</summary>
public sealed class EmbeddedSpanStoreContractTests : SpanStoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-contract-").FullName;
    private readonly EmbeddedStorageOptions _options = new() { RowGroupSpans = 64 };

    protected override Task<ISpanStore> CreateStoreAsync() => Task.FromResult<ISpanStore>(Open());

    protected override async Task<ISpanStore> ReopenAsync(ISpanStore store)
    {
        await store.DisposeAsync();
        return Open();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private EmbeddedSpanStore Open() => EmbeddedSpanStore.Open(_directory, _options, TimeProvider.System, new CapturingLogger());
}
