using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Memory;

/// <summary>Throw helpers of the shared-memory layer: keep the throw sites out of the hot paths.</summary>
internal static class MemoryThrowHelper
{
    /// <summary>Shared memory written by the peer (or damaged) is not a valid shmipc structure.</summary>
    [DoesNotReturn]
    public static void ThrowCorrupt(string message) => throw CreateCorrupt(message);

    /// <summary>A configuration that cannot be laid out.</summary>
    [DoesNotReturn]
    public static void ThrowInvalidConfiguration(string message) =>
        throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, message);

    /// <summary>Creates the corrupt-shared-memory exception.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ShmipcException CreateCorrupt(string message) =>
        new(ShmipcErrorCode.CorruptSharedMemory, message);
}
