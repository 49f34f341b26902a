using Shmipc.Channels;
using Shmipc.Channels.Tests.TestSupport;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>A listener and a client in this process over a temp Unix socket, and the accepted server session.</summary>
public sealed class SessionPair : IAsyncDisposable
{
    private readonly TempSocketPath _path;
    private readonly ShmipcListener _listener;

    private SessionPair(TempSocketPath path, ShmipcListener listener, ShmipcSession client, ShmipcSession server)
    {
        _path = path;
        _listener = listener;
        Client = client;
        Server = server;
    }

    public ShmipcSession Client { get; }

    public ShmipcSession Server { get; }

    /// <summary>A small region of 16 KiB slices (about 60 of them) unless told otherwise.</summary>
    /// <remarks>
    /// Pick queue capacities whose queue size (24 + 12·cap bytes) keeps the second queue's header inside one cache line
    /// (16 and 8192 do; 8 does not: its 8-byte head then straddles a line, and Linux throttles such split locks).
    /// Handshakes get 10 s: the machine running the tests may be heavily loaded.
    /// </remarks>
    public static ShmipcClientOptions SmallRegion(int queueCapacity = 8192) => new()
    {
        HandshakeTimeout = TimeSpan.FromSeconds(10),
        BufferCapacity = 1024 * 1024,
        SizeClasses = [new(16 * 1024, 100)],
        QueueCapacity = queueCapacity,
        PathPrefix = $"/dev/shm/shmipc_rxtest_{Guid.NewGuid():N}",
    };

    public static ShmipcServerOptions ServerOptions() => new() { HandshakeTimeout = TimeSpan.FromSeconds(10) };

    public static async Task<SessionPair> ConnectAsync(CancellationToken ct, ShmipcClientOptions? options = null)
    {
        var path = new TempSocketPath();
        var listener = ShmipcListener.Bind(path.Path, ServerOptions());
        try
        {
            var client = await ShmipcClient.ConnectAsync(path.Path, options ?? SmallRegion(), ct);
            var server = await listener.AcceptAsync(ct);
            return new SessionPair(path, listener, client, server);
        }
        catch
        {
            await listener.DisposeAsync();
            path.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the server side of a stream the client opened (by id; other streams are closed).</summary>
    public async Task<ShmipcStream> AcceptAsync(ShmipcStream clientStream, CancellationToken ct)
    {
        while (true)
        {
            var stream = await Server.AcceptStreamAsync(ct);
            if (stream.Id == clientStream.Id)
            {
                return stream;
            }

            stream.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _listener.DisposeAsync();
        _path.Dispose();
    }
}
