using System.Buffers;
using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Interop;

internal sealed partial class SocketFd
{
    /// <summary>Segments pinned per sendmsg call (plus the header): enough for a few hundred KiB of slices per call.</summary>
    private const int GatherBatch = 32;

    /// <summary>
    /// Sends <paramref name="header"/> followed by <paramref name="payload"/> before <paramref name="deadline"/>, with
    /// gathered sendmsg calls straight from the payload's memory (no copy into a frame buffer).
    /// </summary>
    /// <param name="header">The frame header (may be the whole frame when <paramref name="payload"/> is empty).</param>
    /// <param name="payload">The frame body: a lease's slices in shared memory or its heap array.</param>
    /// <param name="deadline">When to give up with <see cref="ShmipcErrorCode.Timeout"/>.</param>
    /// <param name="sent">Bytes sent so far; still correct when this throws, so the caller knows whether a frame was cut.</param>
    public unsafe void SendAll(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> payload, Deadline deadline, ref long sent)
    {
        if (payload.IsEmpty)
        {
            // A header-only frame (the wake-ups of the hot path): plain sends, no vector to set up.
            while (sent < header.Length)
            {
                int n = TrySend(header[(int)sent..]);
                if (n >= 0)
                {
                    sent += n;
                }
                else
                {
                    WaitFor(Interop.POLLOUT, deadline, "send", (int)sent, header.Length);
                }
            }

            return;
        }

        long total = header.Length + payload.Length;
        Interop.iovec* iov = stackalloc Interop.iovec[GatherBatch + 1];
        PinnedSegments pins = default;
        fixed (byte* h = header)
        {
            while (sent < total)
            {
                var count = 0;
                var pinned = 0;
                nint n;
                try
                {
                    // Rebuild the vector from where the last call stopped: skip what went out already.
                    long skip = sent;
                    if (skip < header.Length)
                    {
                        iov[count++] = new Interop.iovec { iov_base = h + skip, iov_len = (nuint)(header.Length - skip) };
                        skip = 0;
                    }
                    else
                    {
                        skip -= header.Length;
                    }

                    foreach (var segment in payload)
                    {
                        if (skip >= segment.Length)
                        {
                            skip -= segment.Length;
                            continue;
                        }

                        if (pinned == GatherBatch)
                        {
                            break;
                        }

                        pins[pinned] = segment.Pin();
                        iov[count++] = new Interop.iovec
                        {
                            iov_base = (byte*)pins[pinned].Pointer + skip,
                            iov_len = (nuint)(segment.Length - skip),
                        };
                        pinned++;
                        skip = 0;
                    }

                    var msg = new Interop.msghdr { msg_iov = iov, msg_iovlen = (nuint)count };
                    while ((n = Interop.Libc.sendmsg(_handle, &msg, Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT)) < 0)
                    {
                        if (!ShouldRetry(Interop.LastErrno, "sendmsg"))
                        {
                            break;
                        }
                    }
                }
                finally
                {
                    for (var i = 0; i < pinned; i++)
                    {
                        pins[i].Dispose();
                    }
                }

                if (n >= 0)
                {
                    sent += n;
                }
                else
                {
                    WaitFor(Interop.POLLOUT, deadline, "send", (int)Math.Min(sent, int.MaxValue), (int)Math.Min(total, int.MaxValue));
                }
            }
        }
    }

    /// <summary>The pins of one sendmsg call, on the stack (array segments pin with a GCHandle, shared memory for free).</summary>
    [InlineArray(GatherBatch)]
    private struct PinnedSegments
    {
        private MemoryHandle _element;
    }
}
