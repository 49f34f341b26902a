using System.Diagnostics;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// The growable socket receive buffer of one session (§2.8): the reader fills it with
/// <see cref="GetWriteSpan"/> + <see cref="Advance"/>, the <see cref="FrameParser"/> reads <see cref="Readable"/>,
/// and handled frames are released with <see cref="Consume"/>.
/// </summary>
/// <remarks>
/// <para>Design: one array from <see cref="ByteArrays"/> (large ones are not pooled); readable bytes are <c>[_start, _end)</c>.
/// Not thread-safe: one reader owns it (the session's receive loop). Like Go's buffer it starts at 64 KiB, grows
/// by doubling when a frame does not fit, and goes back to the initial size once it is empty and larger than
/// <c>shrinkThreshold</c> (1 MiB; Go: 4 MiB), so one large FallbackData frame does not pin memory for the session's life.
/// Its size is bounded by what the reader asks for, which the <see cref="FrameParser"/> bounds by the maximum frame length.</para>
/// <para>Compaction (moving the readable bytes to the front) happens only inside <see cref="GetWriteSpan"/>, so
/// spans obtained from <see cref="Readable"/> stay valid until the next <see cref="GetWriteSpan"/> call.</para>
/// </remarks>
internal sealed class ReceiveBuffer : IDisposable
{
    public const int DefaultInitialCapacity = 64 * 1024;
    public const int DefaultShrinkThreshold = ByteArrays.PooledLimit;

    private readonly int _initialCapacity;
    private readonly int _shrinkThreshold;
    private byte[] _array;
    private int _start;
    private int _end;

    public ReceiveBuffer(int initialCapacity = DefaultInitialCapacity, int shrinkThreshold = DefaultShrinkThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, ProtocolConstants.HeaderSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(shrinkThreshold, initialCapacity);
        _initialCapacity = initialCapacity;
        _shrinkThreshold = shrinkThreshold;
        _array = ByteArrays.Rent(initialCapacity);
    }

    /// <summary>Size of the current array (it may be larger than asked for: the pool rounds up).</summary>
    public int Capacity => _array.Length;

    /// <summary>Number of received bytes not consumed yet.</summary>
    public int ReadableLength => _end - _start;

    /// <summary>The received, not yet consumed bytes.</summary>
    public ReadOnlySpan<byte> Readable
    {
        get
        {
            ObjectDisposedException.ThrowIf(_array.Length == 0, this);
            return _array.AsSpan(_start, _end - _start);
        }
    }

    /// <summary>
    /// Returns free space of at least <paramref name="minimumLength"/> bytes (at least 1) after the readable bytes,
    /// compacting or growing the array as needed. Write into it, then call <see cref="Advance"/>.
    /// </summary>
    public Span<byte> GetWriteSpan(int minimumLength = 1)
    {
        ObjectDisposedException.ThrowIf(_array.Length == 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        minimumLength = Math.Max(minimumLength, 1);
        if (_array.Length - _end < minimumLength)
        {
            MakeRoom(minimumLength);
        }

        return _array.AsSpan(_end);
    }

    /// <summary>Marks <paramref name="count"/> bytes written into the last <see cref="GetWriteSpan"/> span as received.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _array.Length - _end);
        _end += count;
    }

    /// <summary>Releases <paramref name="count"/> bytes from the front of <see cref="Readable"/>.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _end - _start);
        _start += count;
        if (_start == _end)
        {
            // Empty: restart at the front for free, and give back an array a large frame made us grow to.
            _start = 0;
            _end = 0;
            if (_array.Length > _shrinkThreshold)
            {
                byte[] old = _array;
                _array = ByteArrays.Rent(_initialCapacity);
                ByteArrays.Return(old);
            }
        }
    }

    public void Dispose()
    {
        byte[] array = _array;
        if (array.Length != 0)
        {
            _array = [];
            _start = 0;
            _end = 0;
            ByteArrays.Return(array);
        }
    }

    private void MakeRoom(int minimumLength)
    {
        int readable = _end - _start;
        if ((long)readable + minimumLength > Array.MaxLength)
        {
            throw new InsufficientMemoryException(
                $"receive buffer: {readable} buffered bytes + {minimumLength} more exceed the largest array");
        }

        int needed = readable + minimumLength;
        if (needed <= _array.Length)
        {
            // Compaction is enough. The bytes moved are one partial frame at most, since the parser consumes whole ones.
            _array.AsSpan(_start, readable).CopyTo(_array);
        }
        else
        {
            int newSize = (int)Math.Min(Math.Max((long)_array.Length * 2, needed), Array.MaxLength);
            byte[] bigger = ByteArrays.Rent(newSize);
            _array.AsSpan(_start, readable).CopyTo(bigger);
            ByteArrays.Return(_array);
            _array = bigger;
        }

        _start = 0;
        _end = readable;
        Debug.Assert(_array.Length - _end >= minimumLength, "MakeRoom must leave minimumLength free bytes");
    }
}
