using Xunit;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>A client and a server session connected over a real socket and real shared memory, in this process.</summary>
internal sealed class SessionPair : IAsyncDisposable
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

    public static async Task<SessionPair> ConnectAsync(
        CancellationToken cancellationToken, ShmipcClientOptions? options = null, ShmipcServerOptions? serverOptions = null)
    {
        var path = new TempSocketPath();
        var listener = ShmipcListener.Bind(path.Path, serverOptions);
        var client = await ShmipcClient.ConnectAsync(path.Path, options ?? TestClientOptions.Small(TimeSpan.FromSeconds(30)), cancellationToken);
        var server = await listener.AcceptAsync(cancellationToken);
        return new SessionPair(path, listener, client, server);
    }

    /// <summary>
    /// Opens a client stream and accepts it on the server, both unread and unwritten: the stream is made known to the
    /// server by one byte the pair sends and consumes itself.
    /// </summary>
    public async Task<(ShmipcStream Client, ShmipcStream Server)> OpenStreamsAsync(CancellationToken cancellationToken)
    {
        var client = Client.OpenStream();
        await client.WriteAsync(new byte[] { 0 }, cancellationToken);
        var server = await Server.AcceptStreamAsync(cancellationToken);
        (await server.Input.ReadAsync(cancellationToken)).Dispose();
        return (client, server);
    }

    /// <summary>Opens a client stream and accepts it on the server (the stream exists on the server once a message arrives).</summary>
    public async Task<(ShmipcDuplexPipe Client, ShmipcDuplexPipe Server)> OpenPipesAsync(CancellationToken cancellationToken)
    {
        var client = Client.OpenStream().AsDuplexPipe();
        client.Output.GetSpan()[0] = 0xAB;
        client.Output.Advance(1);
        await client.Output.FlushAsync(cancellationToken);
        var server = (await Server.AcceptStreamAsync(cancellationToken)).AsDuplexPipe();
        var hello = await server.Input.ReadAtLeastAsync(1, cancellationToken);
        Assert.Equal(0xAB, hello.Buffer.FirstSpan[0]);
        server.Input.AdvanceTo(hello.Buffer.GetPosition(1));
        return (client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await _listener.DisposeAsync();
        _path.Dispose();
    }
}
