using System.Security.Cryptography;
using System.Text;

namespace Ariadne.Access;

/// <summary>
/// The configured bearer tokens, kept as SHA-256 hashes. A presented token is hashed and compared with every
/// configured hash in constant time, without stopping at a match, so neither the length nor the position of a
/// token leaks through the response time.
/// </summary>
public sealed class BearerTokens
{
    private readonly Entry[] _entries;

    public BearerTokens(AuthOptions options)
    {
        _entries = options.Tokens
            .Select(t => new Entry(
                SHA256.HashData(Encoding.UTF8.GetBytes(t.Token)),
                t.Tenant,
                t.Scopes.Aggregate(AuthScopes.None, (all, scope) => all | (AuthOptions.ParseScope(scope) ?? AuthScopes.None))))
            .ToArray();
    }

    /// <summary>False when no tokens are configured: the listeners are open.</summary>
    public bool Enabled => _entries.Length > 0;

    /// <summary>The configured token equal to <paramref name="presented"/>, or null.</summary>
    public Entry? Find(ReadOnlySpan<char> presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(presented.ToArray());
        SHA256.HashData(bytes, hash);
        Entry? found = null;
        foreach (var entry in _entries)
        {
            if (CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
            {
                found = entry;
            }
        }

        return found;
    }

    public sealed record Entry(byte[] Hash, string? Tenant, AuthScopes Scopes);
}
