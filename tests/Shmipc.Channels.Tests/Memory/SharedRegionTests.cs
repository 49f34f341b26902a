using System.Runtime.Versioning;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Memory;

[SupportedOSPlatform("linux")]
public sealed unsafe class SharedRegionTests : IDisposable
{
    private static readonly string Prefix = $"shmipc-test-interop-{Environment.ProcessId}-";
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    private string ShmPath(string suffix = "") => $"/dev/shm/{Prefix}{_id}{suffix}";

    /// <summary>After every test: nothing of this test may be left in /dev/shm.</summary>
    public void Dispose()
    {
        string[] leftovers = Directory.GetFiles("/dev/shm", $"{Prefix}{_id}*");
        foreach (string file in leftovers)
        {
            File.Delete(file);
        }

        Assert.Empty(leftovers);
    }

    [Fact]
    public void MemFd_and_dup_opened_region_share_bytes()
    {
        using var created = SharedRegion.CreateMemFd("shmipc" + ShmPath("_buffer"), 64 * 1024);
        Assert.Equal(64 * 1024, created.Length);
        Assert.Null(created.Path);
        Assert.True(created.IsOwner);
        Assert.False(created.DeleteOnDispose);
        Assert.Equal("shmipc" + ShmPath("_buffer"), created.Name);

        using var opened = SharedRegion.OpenFd(Native.Dup(created.FileDescriptor), "peer");
        Assert.Equal(created.Length, opened.Length);
        Assert.False(opened.IsOwner);
        Assert.Equal("peer", opened.Name);
        Assert.True(created.Base != opened.Base);

        created.GetSpan(64 * 1024 - 4, 4).Fill(0x5A);
        Assert.True(opened.GetSpan(64 * 1024 - 4, 4).SequenceEqual(new byte[] { 0x5A, 0x5A, 0x5A, 0x5A }));
        Assert.Equal(0, opened.GetSpan(0, 1)[0]);
    }

    [Fact]
    public void CreateFile_is_0600_exclusive_and_unlinked_on_dispose()
    {
        string path = ShmPath("_queue_0");
        using (var region = SharedRegion.CreateFile(path, 4096))
        {
            Assert.Equal(path, region.Path);
            Assert.True(region.IsOwner);
            Assert.True(region.DeleteOnDispose);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(4096, new FileInfo(path).Length);

            var e = Assert.Throws<ShmipcException>(() => SharedRegion.CreateFile(path, 4096));
            Assert.Equal(Native.Errno.EEXIST, e.Errno);
            Assert.Contains("EEXIST", e.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(path)); // a failed O_EXCL create must not remove the other's file

            using var peer = SharedRegion.OpenFile(path);
            Assert.False(peer.IsOwner);
            Assert.False(peer.DeleteOnDispose);
            peer.GetSpan(0, 3).Fill(7);
            Assert.Equal(7, region.Base[2]);
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void CreateFile_applies_mode_regardless_of_umask()
    {
        string path = ShmPath();
        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        using var region = SharedRegion.CreateFile(path, 4096, mode);
        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    [Fact]
    public void TryUnlink_once_and_keep_file_without_DeleteOnDispose()
    {
        string path = ShmPath();
        var region = SharedRegion.CreateFile(path, 4096);
        try
        {
            region.DeleteOnDispose = false;
            region.Dispose();
            Assert.True(File.Exists(path));

            using var peer = SharedRegion.OpenFile(path);
            Assert.True(peer.TryUnlink());
            Assert.False(peer.TryUnlink());
            Assert.False(File.Exists(path));
        }
        finally
        {
            region.Dispose();
            File.Delete(path);
        }
    }

    [Fact]
    public void TryUnlink_leaves_a_different_file_at_the_same_path()
    {
        string path = ShmPath();
        using var first = SharedRegion.CreateFile(path, 4096);
        File.Delete(path);
        using var second = SharedRegion.CreateFile(path, 4096);
        Assert.False(first.TryUnlink());
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void OpenFile_refuses_symlink_and_paths_outside_dev_shm()
    {
        string target = ShmPath("_target");
        string link = ShmPath("_link");
        using var region = SharedRegion.CreateFile(target, 4096);
        File.CreateSymbolicLink(link, target);
        try
        {
            var e = Assert.Throws<ShmipcException>(() => SharedRegion.OpenFile(link));
            Assert.Equal(Native.Errno.ELOOP, e.Errno);
            Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(link);
        }

        foreach (string bad in new[] { "/tmp/shmipc_x", "/dev/shm/../etc/passwd", "/dev/shm/sub/x", "/dev/shm/", "dev/shm/x", "/dev/shmx" })
        {
            var e = Assert.Throws<ShmipcException>(() => SharedRegion.OpenFile(bad));
            Assert.Equal(ShmipcErrorCode.HandshakeFailed, e.ErrorCode);
        }

        var missing = Assert.Throws<ShmipcException>(() => SharedRegion.OpenFile(ShmPath("_missing")));
        Assert.Equal(Native.Errno.ENOENT, missing.Errno);
    }

    [Fact]
    public void OpenFile_outside_dev_shm_when_allowed_but_only_regular_files()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory(Prefix);
        try
        {
            string path = Path.Combine(dir.FullName, "buffer");
            using var region = SharedRegion.CreateFile(path, 8192);
            using var opened = SharedRegion.OpenFile(path, allowOutsideDevShm: true);
            Assert.Equal(8192, opened.Length);

            var e = Assert.Throws<ShmipcException>(() => SharedRegion.OpenFile(dir.FullName, allowOutsideDevShm: true));
            Assert.Equal(Native.Errno.EISDIR, e.Errno);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void OpenFd_refuses_non_regular_and_closes_it()
    {
        var (a, b) = SocketFd.CreatePair();
        using (b)
        {
            SafeFdHandle fd = Native.Dup(a.Handle);
            a.Dispose();
            var e = Assert.Throws<ShmipcException>(() => SharedRegion.OpenFd(fd, "socket"));
            Assert.Equal(ShmipcErrorCode.HandshakeFailed, e.ErrorCode);
            Assert.True(fd.IsClosed);
        }
    }

    [Fact]
    public void Too_large_fails_at_creation_and_leaves_nothing()
    {
        string path = ShmPath("_huge");
        var e = Assert.Throws<ShmipcException>(() => SharedRegion.CreateFile(path, 1L << 40));
        Assert.Equal(ShmipcErrorCode.OperatingSystem, e.ErrorCode);
        Assert.Equal(Native.Errno.ENOSPC, e.Errno);
        Assert.Contains("fallocate", e.Message, StringComparison.Ordinal);
        Assert.Contains("/dev/shm", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));

        e = Assert.Throws<ShmipcException>(() => SharedRegion.CreateMemFd("shmipc-huge", 1L << 40));
        Assert.Equal(Native.Errno.ENOMEM, e.Errno);

        Assert.Throws<ShmipcException>(() => SharedRegion.CreateMemFd("shmipc-zero", 0));
        Assert.Throws<ShmipcException>(() => SharedRegion.CreateMemFd(new string('n', 250), 4096));
    }

    [Fact]
    public void GetSpan_bounds_and_dispose()
    {
        var region = SharedRegion.CreateMemFd("shmipc-test-bounds", 4096);
        Assert.Equal(4096, region.GetSpan(0, 4096).Length);
        Assert.Equal(0, region.GetSpan(4096, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(4095, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(long.MaxValue, 1));

        region.Dispose();
        region.Dispose();
        Assert.Throws<ObjectDisposedException>(() => (nint)region.Base);
        Assert.Throws<ObjectDisposedException>(() => region.GetSpan(0, 1).Length);
        Assert.True(region.FileDescriptor.IsClosed);
        Assert.True(region.Mapping.IsClosed);
    }

    [Theory]
    [InlineData("/dev/shm/shmipc_1_buffer", true)]
    [InlineData("/dev/shm/..", false)]
    [InlineData("/dev/shm/.", false)]
    [InlineData("/dev/shm//x", false)]
    [InlineData("/dev/shm", false)]
    public void IsDirectlyInDevShm(string path, bool expected) =>
        Assert.Equal(expected, SharedRegion.IsDirectlyInDevShm(path));
}
