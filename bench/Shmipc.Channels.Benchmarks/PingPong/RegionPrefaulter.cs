using System.Runtime.InteropServices;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// Populates every page of a session's buffer region before measuring, so neither process takes a page fault on it
/// during the cells (through the internals the core exposes to this project).
/// </summary>
/// <remarks>
/// Why: the free lists are FIFO (shmipc's push-to-tail, pop-from-head), so a short run keeps landing on slices this
/// process has never touched, and each new 4 KiB page costs a page fault in each process. A 4 MB cell with a 0.2 s
/// warm-up measured p50 6.9 ms cold vs 2.5 ms once the region had been cycled through. A long-running service reaches
/// that warm state by itself; prefaulting measures it.
/// How: <c>madvise(MADV_POPULATE_WRITE)</c> (Linux 5.14+) allocates the tmpfs pages and maps them writable without
/// changing a byte (slices may be in use by the peer). Reading one byte per page is not enough since client memfd
/// regions are no longer fallocated: a read of a hole maps the shared zero page, and the first write still faults.
/// Then one byte of every page is read, which maps the now-existing pages into this process (and is all an older kernel
/// without MADV_POPULATE_WRITE gets).
/// </remarks>
internal static unsafe partial class RegionPrefaulter
{
    private const int MadvPopulateWrite = 23;

    /// <summary>Populates every page; returns the number of pages.</summary>
    public static long Touch(ShmipcSession session)
    {
        var region = session.Engine.Buffer.Region;
        var page = Environment.SystemPageSize;
        var start = region.Base;
        var pages = (region.Length + page - 1) / page;
        // Allocates the pages (client memfd regions are not fallocated). The read walk still runs after it: under shadow
        // paging (this machine's PVM hypervisor) a kernel-side populate leaves each page's first user-mode touch to fault,
        // measured as 5-11K instead of 16-24K round trips/s at 64 KB on one stream.
        _ = Madvise(start, (nuint)region.Length, MadvPopulateWrite);
        var sink = 0;
        for (long offset = 0; offset < region.Length; offset += page)
        {
            sink += Volatile.Read(ref start[offset]);
        }

        GC.KeepAlive(sink);
        return pages;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(byte* address, nuint length, int advice);
}
