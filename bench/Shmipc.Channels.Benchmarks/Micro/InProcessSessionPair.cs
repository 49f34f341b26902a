namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// A listener and a client session to it in this process (a Unix socket in a temp folder, memfd under a unique
/// <c>/dev/shm</c> prefix), and the server session it accepted: the set-up of the in-process probes
/// (<see cref="SessionRoundTripBenchmarks"/>, <see cref="OneWayProbe"/>). Disposing closes the client and the listener
/// and removes the folder; the server session is the caller's (the listener's close ends it too).
/// </summary>
internal sealed class InProcessSessionPair : IAsyncDisposable
{
    private readonly DirectoryInfo _directory;
    private readonly ShmipcListener _listener;

    private InProcessSessionPair(DirectoryInfo directory, ShmipcListener listener, ShmipcSession client, ShmipcSession server)
    {
        _directory = directory;
        _listener = listener;
        Client = client;
        Server = server;
    }

    public ShmipcSession Client { get; }

    public ShmipcSession Server { get; }

    /// <summary>Binds, connects (setting the client's <see cref="ShmipcClientOptions.PathPrefix"/>) and accepts.</summary>
    public static async Task<InProcessSessionPair> ConnectAsync(ShmipcServerOptions serverOptions, ShmipcClientOptions clientOptions, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("shmipc-bench-");
        ShmipcListener? listener = null;
        try
        {
            var path = Path.Combine(directory.FullName, "s.sock");
            listener = ShmipcListener.Bind(path, serverOptions);
            clientOptions.PathPrefix = $"/dev/shm/shmipc_bench_{Guid.NewGuid():N}";
            var client = await ShmipcClient.ConnectAsync(path, clientOptions, cancellationToken);
            var server = await listener.AcceptAsync(cancellationToken);
            return new InProcessSessionPair(directory, listener, client, server);
        }
        catch
        {
            if (listener is not null)
            {
                await listener.DisposeAsync();
            }

            directory.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _listener.DisposeAsync();
        _directory.Delete(recursive: true);
    }
}
