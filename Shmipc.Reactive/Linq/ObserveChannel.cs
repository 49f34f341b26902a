using System.Threading.Channels;
using Shmipc.Reactive.Internal;

namespace Shmipc.Reactive.Linq;

/// <summary>
/// <c>ChannelReader&lt;T&gt;</c> → <c>IObservable&lt;T&gt;</c>: a stream's leases (no envelope), a listener's sessions, a
/// session's incoming streams. Everything readable on a wake-up is delivered in one go: <c>TryRead</c> until empty,
/// then one <c>WaitToReadAsync</c>. No timer, no polling.
/// </summary>
/// <remarks>
/// One operator serves the three sources: they differ only in what "release" means for an item that was read but can no
/// longer be delivered (dispose a lease, close a session or a stream). Items still in the channel when the subscription
/// is disposed stay there for the next reader.
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
internal static class ObserveChannel<T>
{
    internal sealed class Producer : IObservable<T>
    {
        private readonly ChannelReader<T> _reader;
        private readonly Action<T>? _release;

        public Producer(ChannelReader<T> reader, Action<T>? release)
        {
            _reader = reader;
            _release = release;
        }

        public IDisposable Subscribe(IObserver<T> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var sink = new _(observer, this);
            sink.Run();
            return sink;
        }

        // Design: see Sink<T>. The loop is the only reader this sink has; Dispose only flips the sink and cancels the
        // wait, so it never blocks (it may be called from inside OnNext, e.g. by Take).
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "Rx's sink naming.")]
        private sealed class _ : Sink<T>
        {
            private readonly Producer _parent;
            private Task? _loop;

            public _(IObserver<T> observer, Producer parent)
                : base(observer) => _parent = parent;

            // Runs synchronously up to its first wait; nothing is delivered inside Subscribe (see ThreadPoolHop.Always).
            public void Run() => _loop = RunAsync();

            private async Task RunAsync()
            {
                var reader = _parent._reader;
                var token = StopToken;
                try
                {
                    var wait = reader.WaitToReadAsync(token);
                    if (wait.IsCompleted)
                    {
                        // Already readable (or done) while still inside Subscribe.
                        await ThreadPoolHop.Always;
                    }

                    while (true)
                    {
                        if (!await wait.ConfigureAwait(false))
                        {
                            ForwardOnCompleted();
                            return;
                        }

                        await ThreadPoolHop.IfNeeded;
                        while (!IsStopped && reader.TryRead(out var item))
                        {
                            if (!TryForwardOnNext(item))
                            {
                                _parent._release?.Invoke(item);
                            }
                        }

                        if (IsStopped)
                        {
                            return;
                        }

                        wait = reader.WaitToReadAsync(token);
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Disposed: stop quietly.
                }
                catch (Exception e)
                {
                    ForwardOnError(ThrowHelper.Unwrap(e));
                }
            }
        }
    }
}
