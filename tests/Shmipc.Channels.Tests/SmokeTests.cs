using Shmipc.Channels;
using Xunit;

namespace Shmipc.Channels.Tests;

public class SmokeTests
{
    [Fact]
    public void Exception_carries_code()
    {
        var e = new ShmipcException(ShmipcErrorCode.QueueFull, "full");
        Assert.Equal(ShmipcErrorCode.QueueFull, e.ErrorCode);
    }
}
