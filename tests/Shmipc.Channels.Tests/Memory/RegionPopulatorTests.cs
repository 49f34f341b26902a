using Shmipc.Channels.Memory;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Memory;

/// <summary>
/// <see cref="RegionPopulator"/> on a region sized with ftruncate alone (as shmipc-go sizes it), mapped a second time
/// as a server maps a client's region.
/// </summary>
public class RegionPopulatorTests
{
    private const long Size = 8L * 1024 * 1024;
    private static readonly int Page = Environment.SystemPageSize;

    [Fact]
    public void Populate_allocates_every_page_of_an_ftruncated_region()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", Size, reserve: false, seal: false);
        using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        Assert.True(AllocatedBytes(created) < Size / 2, "the region should start as a hole");

        Assert.True(RegionPopulator.Populate(peer, 0, peer.Length));

        Assert.True(AllocatedBytes(created) >= Size, $"only {AllocatedBytes(created)} of {Size} bytes are allocated after the populate");
    }

    [Fact]
    public void Populate_keeps_what_the_peer_wrote_before_it()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", Size, reserve: false, seal: false);
        using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        for (long offset = 0; offset < Size; offset += 3 * Page)
        {
            created.GetSpan(offset, 8).Fill((byte)(offset / Page));
        }

        Assert.True(RegionPopulator.Populate(peer, 0, peer.Length));

        for (long offset = 0; offset < Size; offset += Page)
        {
            var expected = offset % (3 * Page) == 0 ? (byte)(offset / Page) : (byte)0;
            Assert.All(peer.GetSpan(offset, 8).ToArray(), b => Assert.Equal(expected, b));
            Assert.All(created.GetSpan(offset, 8).ToArray(), b => Assert.Equal(expected, b));
        }
    }

    [Fact]
    public async Task Populate_while_the_peer_writes_loses_none_of_its_writes()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", Size, reserve: false, seal: false);
        using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        var pages = (int)(Size / Page);
        using var stop = new CancellationTokenSource();

        // The "peer" keeps writing a rising counter into every page, in both mappings' shared pages, while we populate.
        var rounds = 0L;
        var writer = Task.Run(() =>
        {
            var round = 0L;
            do
            {
                round++;
                for (var p = 0; p < pages; p++)
                {
                    WriteCounter(created, p, round);
                }
            }
            while (!stop.IsCancellationRequested || round < 2);

            Volatile.Write(ref rounds, round);
        });

        for (var i = 0; i < 4; i++)
        {
            Assert.True(RegionPopulator.Populate(peer, 0, peer.Length));
        }

        stop.Cancel();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        var last = Volatile.Read(ref rounds);
        for (var p = 0; p < pages; p++)
        {
            Assert.Equal(last, ReadCounter(peer, p));
        }
    }

    [Fact]
    public void Populate_of_a_disposed_region_does_nothing()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", Size, reserve: false, seal: false);
        var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        peer.Dispose();

        Assert.False(RegionPopulator.Populate(peer, 0, peer.Length));
        Assert.True(AllocatedBytes(created) < Size / 2);
    }

    [Fact]
    public void Populate_of_pages_the_peer_truncated_fails_without_a_signal()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", Size, reserve: false, seal: false);
        using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        Native.FTruncate(created.FileDescriptor, Size / 2, created.Name);

        Assert.True(RegionPopulator.Populate(peer, 0, Size / 2));
        Assert.False(RegionPopulator.Populate(peer, Size / 2, Size / 2));
        Assert.False(peer.WasTruncated);
    }

    [Fact]
    public async Task Background_populate_covers_the_whole_region()
    {
        using var created = SharedRegion.CreateMemFd("shmipc-populate-test", 3 * RegionPopulator.ChunkBytes + Page, reserve: false, seal: false);
        using var peer = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");

        RegionPopulator.StartInBackground(peer);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (AllocatedBytes(created) < created.Length && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(AllocatedBytes(created) >= created.Length);
    }

    private static unsafe void WriteCounter(SharedRegion region, int page, long value) =>
        Volatile.Write(ref *(long*)(region.Base + ((long)page * Page)), value);

    private static unsafe long ReadCounter(SharedRegion region, int page) => Volatile.Read(ref *(long*)(region.Base + ((long)page * Page)));

    private static long AllocatedBytes(SharedRegion region) => (long)Native.FStat(region.FileDescriptor, region.Name).stx_blocks * 512;
}
