using System.Net;
using System.Text;

namespace Ariadne.Storage.ClickHouse;

/// <summary>Raised when ClickHouse cannot be reached or refuses a statement; the message carries the server's text.</summary>
public sealed class ClickHouseException(string message, bool unreachable, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the server did not answer at all (refused, timed out), as opposed to answering with an error.</summary>
    public bool Unreachable { get; } = unreachable;
}

/// <summary>
/// A thin client of one node's HTTP interface. Everything goes over POST with the statement either as the body
/// or, for INSERTs, in the URL with the data as the body: 18.16 treats GET as read-only and has no query parameters,
/// so values are inlined as escaped literals (see <see cref="ClickHouseSql"/>).
/// </summary>
public sealed class ClickHouseClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _authQuery;

    public ClickHouseClient(Uri baseUri, string user, string password, TimeSpan timeout)
    {
        BaseUri = baseUri;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30), AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = baseUri,
            Timeout = timeout,
        };
        _authQuery = "user=" + Uri.EscapeDataString(user) + (password.Length > 0 ? "&password=" + Uri.EscapeDataString(password) : string.Empty);
    }

    public Uri BaseUri { get; }

    /// <summary>Runs a statement (DDL, ALTER, INSERT ... SELECT) and discards the answer.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, string Value)[] settings)
    {
        using var content = new StringContent(sql, Encoding.UTF8, "text/plain");
        using var response = await SendAsync(BuildUri(null, settings), content, sql, cancellationToken);
    }

    /// <summary>Runs a SELECT and returns its body, which is in the format the statement names.</summary>
    public async Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, string Value)[] settings)
    {
        using var content = new StringContent(sql, Encoding.UTF8, "text/plain");
        using var response = await SendAsync(BuildUri(null, settings), content, sql, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>Runs a SELECT with TabSeparated output and returns its rows, split into unescaped fields.</summary>
    public async Task<IReadOnlyList<string[]>> QueryRowsAsync(string sql, CancellationToken cancellationToken, params (string Name, string Value)[] settings)
    {
        var body = await QueryAsync(sql + " FORMAT TabSeparated", cancellationToken, settings);
        return ClickHouseSql.ParseTabSeparated(Encoding.UTF8.GetString(body));
    }

    /// <summary>Sends <paramref name="data"/> as the body of <paramref name="insertSql"/> (which ends in its FORMAT clause).</summary>
    public async Task InsertAsync(string insertSql, ReadOnlyMemory<byte> data, CancellationToken cancellationToken, params (string Name, string Value)[] settings)
    {
        using var content = new ReadOnlyMemoryContent(data);
        using var response = await SendAsync(BuildUri(insertSql, settings), content, insertSql, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private Uri BuildUri(string? query, (string Name, string Value)[] settings)
    {
        var builder = new StringBuilder("?").Append(_authQuery);
        if (query is not null)
        {
            builder.Append("&query=").Append(Uri.EscapeDataString(query));
        }

        foreach (var (name, value) in settings)
        {
            builder.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }

        return new Uri(BaseUri, builder.ToString());
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, HttpContent content, string statement, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.PostAsync(uri, content, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ClickHouseException($"ClickHouse at {BaseUri} is unreachable ({e.Message}); start it or fix ClickHouse:Url (--clickhouse-url).", unreachable: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClickHouseException($"ClickHouse at {BaseUri} did not answer within {_http.Timeout.TotalSeconds:0} s; it is overloaded or down.", unreachable: true, e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            var shown = statement.Length > 300 ? statement[..300] + "…" : statement;
            throw new ClickHouseException($"ClickHouse at {BaseUri} refused a statement ({(int)response.StatusCode}): {text}{Environment.NewLine}Statement: {shown}", unreachable: false);
        }
    }
}
