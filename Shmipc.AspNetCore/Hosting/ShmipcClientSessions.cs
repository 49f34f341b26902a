using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Shmipc.AspNetCore.Client;

namespace Shmipc.AspNetCore.Hosting;

/// <summary>
/// The client sessions of the named clients, one per name, owned by the container: HttpClientFactory recycles its
/// handlers, so a handler must not own the session it uses.
/// </summary>
internal sealed class ShmipcClientSessions(IOptionsMonitor<ShmipcHttpClientOptions> options) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ISessionSource>> _sources = new(StringComparer.Ordinal);

    public ISessionSource Get(string name) => _sources.GetOrAdd(name, n => new Lazy<ISessionSource>(() =>
    {
        var o = options.Get(n);
        return new SingleSessionSource(o.SocketPath, o.Session);
    })).Value;

    public ISessionSource? Find(string name) => _sources.TryGetValue(name, out var source) && source.IsValueCreated ? source.Value : null;

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources.Values)
        {
            if (source.IsValueCreated)
            {
                await source.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
