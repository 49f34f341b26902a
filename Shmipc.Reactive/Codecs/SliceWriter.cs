using System.Buffers;

namespace Shmipc.Reactive.Codecs;

/// <summary>
/// Sits between a serializer and a lease: passes the lease's slices through when they are large enough, and serves a
/// larger contiguous request (<see cref="System.Text.Json.Utf8JsonWriter"/> asks for the worst-case escaped size of
/// a string, six bytes per char) from a pooled scratch buffer that is copied into the slice chain on
/// <see cref="Advance"/>.
/// </summary>
/// <remarks>
/// Without it, such a request is larger than any slice and the lease moves the whole message to the heap, so it
/// travels over the socket (shmipc fallback) — and the stream stays on the socket from then on. The copy happens only
/// for those requests; everything else is written in place.
/// </remarks>
// Design: one instance per thread (cached by the codec), used by one Encode at a time; Reset points it at the lease.
internal sealed class SliceWriter : IBufferWriter<byte>
{
    private IBufferWriter<byte>? _inner;
    private byte[]? _scratch;

    public void Reset(IBufferWriter<byte>? inner)
    {
        ReturnScratch();
        _inner = inner;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var inner = _inner ?? throw new InvalidOperationException("No message to write into.");
        ReturnScratch();

        // Without a hint the lease returns the rest of its slice, or a fresh slice: never the heap.
        var memory = inner.GetMemory();
        if (memory.Length >= Math.Max(sizeHint, 1))
        {
            return memory;
        }

        _scratch = ArrayPool<byte>.Shared.Rent(sizeHint);
        return _scratch;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        var inner = _inner ?? throw new InvalidOperationException("No message to write into.");
        if (_scratch is null)
        {
            inner.Advance(count);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _scratch.Length);
        inner.Write(_scratch.AsSpan(0, count));
        ReturnScratch();
    }

    private void ReturnScratch()
    {
        if (_scratch is { } s)
        {
            _scratch = null;
            ArrayPool<byte>.Shared.Return(s);
        }
    }
}
