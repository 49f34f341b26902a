using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shmipc.Channels;

namespace Shmipc.Reactive.Internal;

/// <summary>Creates the exceptions of Shmipc.Reactive; every message names the stream it concerns.</summary>
internal static class ThrowHelper
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateAborted(ShmipcStream stream, string reason) =>
        new(ShmipcErrorCode.StreamAborted, $"{stream} was aborted by the writer on the other side: {reason}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateDecodeFailed(ShmipcStream stream, long index, object codec, Type type, Exception inner) =>
        new(ShmipcErrorCode.ProtocolViolation, $"{stream}: item {index} could not be decoded as {type.Name} by {codec.GetType().Name}: {inner.Message}", inner);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateProtocolViolation(ShmipcStream stream, string detail) =>
        new(ShmipcErrorCode.ProtocolViolation, $"{stream}: {detail}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateClosedBeforeCompletion(ShmipcStream stream) =>
        new(ShmipcErrorCode.StreamClosed, $"{stream} was closed by the peer before the sequence completed.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateUnsubscribed(ShmipcStream stream, long written, int pending) =>
        new(ShmipcErrorCode.StreamClosed, $"{stream}: the observer on the other side unsubscribed after {written} items; {pending} accepted items were not sent.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateObserverGone(ShmipcStream stream, long written) =>
        new(ShmipcErrorCode.StreamClosed, $"{stream} was closed by the other side after {written} items, before the sequence ended.");

    /// <summary>What a failed channel operation means: the inner exception of a <see cref="ChannelClosedException"/>.</summary>
    public static Exception Unwrap(Exception error) =>
        error is ChannelClosedException { InnerException: { } inner } ? inner : error;
}
