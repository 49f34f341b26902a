using System.Runtime.Versioning;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Options;

/// <summary>The listener's socket file gets the mode asked for, whatever the umask.</summary>
[SupportedOSPlatform("linux")]
public sealed class SocketFileModeTests
{
    [Fact]
    public async Task Bind_Default_SocketFileIsOwnerOnly()
    {
        using var socket = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(socket.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket.Path));
    }

    [Fact]
    public async Task Bind_GroupMode_SocketFileLetsTheGroupConnect()
    {
        using var socket = new TempSocketPath();
        var group = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        await using var listener = ShmipcListener.Bind(socket.Path, new ShmipcServerOptions { SocketFileMode = group });
        Assert.Equal(group, File.GetUnixFileMode(socket.Path));
    }

    [Fact]
    public void Validate_ModeWithoutOwnerWrite_IsRefused()
    {
        var options = new ShmipcServerOptions { SocketFileMode = UnixFileMode.UserRead };
        var error = Assert.Throws<ShmipcException>(options.Validate);
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, error.ErrorCode);
    }
}
