using System.Runtime.CompilerServices;
using Shmipc.Channels;

namespace Shmipc.Reactive.Internal;

/// <summary>
/// <see cref="ShmipcObservable.AcceptStreamAsync"/>: hands out a session's incoming streams by the name their opener
/// gave them (<see cref="ShmipcObservable.OpenStream"/>), whatever order they arrive in. One router per session, made
/// on first use; from then on it is the only reader of the session's <see cref="ShmipcSession.IncomingStreams"/>.
/// </summary>
// Design: PumpAsync reads IncomingStreams; each stream is classified on its own (ClassifyAsync: wait for its first
// message, peek it, take it off if it is a Name), so one slow stream never holds back another. Classified streams and
// callers meet under _gate: a stream with no caller waiting for its name waits in _ready (per name, in arrival
// order); a caller with no stream waits in _waiters (per name, in call order). A cancelled caller removes its waiter
// under _gate; a stream handed to a waiter that was cancelled meanwhile goes back to the front of _ready. When the
// session's IncomingStreams ends, every waiter and later caller fails with the reason (_failure).
internal sealed class NamedStreamRouter
{
    private static readonly ConditionalWeakTable<ShmipcSession, NamedStreamRouter> s_routers = [];

    private readonly ShmipcSession _session;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedList<ShmipcStream>> _ready = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<ShmipcStream>>> _waiters = new(StringComparer.Ordinal);
    private Exception? _failure;

    private NamedStreamRouter(ShmipcSession session)
    {
        _session = session;
        _ = PumpAsync();
    }

    public static NamedStreamRouter For(ShmipcSession session) => s_routers.GetValue(session, static s => new NamedStreamRouter(s));

    public async ValueTask<ShmipcStream> AcceptAsync(string name, CancellationToken cancellationToken)
    {
        TaskCompletionSource<ShmipcStream> waiter;
        LinkedListNode<TaskCompletionSource<ShmipcStream>> node;
        lock (_gate)
        {
            if (_ready.TryGetValue(name, out var streams) && streams.First is { } first)
            {
                streams.RemoveFirst();
                return first.Value;
            }

            if (_failure is not null)
            {
                throw _failure;
            }

            waiter = new TaskCompletionSource<ShmipcStream>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = List(_waiters, name).AddLast(waiter);
        }

        try
        {
            return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    node.List.Remove(node);
                }
                else if (waiter.Task.IsCompletedSuccessfully)
                {
                    // The stream arrived as the wait was cancelled: the next caller for this name gets it.
                    List(_ready, name).AddFirst(waiter.Task.Result);
                }
            }

            throw;
        }
    }

    private static LinkedList<TValue> List<TValue>(Dictionary<string, LinkedList<TValue>> lists, string name)
    {
        if (!lists.TryGetValue(name, out var list))
        {
            list = new LinkedList<TValue>();
            lists.Add(name, list);
        }

        return list;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Whatever ends the session's stream of streams is the reason every waiter gets.")]
    private async Task PumpAsync()
    {
        Exception failure;
        try
        {
            var incoming = _session.IncomingStreams;
            while (await incoming.WaitToReadAsync().ConfigureAwait(false))
            {
                while (incoming.TryRead(out var stream))
                {
                    _ = ClassifyAsync(stream);
                }
            }

            failure = new ShmipcException(ShmipcErrorCode.SessionClosed, $"session {_session.Name} is closed: no more streams arrive.");
        }
        catch (Exception e)
        {
            failure = ThrowHelper.Unwrap(e);
        }

        List<TaskCompletionSource<ShmipcStream>> waiters;
        lock (_gate)
        {
            _failure = failure;
            waiters = [.. _waiters.Values.SelectMany(w => w)];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetException(failure);
        }
    }

    /// <summary>Finds the stream's name (empty without a Name message) and hands the stream over.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A stream that fails before its first message is simply not handed out.")]
    private async Task ClassifyAsync(ShmipcStream stream)
    {
        var name = string.Empty;
        try
        {
            // A stream becomes visible with its first message, which may still be on its way into Input.
            if (await stream.Input.WaitToReadAsync().ConfigureAwait(false)
                && stream.Input.TryPeek(out var first)
                && Envelope.TryReadName(first.Data, out var named)
                && stream.Input.TryRead(out var taken))
            {
                taken.Dispose();
                name = named;
            }
        }
        catch (Exception)
        {
            // The session failed: the stream is dead, and every waiter learns why from the pump.
            stream.Dispose();
            return;
        }

        lock (_gate)
        {
            if (_waiters.TryGetValue(name, out var waiting) && waiting.First is { } node)
            {
                // Under the lock, so a waiter cancelled at this moment finds the stream in its task and puts it back
                // (its continuations run asynchronously, not here).
                waiting.RemoveFirst();
                node.Value.TrySetResult(stream);
            }
            else
            {
                List(_ready, name).AddLast(stream);
            }
        }
    }
}
