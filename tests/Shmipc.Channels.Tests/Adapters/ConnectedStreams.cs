using Shmipc.Channels.Tests.TestSupport;

namespace Shmipc.Channels.Tests.Adapters;

/// <summary>
/// Two ends of one shmipc stream over a real session (a <see cref="SessionPair"/>): the client's
/// <see cref="ClientStream"/> and the server's <see cref="ServerStream"/>, both unread and unwritten.
/// </summary>
internal sealed class ConnectedStreams : IAsyncDisposable
{
    private readonly SessionPair _pair;

    private ConnectedStreams(SessionPair pair, ShmipcStream clientStream, ShmipcStream serverStream)
    {
        _pair = pair;
        ClientStream = clientStream;
        ServerStream = serverStream;
    }

    public ShmipcSession Client => _pair.Client;

    public ShmipcSession Server => _pair.Server;

    public ShmipcStream ClientStream { get; }

    public ShmipcStream ServerStream { get; }

    public static async Task<ConnectedStreams> CreateAsync(CancellationToken cancellationToken, ShmipcClientOptions? options = null)
    {
        var pair = await SessionPair.ConnectAsync(
            cancellationToken,
            options ?? TestClientOptions.Small(TimeSpan.FromSeconds(10)),
            new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) });
        var (clientStream, serverStream) = await pair.OpenStreamsAsync(cancellationToken);
        return new ConnectedStreams(pair, clientStream, serverStream);
    }

    public async ValueTask DisposeAsync()
    {
        ClientStream.Dispose();
        ServerStream.Dispose();
        await _pair.DisposeAsync();
    }
}
