using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Benchmarks.Connect;

/// <summary>
/// <c>connect-cost --first-copy</c>: the first 4 MB copy into a peer's region that was sized with <c>ftruncate</c> alone
/// (as shmipc-go sizes it), mapped the way a server maps it (a second mapping of the same fd), with and without
/// <see cref="RegionPopulator"/> having run first. Each round uses a fresh region, so every copy is a first one; the
/// three variants alternate within a round so a loaded machine affects them alike.
/// </summary>
internal static unsafe class FirstCopyCost
{
    private const int CopyBytes = 4 * 1024 * 1024;

    public static void Run(long size, int rounds)
    {
        var source = new byte[CopyBytes];
        Random.Shared.NextBytes(source);
        string[] variants = ["ftruncate only", "madvise only", "read walk only", "populate (incl. walk)", "any, 2nd copy"];
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < 4; v++)
            {
                using var created = SharedRegion.CreateMemFd("shmipc-first-copy", size, reserve: false, seal: false);
                using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
                if (v == 1 && Native.Libc.madvise(peer.Base, (nuint)peer.Length, Native.MADV_POPULATE_WRITE) != 0)
                {
                    Console.Error.WriteLine("madvise failed");
                }

                if (v == 2)
                {
                    ReadWalk(peer);
                }

                if (v == 3 && !RegionPopulator.Populate(peer, 0, peer.Length))
                {
                    Console.Error.WriteLine("populate failed");
                }

                times[v].Add(Copy(source, peer));
                if (v == 3)
                {
                    times[4].Add(Copy(source, peer));
                }
            }
        }

        for (var v = 0; v < variants.Length; v++)
        {
            var t = times[v];
            t.Sort();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{variants[v],-22}: first 4 MB copy median {t[t.Count / 2]:0.000} ms, min {t[0]:0.000} ms ({rounds} regions of {size / (1024 * 1024)} MiB)"));
        }
    }

    private static void ReadWalk(SharedRegion region)
    {
        var sink = 0;
        for (long offset = 0; offset < region.Length; offset += Environment.SystemPageSize)
        {
            sink += Volatile.Read(ref region.Base[offset]);
        }

        GC.KeepAlive(sink);
    }

    private static double Copy(byte[] source, SharedRegion target)
    {
        var t0 = Stopwatch.GetTimestamp();
        source.CopyTo(target.GetSpan(0, CopyBytes));
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
}
