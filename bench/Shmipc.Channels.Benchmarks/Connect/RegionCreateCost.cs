using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.Connect;

/// <summary>
/// <c>connect-cost --breakdown</c>: where a client's region creation spends its time, per step, without a server:
/// memfd_create + ftruncate (+ fallocate) + mmap, then <c>BufferManager.Create</c> (writes every slice header, so every
/// page holding a header faults in), with and without the fallocate reservation.
/// </summary>
internal static unsafe class RegionCreateCost
{
    public static void Run(long size, int iterations)
    {
        (uint, uint)[] classes = [(8192, 50), (32 * 1024, 30), (128 * 1024, 20)];
        foreach (var reserve in new[] { true, false })
        {
            var create = new List<double>();
            var layout = new List<double>();
            for (var i = 0; i < iterations + 2; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var region = SharedRegion.CreateMemFd("shmipc-connect-cost", size, reserve);
                var t1 = Stopwatch.GetTimestamp();
                _ = BufferManager.Create(region.Base, region.Length, classes);
                var t2 = Stopwatch.GetTimestamp();
                if (i >= 2)
                {
                    create.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                    layout.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                }
            }

            create.Sort();
            layout.Sort();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{(reserve ? "fallocate   " : "no fallocate")}: create+map median {create[create.Count / 2]:0.00} ms, BufferManager.Create median {layout[layout.Count / 2]:0.00} ms ({iterations} regions of {size / (1024 * 1024)} MiB)"));
        }
    }
}
