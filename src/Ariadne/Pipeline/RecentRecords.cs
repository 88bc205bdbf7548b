using System.IO.Hashing;

namespace Ariadne.Pipeline;

/// <summary>
/// The span records this node appended to its ingest log in the last minutes, by a 128-bit hash of their encoding
/// (tenant, route and spans). In cluster mode a client sends a whole request again when any owner refused its share
/// (503), or when the answer did not reach it; the shares the owners had already logged arrive again, encoded alike,
/// since the ring splits the same spans the same way whichever node receives them. Such a record is acknowledged
/// without being logged again, so its spans are stored once and counted once by the aggregators and ClickHouse's
/// <c>call_minutes</c> and <c>edge_minutes</c>.
/// <para>
/// Two generations of hashes: a record is remembered for between <see cref="Window"/> and twice that, and a
/// generation that reaches <see cref="MaxPerGeneration"/> hashes is retired early (a few MB at most). The hashes are
/// in memory: a retry that reaches an owner after its restart is logged again (stored twice, read once).
/// </para>
/// </summary>
internal sealed class RecentRecords(TimeProvider time)
{
    /// <summary>How long a retry is recognised at least: OTLP exporters give up on a request after 30 s to a few minutes.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    public const int MaxPerGeneration = 100_000;

    private readonly Lock _lock = new();
    private HashSet<UInt128> _current = [];
    private HashSet<UInt128> _previous = [];
    private DateTimeOffset _currentSince = time.GetUtcNow();

    public static UInt128 KeyOf(ReadOnlySpan<byte> record) => XxHash128.HashToUInt128(record);

    public bool Contains(UInt128 key)
    {
        lock (_lock)
        {
            Rotate();
            return _current.Contains(key) || _previous.Contains(key);
        }
    }

    /// <summary>Remembers a record once it is durable in the log (a record whose append failed must be taken when sent again).</summary>
    public void Add(UInt128 key)
    {
        lock (_lock)
        {
            Rotate();
            _current.Add(key);
        }
    }

    private void Rotate()
    {
        var now = time.GetUtcNow();
        if (now - _currentSince < Window && _current.Count < MaxPerGeneration)
        {
            return;
        }

        (_previous, _current) = (_current, _previous);
        _current.Clear();
        _currentSince = now;
    }
}
