using Ariadne.Storage.Embedded;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>A store in a temp directory on a fake clock; <see cref="ReopenAsync"/> disposes it and opens the same directory.</summary>
internal sealed class EmbeddedStoreFixture : IAsyncDisposable
{
    public EmbeddedStoreFixture(EmbeddedStorageOptions? options = null)
    {
        Options = options ?? new EmbeddedStorageOptions { RowGroupSpans = 64 };
        Store = Open();
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ariadne-embedded-").FullName;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));

    public EmbeddedStorageOptions Options { get; }

    public CapturingLogger Log { get; } = new();

    public EmbeddedSpanStore Store { get; private set; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public EmbeddedSpanStore Open() => EmbeddedSpanStore.Open(Directory, Options, Time, Log);

    public async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = Open();
    }

    public string[] BlockDirectories() =>
        System.IO.Directory.Exists(Path.Combine(Directory, "blocks"))
            ? System.IO.Directory.GetDirectories(Path.Combine(Directory, "blocks"), "*", SearchOption.AllDirectories)
                .Where(d => File.Exists(Path.Combine(d, "meta.json"))).ToArray()
            : [];

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Keeps log lines so tests can check that a fault was reported.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToList();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
