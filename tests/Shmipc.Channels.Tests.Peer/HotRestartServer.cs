using System.Diagnostics;
using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>hot-serve [--take-over]</c>: an echo server that can be hot-restarted away. Commands on stdin:
/// <list type="bullet">
/// <item><c>hot-restart EPOCH</c>: runs <see cref="ShmipcListener.HotRestartAsync"/>, answers <c>HOT-RESTARTED EPOCH ms=…</c>
/// (or <c>HOT-RESTART-FAIL …</c>), then waits until its sessions have had no active stream for 200 ms, answers
/// <c>DRAINED served=N ms=…</c> (messages echoed over its life; ms since the hot restart completed) and exits.</item>
/// <item><c>served</c>: answers <c>SERVED N</c>.</item>
/// </list>
/// </summary>
internal static class HotRestartServer
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);
    private static long s_served;

    public static async Task<int> RunAsync(PeerArguments args)
    {
        var table = new SessionTable();
        await using var listener = ShmipcListener.Bind(args.SocketPath, args.CreateServerOptions());
        var accepting = AcceptAsync(listener, table);
        Console.WriteLine($"READY {args.SocketPath} takeOver={args.TakeOver}");
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words is ["served"])
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SERVED {Interlocked.Read(ref s_served)}"));
            }
            else if (words is ["hot-restart", var epochText])
            {
                var epoch = ulong.Parse(epochText, CultureInfo.InvariantCulture);
                var watch = Stopwatch.StartNew();
                try
                {
                    await listener.HotRestartAsync(epoch);
                }
                catch (ShmipcException e)
                {
                    Console.WriteLine($"HOT-RESTART-FAIL {epoch} {StreamEcho.Describe(e)}");
                    continue;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HOT-RESTARTED {epoch} ms={watch.ElapsedMilliseconds}"));
                watch.Restart();
                await DrainAsync(table);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DRAINED served={Interlocked.Read(ref s_served)} ms={watch.ElapsedMilliseconds}"));
                break;
            }
            else
            {
                Console.WriteLine($"COMMAND-UNKNOWN {line}");
            }
        }

        await listener.DisposeAsync();
        await accepting;
        return 0;
    }

    /// <summary>Waits until no session has an active stream, and that stays so for <see cref="Quiet"/> (a request on its way lands meanwhile).</summary>
    private static async Task DrainAsync(SessionTable table)
    {
        var quietSince = Stopwatch.StartNew();
        while (quietSince.Elapsed < Quiet)
        {
            if (table.Sessions.Any(s => !s.IsClosed && s.ActiveStreamCount > 0))
            {
                quietSince.Restart();
            }

            await Task.Delay(5);
        }
    }

    private static async Task AcceptAsync(ShmipcListener listener, SessionTable table)
    {
        await foreach (var session in listener.Sessions.ReadAllAsync())
        {
            table.Add(session);
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
                    if (await StreamEcho.TryWriteCopyAsync(stream, message.Data))
                    {
                        Interlocked.Increment(ref s_served);
                    }
                }
            }
        }
        catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException)
        {
            Console.WriteLine($"STREAM-FAIL {stream.Session.Name} {stream.Id} {StreamEcho.Describe(e)}");
        }
        finally
        {
            stream.Dispose();
        }
    }
}
