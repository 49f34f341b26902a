using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

internal static class ProtocolAssert
{
    public static ShmipcException Throws(ShmipcErrorCode code, Action action, string? messagePart = null)
    {
        ShmipcException e = Assert.Throws<ShmipcException>(action);
        Assert.True(code == e.ErrorCode, $"expected {code}, got {e.ErrorCode}: {e.Message}");
        if (messagePart is not null)
        {
            Assert.True(e.Message.Contains(messagePart, StringComparison.Ordinal), $"message \"{e.Message}\" does not contain \"{messagePart}\"");
        }

        return e;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
