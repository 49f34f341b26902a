using Shmipc.Channels;

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
    public static ShmipcClientOptions SmallRegion(int queueCapacity = 8192) => new()
    {
        BufferCapacity = 1024 * 1024,
        SizeClasses = [new(16 * 1024, 100)],
        QueueCapacity = queueCapacity,
        PathPrefix = $"/dev/shm/shmipc_rxtest_{Guid.NewGuid():N}",
    };

    public static async Task<SessionPair> ConnectAsync(CancellationToken ct, ShmipcClientOptions? options = null)
    {
        var path = new TempSocketPath();
        var listener = ShmipcListener.Bind(path.Path);
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
