namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>crash-midway</c>: a client that writes an endless sequence of 64 KiB patterned messages on several streams and
/// says <c>INFLIGHT</c> once the sequence is well under way; the test then kills it with SIGKILL. Message
/// <c>n</c> of stream <c>s</c> is <see cref="PayloadPattern"/> with seed <see cref="PayloadPattern.SequenceSeed"/>(n, s).
/// </summary>
internal static class CrashMidway
{
    public const int MessageSize = 64 * 1024;
    private const int InFlightAfter = 16;

    public static async Task<int> RunAsync(PeerArguments args)
    {
        await using var session = await ShmipcClient.ConnectAsync(args.SocketPath, args.CreateClientOptions());
        Console.WriteLine($"READY {session.Name} {args.Prefix}");

        // stdin closing means the test is gone: do not write forever.
        _ = Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }

            Environment.Exit(3);
        });

        var streams = Enumerable.Range(0, args.Streams).Select(_ => session.OpenStream()).ToArray();
        var payload = new byte[MessageSize];
        for (uint sequence = 0; ; sequence++)
        {
            foreach (var stream in streams)
            {
                PayloadPattern.Fill(payload, PayloadPattern.SequenceSeed(sequence, stream.Id));
                await stream.WriteAsync(payload);
            }

            if (sequence == InFlightAfter)
            {
                Console.WriteLine($"INFLIGHT {session.Name} {string.Join(',', streams.Select(s => s.Id))}");
            }
        }
    }
}
