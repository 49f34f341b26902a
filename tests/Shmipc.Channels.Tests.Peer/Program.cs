namespace Shmipc.Channels.Tests.Peer;

/// <summary>Entry point: one verb per role the cross-process tests need. Lines on stdout are the protocol with the test.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            var parsed = PeerArguments.Parse(args);
            return parsed.Verb switch
            {
                "serve" => await EchoServer.RunAsync(parsed),
                "hot-serve" => await HotRestartServer.RunAsync(parsed),
                "connect" => await EchoClient.RunAsync(parsed),
                "hostile-garbage" => HostileGarbage.Run(parsed),
                "hostile-offsets" => HostileOffsets.Run(parsed),
                "crash-midway" => await CrashMidway.RunAsync(parsed),
                "announce" => AnnounceFiles.Run(parsed),
                "stall" => await Stall.RunAsync(parsed),
                "flood" => await Flood.RunAsync(parsed),
                "wait-writer" => await WaitWriter.RunAsync(parsed),
                "shrink" => ShrinkClient.Run(parsed),
                "hostile-truncate-server" => TruncatingServer.Run(parsed),
                "sigbus-unguarded" => SigbusUnguarded.Run(),
                "handshake-hang" => HandshakeHang.Run(parsed),
                _ => throw new ArgumentException($"unknown verb '{parsed.Verb}'"),
            };
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"FATAL {e}");
            return 1;
        }
    }
}
