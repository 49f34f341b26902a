using System.Runtime.Versioning;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.CrossProcess;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Interop;

/// <summary>
/// Memory that a peer can truncate under our mapping. Sealed memfds (what Shmipc.NET creates) refuse the truncation;
/// unsealed memfds (shmipc-go's) and /dev/shm files are guarded: touching a page that was cut off reads zeros and
/// records a hit instead of killing the process with SIGBUS. Without the guard each of these tests ends the test
/// process.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SigbusGuardTests : IDisposable
{
    private static readonly string Prefix = $"shmipc-test-sigbus-{Environment.ProcessId}-";
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    private string ShmPath(string suffix) => $"/dev/shm/{Prefix}{_id}{suffix}";

    public void Dispose()
    {
        string[] leftovers = Directory.GetFiles("/dev/shm", $"{Prefix}{_id}*");
        foreach (string file in leftovers)
        {
            File.Delete(file);
        }

        Assert.Empty(leftovers);
    }

    /// <summary>
    /// The guard exists on Linux x64 only. Elsewhere (arm64) an unsealed region must say it is unguarded, and the
    /// test has nothing more it can check without crashing the test process.
    /// </summary>
    private bool GuardExistsHere()
    {
        if (SigbusGuard.IsSupported)
        {
            return true;
        }

        using var region = SharedRegion.CreateMemFd("shmipc" + ShmPath("_arm"), 8192, seal: false);
        Assert.False(region.IsGuarded);
        return false;
    }

    [Fact]
    public void CreateMemFd_IsSealedAgainstShrinkAndGrow_TruncationRefusedByKernel()
    {
        using var region = SharedRegion.CreateMemFd("shmipc" + ShmPath("_sealed"), 64 * 1024);
        Assert.True(region.IsSealed);
        Assert.False(region.IsGuarded);
        var seals = Native.GetSeals(region.FileDescriptor, region.Name);
        Assert.Equal(Native.F_SEAL_SHRINK | Native.F_SEAL_GROW | Native.F_SEAL_SEAL, seals);

        var shrink = Assert.Throws<ShmipcException>(() => Native.FTruncate(region.FileDescriptor, 0, region.Name));
        Assert.Equal(Native.Errno.EPERM, shrink.Errno);
        var grow = Assert.Throws<ShmipcException>(() => Native.FTruncate(region.FileDescriptor, 128 * 1024, region.Name));
        Assert.Equal(Native.Errno.EPERM, grow.Errno);

        // A receiver sees the seals and needs no guard.
        using var opened = SharedRegion.OpenFd(Native.Dup(region.FileDescriptor), "peer");
        Assert.True(opened.IsSealed);
        Assert.False(opened.IsGuarded);
    }

    [Fact]
    public unsafe void UnsealedMemFd_TruncatedToZero_ReadsZerosRecordsHitAndKeepsProcessAlive()
    {
        if (!GuardExistsHere())
        {
            return;
        }
        using var created = SharedRegion.CreateMemFd("shmipc" + ShmPath("_go"), 64 * 1024, seal: false);
        using var opened = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "go peer");
        Assert.False(opened.IsSealed);
        Assert.True(opened.IsGuarded);
        Assert.True(created.IsGuarded);
        opened.GetSpan(0, 64 * 1024).Fill(0xAB);
        Assert.False(opened.WasTruncated);
        var before = SigbusGuard.TotalHits;

        Native.FTruncate(created.FileDescriptor, 0, created.Name);

        // Every page now lies beyond the end of the file: each read would be a SIGBUS.
        var page = Environment.SystemPageSize;
        for (var offset = 0; offset < 64 * 1024; offset += page)
        {
            Assert.Equal(0, opened.Base[offset + 17]);
        }

        Assert.True(opened.WasTruncated);
        Assert.False(created.WasTruncated);
        Assert.Equal(64 * 1024 / page, SigbusGuard.TotalHits - before);
        Assert.Equal(0, opened.CurrentSize());

        // Writes land in the private zero page and are read back; the peer's file stays empty.
        opened.Base[5] = 42;
        Assert.Equal(42, opened.Base[5]);
        Assert.Equal(0, created.CurrentSize());
    }

    [Fact]
    public unsafe void UnsealedMemFd_PartlyTruncated_KeepsBytesBeforeTheCut()
    {
        if (!GuardExistsHere())
        {
            return;
        }
        var page = Environment.SystemPageSize;
        using var created = SharedRegion.CreateMemFd("shmipc" + ShmPath("_half"), 4L * page, seal: false);
        using var opened = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "go peer");
        opened.GetSpan(0, 4 * page).Fill(0x5A);

        Native.FTruncate(created.FileDescriptor, 2L * page, created.Name);

        Assert.Equal(0x5A, opened.Base[(2 * page) - 1]);
        Assert.False(opened.WasTruncated);
        Assert.Equal(0, opened.Base[(3 * page) + 1]);
        Assert.True(opened.WasTruncated);
        Assert.Equal(0x5A, opened.Base[page]);
    }

    [Fact]
    public unsafe void DevShmFile_TruncatedByItsCreator_PeerMappingReadsZeros()
    {
        if (!GuardExistsHere())
        {
            return;
        }
        var path = ShmPath("_file");
        using var created = SharedRegion.CreateFile(path, 32 * 1024);
        using var opened = SharedRegion.OpenFile(path);
        Assert.True(created.IsGuarded);
        Assert.True(opened.IsGuarded);
        Assert.False(opened.IsSealed);
        opened.GetSpan(0, 32 * 1024).Fill(1);

        Native.FTruncate(created.FileDescriptor, 0, path);

        Assert.Equal(0, opened.GetSpan(16 * 1024, 1)[0]);
        Assert.True(opened.WasTruncated);

        // And in the other direction: the creator's own mapping is guarded too (a server may truncate a client's file).
        Assert.Equal(0, created.Base[100]);
        Assert.True(created.WasTruncated);
    }

    [Fact]
    public unsafe void Dispose_UnregistersTheRange_AndANewRegionStartsWithoutHits()
    {
        if (!GuardExistsHere())
        {
            return;
        }
        var registered = SigbusGuard.RegisteredCount;
        using (var region = SharedRegion.CreateMemFd("shmipc" + ShmPath("_a"), 8192, seal: false))
        {
            Assert.Equal(registered + 1, SigbusGuard.RegisteredCount);
            Native.FTruncate(region.FileDescriptor, 0, region.Name);
            Assert.Equal(0, region.Base[0]);
            Assert.True(region.WasTruncated);
        }

        Assert.Equal(registered, SigbusGuard.RegisteredCount);

        // The freed slot is reused with a fresh hit counter.
        using var next = SharedRegion.CreateMemFd("shmipc" + ShmPath("_b"), 8192, seal: false);
        Assert.True(next.IsGuarded);
        Assert.False(next.WasTruncated);
    }

    [Fact]
    public void OpenFd_MemFdShrunkBeforeMapping_IsMappedAtItsNewSize()
    {
        using var created = SharedRegion.CreateMemFd("shmipc" + ShmPath("_pre"), 64 * 1024, seal: false);
        Native.FTruncate(created.FileDescriptor, 8192, created.Name);
        using var opened = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "go peer");
        Assert.Equal(8192, opened.Length);
    }

    [Fact]
    public async Task FaultOutsideEveryGuardedRange_StillReachesTheRuntime()
    {
        if (!GuardExistsHere())
        {
            return;
        }

        // In a child process: the fault there is fatal, as it must be for memory nobody asked to guard.
        await using var peer = PeerProcess.Start("sigbus-unguarded", null, "sigbus-unguarded", "-");
        await peer.WaitForLineAsync("GUARD-INSTALLED True True", CrossProcessFixture.Timeout);
        await peer.WaitForLineAsync("TOUCHING", CrossProcessFixture.Timeout);
        var exit = await peer.WaitForExitAsync(CrossProcessFixture.Timeout);
        Assert.Equal(134, exit); // the runtime's fatal AccessViolationException (SIGABRT)
        Assert.Contains(peer.ErrorLines, l => l.Contains("AccessViolationException", StringComparison.Ordinal));
        Assert.DoesNotContain(peer.OutputLines, l => l.StartsWith("SURVIVED", StringComparison.Ordinal));
    }
}
