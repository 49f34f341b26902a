using Shmipc.Channels;

namespace Shmipc.AspNetCore.Client;

/// <summary>The ConnectCallback behind <see cref="ShmipcHttp"/>: every HTTP connection is a new stream of the session.</summary>
internal sealed class ShmipcConnectionFactory(ISessionSource sessions)
{
    public ISessionSource Sessions => sessions;

    public async ValueTask<Stream> ConnectAsync(System.Net.Http.SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        _ = context;
        var session = await sessions.GetSessionAsync(cancellationToken).ConfigureAwait(false);
        return session.OpenStream().AsStream();
    }
}
