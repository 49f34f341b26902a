using System.Buffers;

namespace Shmipc.Channels.Memory;

/// <summary>
/// Heap byte arrays for socket frames and heap messages (fallback): small ones pooled, large ones not.
/// </summary>
/// <remarks>
/// <para>Design: <see cref="ArrayPool{T}.Shared"/> keeps every array it is given (per thread and per core, arrays up
/// to 1 GiB) until a gen-2 collection finds it unused for a minute or more, and with no allocation going on that may
/// never happen: one burst of large fallback messages pinned hundreds of MiB long after the sessions were gone.
/// Arrays up to <see cref="PooledLimit"/> come from the shared pool (what it holds stays small); larger ones are
/// allocated for the message and dropped afterwards, so the GC takes them back with the traffic that needed them.
/// Stateless, thread-safe.</para>
/// </remarks>
internal static class ByteArrays
{
    /// <summary>The largest array taken from and given back to the shared pool.</summary>
    public const int PooledLimit = 1024 * 1024;

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes (contents undefined).</summary>
    public static byte[] Rent(int minimumLength) =>
        minimumLength <= PooledLimit
            ? ArrayPool<byte>.Shared.Rent(minimumLength)
            : GC.AllocateUninitializedArray<byte>(minimumLength);

    /// <summary>Gives back an array from <see cref="Rent"/>: to the pool if it came from there, otherwise to the GC.</summary>
    public static void Return(byte[] array)
    {
        if (array.Length <= PooledLimit)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
