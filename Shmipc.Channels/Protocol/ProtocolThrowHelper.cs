using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// Throw helpers of the protocol layer: keeps the <c>throw</c> and the message formatting out of the
/// hot parsing paths so they stay small and inlinable.
/// </summary>
internal static class ProtocolThrowHelper
{
    [DoesNotReturn]
    public static void ThrowProtocolViolation(string message) => throw CreateProtocolViolation(message);

    [DoesNotReturn]
    public static void ThrowHandshakeFailed(string message, Exception? innerException = null) =>
        throw new ShmipcException(ShmipcErrorCode.HandshakeFailed, message, innerException);

    [DoesNotReturn]
    public static void ThrowProtocolVersion(string message) =>
        throw new ShmipcException(ShmipcErrorCode.ProtocolVersion, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateHandshakeFailed(string message) =>
        new(ShmipcErrorCode.HandshakeFailed, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateProtocolVersion(string message) =>
        new(ShmipcErrorCode.ProtocolVersion, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateProtocolViolation(string message) =>
        new(ShmipcErrorCode.ProtocolViolation, message);

    [DoesNotReturn]
    public static void ThrowDestinationTooSmall(int needed, int actual, string paramName = "destination") =>
        throw new ArgumentException($"The destination span has {actual} bytes; the frame needs {needed}.", paramName);
}
