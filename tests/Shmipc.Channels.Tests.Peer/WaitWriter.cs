using System.Diagnostics;
using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>wait-writer</c>: a client that writes <c>--count</c> patterned <c>--size</c>-byte messages (seed = index) on one
/// stream. Each time a write has to wait for room it prints <c>WAITING written=N</c>; when that write completes,
/// <c>RESUMED written=N+1 at=T</c> (T a <see cref="Stopwatch"/> timestamp: CLOCK_MONOTONIC, comparable across processes); at the end
/// <c>WRITER-DONE count=N</c>. Meanwhile stdin commands (<c>cpu</c>) are answered.
/// </summary>
internal static class WaitWriter
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        var table = new SessionTable();
        await using var session = await ShmipcClient.ConnectAsync(args.SocketPath, args.CreateClientOptions());
        table.Add(session);
        Console.WriteLine($"READY {session.Name} {args.Prefix}");
        var writing = WriteAsync(session, args);
        await new CommandLoop(table, open: null).RunAsync();
        await writing;
        return 0;
    }

    private static async Task WriteAsync(ShmipcSession session, PeerArguments args)
    {
        try
        {
            var stream = session.OpenStream();
            for (var i = 0; i < args.Count; i++)
            {
                var write = stream.WriteAsync(PayloadPattern.Create(args.Size, (uint)i));
                if (!write.IsCompleted)
                {
                    Console.WriteLine(FormattableString.Invariant($"WAITING written={i}"));
                    await write;
                    Console.WriteLine(FormattableString.Invariant($"RESUMED written={i + 1} at={Stopwatch.GetTimestamp()}"));
                    continue;
                }

                await write;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WRITER-DONE count={args.Count}"));
        }
        catch (Exception e)
        {
            Console.WriteLine($"WRITER-FAIL {StreamEcho.Describe(e.InnerException as ShmipcException ?? e)}");
        }
    }
}
