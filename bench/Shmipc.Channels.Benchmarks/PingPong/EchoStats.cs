namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>What a pingpong server child verified (printed as its STATS line when it stops).</summary>
internal sealed class EchoStats
{
    private long _verified;
    private long _mismatches;
    private long _bytes;

    public long Verified => Volatile.Read(ref _verified);

    public long Mismatches => Volatile.Read(ref _mismatches);

    public long Bytes => Volatile.Read(ref _bytes);

    public void Ok(int length)
    {
        Interlocked.Increment(ref _verified);
        Interlocked.Add(ref _bytes, length);
    }

    public void Mismatch(string where, long length)
    {
        if (Interlocked.Increment(ref _mismatches) <= 5)
        {
            Console.Error.WriteLine($"pingpong-server: checksum mismatch on {where} ({length} bytes)");
        }
    }
}
