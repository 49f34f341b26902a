using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Shmipc.Channels;

namespace Shmipc.Examples.HotRestart;

/// <summary>
/// One server generation: echoes every message on every stream, and listens on an admin Unix socket for the trigger.
/// Admin commands (one line each): <c>served</c> → <c>served N</c>; <c>hot-restart EPOCH</c> →
/// <c>acknowledged MS</c> once every client moved, then <c>drained N</c> when nothing is in flight any more, and exit.
/// </summary>
internal static class EchoServer
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private static long s_served;

    public static async Task<int> RunAsync(string socketPath, string adminPath, bool takeOver)
    {
        var sessions = new List<ShmipcSession>();
        var options = new ShmipcServerOptions
        {
            TakeOverSocketPath = takeOver,
            HotRestartTimeout = TimeSpan.FromSeconds(10),
            HandshakeTimeout = TimeSpan.FromSeconds(5),    // generous: the machine may be busy
        };
        await using var listener = ShmipcListener.Bind(socketPath, options);
        var accepting = AcceptAsync(listener, sessions);

        using var admin = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        admin.Bind(new UnixDomainSocketEndPoint(adminPath));
        admin.Listen();
        Console.WriteLine("READY");
        var done = false;
        while (!done)
        {
            using var connection = await admin.AcceptAsync();
            await using var stream = new NetworkStream(connection);
            using var reader = new StreamReader(stream);
            await using var writer = new StreamWriter(stream) { AutoFlush = true };
            while (await reader.ReadLineAsync() is { } line)
            {
                var words = line.Split(' ');
                if (words is ["served"])
                {
                    await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"served {Interlocked.Read(ref s_served)}"));
                }
                else if (words is ["hot-restart", var epoch])
                {
                    var watch = Stopwatch.StartNew();
                    try
                    {
                        await listener.HotRestartAsync(ulong.Parse(epoch, CultureInfo.InvariantCulture));
                    }
                    catch (ShmipcException e)
                    {
                        // Not every client moved in time: the listener is back to normal and keeps serving.
                        await writer.WriteLineAsync($"failed {e.Message}");
                        await writer.WriteLineAsync("still serving");
                        continue;
                    }

                    await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"acknowledged {watch.ElapsedMilliseconds}"));
                    await DrainAsync(sessions);
                    await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"drained {Interlocked.Read(ref s_served)}"));
                    done = true;
                    break;
                }
                else if (words is ["stop"])
                {
                    done = true;
                    break;
                }
            }
        }

        File.Delete(adminPath);
        await listener.DisposeAsync();
        await accepting;
        return 0;
    }

    /// <summary>Waits until no session has a stream open, and that stays so for a moment (a request on its way lands meanwhile).</summary>
    private static async Task DrainAsync(List<ShmipcSession> sessions)
    {
        var quiet = Stopwatch.StartNew();
        while (quiet.Elapsed < Quiet)
        {
            lock (sessions)
            {
                if (sessions.Any(s => !s.IsClosed && s.ActiveStreamCount > 0))
                {
                    quiet.Restart();
                }
            }

            await Task.Delay(5);
        }
    }

    private static async Task AcceptAsync(ShmipcListener listener, List<ShmipcSession> sessions)
    {
        await foreach (var session in listener.Sessions.ReadAllAsync())
        {
            lock (sessions)
            {
                sessions.Add(session);
            }

            _ = ServeAsync(session);
        }
    }

    private static async Task ServeAsync(ShmipcSession session)
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
            // The session ended.
        }
    }

    private static async Task EchoAsync(ShmipcStream stream)
    {
        try
        {
            await foreach (var message in stream.Input.ReadAllAsync())
            {
                using (message)
                {
                    await stream.WriteAsync(message.Data.ToArray());
                    Interlocked.Increment(ref s_served);
                }
            }
        }
        catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException)
        {
            // The client or the session went away.
        }
        finally
        {
            stream.Dispose();
        }
    }
}
