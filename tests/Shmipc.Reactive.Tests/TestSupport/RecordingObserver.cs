using System.Reactive;
using System.Reactive.Concurrency;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>
/// Records notifications with the clock of a virtual-time scheduler, and checks the Rx grammar as they come: no call
/// after a terminal one, no overlapping calls.
/// </summary>
public sealed class RecordingObserver<T> : IObserver<T>
{
    private readonly IScheduler _clock;
    private readonly Lock _lock = new();
    private readonly List<Recorded<T>> _messages = [];
    private readonly List<string> _violations = [];
    private int _inCall;
    private bool _terminated;

    public RecordingObserver(IScheduler clock) => _clock = clock;

    public Action<T>? OnNextHook { get; set; }

    public IReadOnlyList<Recorded<T>> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    public void OnNext(T value)
    {
        Record(Notification.CreateOnNext(value), terminal: false);
        OnNextHook?.Invoke(value);
    }

    public void OnError(Exception error) => Record(Notification.CreateOnError<T>(error), terminal: true);

    public void OnCompleted() => Record(Notification.CreateOnCompleted<T>(), terminal: true);

    private void Record(Notification<T> n, bool terminal)
    {
        if (Interlocked.Increment(ref _inCall) != 1)
        {
            lock (_lock)
            {
                _violations.Add($"overlapping call: {n}");
            }
        }

        lock (_lock)
        {
            if (_terminated)
            {
                _violations.Add($"{n} after a terminal notification");
            }

            _terminated |= terminal;
            _messages.Add(new Recorded<T>(_clock.Now.Ticks, n));
        }

        Interlocked.Decrement(ref _inCall);
    }
}
