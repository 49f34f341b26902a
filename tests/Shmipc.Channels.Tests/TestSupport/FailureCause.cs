using System.Threading.Channels;
using Xunit;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// The cause a failed operation reports. A session that failed shows it in two shapes, depending on where the operation
/// was: one that met the failure itself throws the cause (for example <see cref="ShmipcErrorCode.PeerClosed"/>); one
/// refused afterwards because the session is closed throws <see cref="ShmipcErrorCode.SessionClosed"/> carrying the
/// close reason inside and repeating it in its message.
/// </summary>
public static class FailureCause
{
    /// <summary>
    /// The <see cref="ShmipcException"/> of <paramref name="failure"/> (itself or inside a closed channel's exception);
    /// for <see cref="ShmipcErrorCode.SessionClosed"/>, the session's close reason it carries.
    /// </summary>
    public static ShmipcException Of(Exception failure)
    {
        var error = failure switch
        {
            ShmipcException e => e,
            ChannelClosedException { InnerException: ShmipcException e } => e,
            _ => throw new Xunit.Sdk.XunitException($"the operation ended with {failure.GetType().Name} rather than a ShmipcException: {failure}"),
        };
        if (error is { ErrorCode: ShmipcErrorCode.SessionClosed, InnerException: ShmipcException reason })
        {
            Assert.Contains(reason.Message, error.Message, StringComparison.Ordinal);
            return reason;
        }

        return error;
    }
}
