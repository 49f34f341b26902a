using System.Buffers;
using Shmipc.Channels.Tests.CrossProcess;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>An in-process listener whose sessions echo every message on every stream; records the sessions it accepted.</summary>
internal sealed class EchoListener : IAsyncDisposable
{
    private readonly Task _accepting;
    private readonly List<ShmipcSession> _sessions = [];
    private long _served;

    public EchoListener(string path, ShmipcServerOptions? options = null)
    {
        Listener = ShmipcListener.Bind(path, options);
        _accepting = AcceptAsync();
    }

    public ShmipcListener Listener { get; }

    /// <summary>Messages echoed so far.</summary>
    public long Served => Interlocked.Read(ref _served);

    public IReadOnlyList<ShmipcSession> Sessions
    {
        get
        {
            lock (_sessions)
            {
                return [.. _sessions];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Listener.DisposeAsync();
        await _accepting;
    }

    private async Task AcceptAsync()
    {
        await foreach (var session in Listener.Sessions.ReadAllAsync())
        {
            lock (_sessions)
            {
                _sessions.Add(session);
            }

            _ = ServeAsync(session);
        }
    }

    private async Task ServeAsync(ShmipcSession session)
    {
        try
        {
            await foreach (var stream in session.IncomingStreams.ReadAllAsync())
            {
                _ = EchoAsync(stream);
            }
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // The session failed.
        }
    }

    private async Task EchoAsync(ShmipcStream stream)
    {
        try
        {
            await foreach (var message in stream.Input.ReadAllAsync())
            {
                using (message)
                {
                    await stream.WriteAsync(message.Data.ToArray());
                    Interlocked.Increment(ref _served);
                }
            }

            stream.Dispose();
        }
        catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException)
        {
            // The session ended under the stream.
        }
    }

    /// <summary>Waits until <paramref name="count"/> sessions were accepted.</summary>
    public Task WaitForSessionsAsync(int count, TimeSpan timeout) =>
        Messages.EventuallyAsync(() => Sessions.Count >= count, timeout, $"{count} sessions accepted");
}
