using Shmipc.Channels.Interop;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Interop;

public class ErrnoTests
{
    [Fact]
    public void Open_missing_file_gives_ENOENT_with_name_and_text()
    {
        string path = $"/dev/shm/shmipc-test-interop-{Environment.ProcessId}-missing";
        var e = Assert.Throws<ShmipcException>(() => Native.Open(path, Native.O_RDWR | Native.O_CLOEXEC, 0));
        Assert.Equal(ShmipcErrorCode.OperatingSystem, e.ErrorCode);
        Assert.Equal(2, e.Errno);
        Assert.Contains("ENOENT", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("No such file", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Native.Errno.EAGAIN, "EAGAIN")]
    [InlineData(Native.Errno.EMFILE, "EMFILE")]
    [InlineData(Native.Errno.EEXIST, "EEXIST")]
    [InlineData(Native.Errno.ENOSPC, "ENOSPC")]
    [InlineData(Native.Errno.ECONNREFUSED, "ECONNREFUSED")]
    [InlineData(4095, "errno 4095")]
    public void Errno_names(int errno, string name)
    {
        Assert.Equal(name, Native.Errno.GetName(errno));
        var e = Native.CreateException(errno, "call(x)", "advice");
        Assert.Equal(errno, e.Errno);
        Assert.StartsWith($"call(x) failed: {name} ({errno}): ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith(": advice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Platform_is_supported_here()
    {
        Assert.True(Native.IsSupported);
        Native.EnsureSupported();
    }

    [Fact]
    public void Deadline_infinite_and_expired()
    {
        Assert.Equal(-1, Deadline.FromTimeout(Timeout.InfiniteTimeSpan).RemainingMilliseconds);
        Assert.True(Deadline.FromTimeout(TimeSpan.Zero).HasExpired);
        Assert.InRange(Deadline.FromTimeout(TimeSpan.FromSeconds(10)).RemainingMilliseconds, 9_000, 10_000);
    }
}
