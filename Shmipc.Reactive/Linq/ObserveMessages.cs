using System.Threading.Channels;
using Shmipc.Channels;
using Shmipc.Reactive.Internal;

namespace Shmipc.Reactive.Linq;

/// <summary>
/// A stream written by a <see cref="ShmipcStreamObserver{T}"/> → <c>IObservable&lt;T&gt;</c>: reads the envelope
/// (<see cref="Envelope"/>), decodes items with the codec, grants credits as the observer consumes them, and owns the
/// stream: when the sequence ends or the subscription is disposed, it closes the stream.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal static class ObserveMessages<T>
{
    internal sealed class Producer : IObservable<T>
    {
        private readonly ShmipcStream _stream;
        private readonly IShmipcCodec<T> _codec;
        private readonly int _prefetch;

        public Producer(ShmipcStream stream, IShmipcCodec<T> codec, int prefetch)
        {
            _stream = stream;
            _codec = codec;
            _prefetch = prefetch;
        }

        public IDisposable Subscribe(IObserver<T> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var sink = new _(observer, this);
            sink.Run();
            return sink;
        }

        // Design:
        // - One loop (RunAsync) does everything: reads Input, calls the observer, writes credits and the Cancel. Output
        //   is therefore written by one party only. Dispose just stops the sink and cancels the loop's waits.
        // - Each item's lease is decoded and disposed before OnNext, so a slow observer holds no shared memory; the
        //   credit for it is granted after OnNext returns, so a slow observer slows the writer.
        // - _received counts items against _granted: a writer sending beyond its credits breaks the protocol.
        // - After the loop (completed, failed, or disposed) the teardown releases whatever still arrives until the
        //   writer's last word (Completed/Error) and then closes the stream; see Envelope for why the observer closes.
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "Rx's sink naming.")]
        private sealed class _ : Sink<T>
        {
            private readonly Producer _parent;
            private Task? _loop;
            private readonly int _creditBatch;
            private long _granted;
            private long _received;
            private int _consumed;
            private bool _writerDone;

            public _(IObserver<T> observer, Producer parent)
                : base(observer)
            {
                _parent = parent;
                _creditBatch = Math.Max(1, parent._prefetch / 2);
            }

            private ShmipcStream Stream => _parent._stream;

            public void Run() => _loop = RunAsync();

            private async Task RunAsync()
            {
                var input = Stream.Input;
                var token = StopToken;
                try
                {
                    await GrantAsync(_parent._prefetch, token).ConfigureAwait(false);

                    // Nothing is delivered inside Subscribe (see ThreadPoolHop.Always).
                    await ThreadPoolHop.Always;
                    while (true)
                    {
                        while (!IsStopped && input.TryRead(out var lease))
                        {
                            Handle(lease);
                            if (_consumed >= _creditBatch && !IsStopped)
                            {
                                var n = _consumed;
                                _consumed = 0;
                                await GrantAsync(n, token).ConfigureAwait(false);
                            }
                        }

                        if (IsStopped)
                        {
                            break;
                        }

                        if (!await input.WaitToReadAsync(token).ConfigureAwait(false))
                        {
                            // The writer closed without Completed/Error: the sequence was cut short.
                            _writerDone = true;
                            ForwardOnError(ThrowHelper.CreateClosedBeforeCompletion(Stream));
                            break;
                        }

                        await ThreadPoolHop.IfNeeded;
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Disposed (or terminated while granting): the teardown below tells the writer.
                }
                catch (Exception e)
                {
                    // The session failed (Input says why), or a credit could not be written in time.
                    ForwardOnError(ThrowHelper.Unwrap(e));
                }

                await TeardownAsync().ConfigureAwait(false);
            }

            /// <summary>Handles one message and disposes its lease.</summary>
            private void Handle(ShmLease lease)
            {
                T value;
                try
                {
                    var data = lease.Data;
                    if (!Envelope.TryReadTag(data, out var tag))
                    {
                        Fail("an empty message is not a Shmipc.Reactive envelope.");
                        return;
                    }

                    switch (tag)
                    {
                        case EnvelopeTag.Item:
                            if (++_received > _granted)
                            {
                                Fail($"the writer sent item {_received} with only {_granted} credits granted.");
                                return;
                            }

                            try
                            {
                                value = _parent._codec.Decode(data.Slice(1));
                            }
                            catch (Exception e)
                            {
                                ForwardOnError(ThrowHelper.CreateDecodeFailed(Stream, _received, _parent._codec, typeof(T), e));
                                return;
                            }

                            break;
                        case EnvelopeTag.Open:
                            var version = Envelope.ReadVersion(data);
                            if (version != Envelope.Version)
                            {
                                Fail($"the writer speaks envelope version {version}; this side speaks {Envelope.Version}.");
                            }

                            return;
                        case EnvelopeTag.Completed:
                            _writerDone = true;
                            ForwardOnCompleted();
                            return;
                        case EnvelopeTag.Error:
                            _writerDone = true;
                            ForwardOnError(ThrowHelper.CreateAborted(Stream, Envelope.ReadReason(data)));
                            return;
                        case EnvelopeTag.Name:
                            // The opener's name, left on the stream by an accept that did not ask for it.
                            return;
                        case EnvelopeTag.Credit:
                        case EnvelopeTag.Cancel:
                            Fail("the other side is observing this stream too; a stream carries one sequence in one direction (use one stream per direction).");
                            return;
                        default:
                            Fail($"unknown envelope tag {(byte)tag}.");
                            return;
                    }
                }
                finally
                {
                    lease.Dispose();
                }

                // The lease is gone: the observer may take its time.
                _consumed++;
                TryForwardOnNext(value);
            }

            private void Fail(string detail) => ForwardOnError(ThrowHelper.CreateProtocolViolation(Stream, detail));

            private async ValueTask GrantAsync(int credits, CancellationToken token)
            {
                _granted += credits;
                try
                {
                    await Envelope.WriteControlAsync(Stream, EnvelopeTag.Credit, (uint)credits, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ChannelClosedException or ShmipcException { ErrorCode: ShmipcErrorCode.SessionClosed or ShmipcErrorCode.StreamClosed })
                {
                    // The writer already closed, or the session failed: Input tells which, in order.
                }
            }

            /// <summary>
            /// Tells the writer to stop (unless it already said its last word), releases every message that still
            /// arrives until it has, then closes the stream. Runs without a token: it must finish to leave no lease.
            /// </summary>
            private async Task TeardownAsync()
            {
                var input = Stream.Input;
                try
                {
                    if (!_writerDone)
                    {
                        try
                        {
                            await Envelope.WriteControlAsync(Stream, EnvelopeTag.Cancel, 0, CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is ChannelClosedException or ShmipcException)
                        {
                            // Closed meanwhile: the drain below ends at once.
                        }

                        while (!_writerDone && await input.WaitToReadAsync().ConfigureAwait(false))
                        {
                            while (!_writerDone && input.TryRead(out var lease))
                            {
                                _writerDone = Envelope.TryReadTag(lease.Data, out var tag) && tag is EnvelopeTag.Completed or EnvelopeTag.Error;
                                lease.Dispose();
                            }
                        }
                    }
                }
                catch (Exception e) when (e is ChannelClosedException or ShmipcException)
                {
                    // The session failed: the core recycled what was unread.
                }
                finally
                {
                    // Close towards the writer (it waits for this to forget the stream) and drop anything unread.
                    Stream.Dispose();
                }
            }
        }
    }
}
