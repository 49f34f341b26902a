using Shmipc.Channels.Tests.TestSupport;

namespace Shmipc.Channels.Tests.Adapters;

/// <summary>
/// Two ends of one shmipc stream over a real session (a listener, a client, shared memory): the client's
/// <see cref="ClientStream"/> and the server's <see cref="ServerStream"/>, both unread and unwritten. The stream is
/// made known to the server by one byte the pair sends and consumes itself.
/// </summary>
internal sealed class ConnectedStreams : IAsyncDisposable
{
    private readonly TempSocketPath _path;
    private readonly ShmipcListener _listener;

    private ConnectedStreams(TempSocketPath path, ShmipcListener listener, ShmipcSession client, ShmipcSession server, ShmipcStream clientStream, ShmipcStream serverStream)
    {
        _path = path;
        _listener = listener;
        Client = client;
        Server = server;
        ClientStream = clientStream;
        ServerStream = serverStream;
    }

    public ShmipcSession Client { get; }

    public ShmipcSession Server { get; }

    public ShmipcStream ClientStream { get; }

    public ShmipcStream ServerStream { get; }

    public static async Task<ConnectedStreams> CreateAsync(CancellationToken cancellationToken, ShmipcClientOptions? options = null)
    {
        var path = new TempSocketPath();
        var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) });
        var client = await ShmipcClient.ConnectAsync(path.Path, options ?? TestClientOptions.Small(TimeSpan.FromSeconds(10)), cancellationToken);
        var server = await listener.AcceptAsync(cancellationToken);
        var clientStream = client.OpenStream();
        await clientStream.WriteAsync(new byte[] { 0 }, cancellationToken);
        var serverStream = await server.AcceptStreamAsync(cancellationToken);
        (await serverStream.Input.ReadAsync(cancellationToken)).Dispose();
        return new ConnectedStreams(path, listener, client, server, clientStream, serverStream);
    }

    public async ValueTask DisposeAsync()
    {
        ClientStream.Dispose();
        ServerStream.Dispose();
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await _listener.DisposeAsync();
        _path.Dispose();
    }
}
