using System.Buffers;
using System.Threading.Channels;
using Shmipc.Channels;

namespace Shmipc.Examples.Greeter;

/// <summary>
/// Reads a stream's messages as a byte stream, exactly <c>count</c> bytes at a time, as shmipc-go's
/// <c>BufferReader().ReadBytes(count)</c> does: bytes left over in a message are kept for the next read.
/// </summary>
/// <remarks>
/// A Go peer flushes each string as one message, so one read normally consumes one whole lease; this still copes
/// with a peer that splits or merges writes.
/// </remarks>
internal sealed class ExactReader : IDisposable
{
    private readonly ChannelReader<ShmLease> _input;
    private ShmLease _current;
    private long _consumed;

    public ExactReader(ChannelReader<ShmLease> input) => _input = input;

    /// <summary>
    /// Returns the next <paramref name="count"/> bytes, or null when the peer closed the stream cleanly before the
    /// first of them.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer closed the stream in the middle of the bytes.</exception>
    public async ValueTask<byte[]?> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (!_current.IsValid)
            {
                if (!await _input.WaitToReadAsync(cancellationToken))
                {
                    return filled == 0 ? null : throw new EndOfStreamException($"the peer closed the stream after {filled} of {count} bytes.");
                }

                if (!_input.TryRead(out _current))
                {
                    continue;
                }

                _consumed = 0;
            }

            var available = _current.Data.Slice(_consumed);
            var n = (int)Math.Min(available.Length, count - filled);
            available.Slice(0, n).CopyTo(result.AsSpan(filled));
            filled += n;
            _consumed += n;
            if (_consumed == _current.Length)
            {
                // Done with this message: its slices go back to the shared free lists now.
                _current.Dispose();
                _current = default;
            }
        }

        return result;
    }

    public void Dispose()
    {
        _current.Dispose();
        _current = default;
    }
}
