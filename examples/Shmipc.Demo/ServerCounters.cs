namespace Shmipc.Demo;

/// <summary>What the server process handled; printed on its way out.</summary>
// Design: updated from many stream and connection tasks at once, so every field moves by Interlocked; read once at
// the end, after those tasks finished.
internal sealed class ServerCounters
{
    private long _sessions;
    private long _streams;
    private long _messages;
    private long _fallbackReads;
    private long _socketConnections;
    private long _socketMessages;

    public void SessionAccepted() => Interlocked.Increment(ref _sessions);

    public void StreamAccepted() => Interlocked.Increment(ref _streams);

    public void MessageAnswered() => Interlocked.Increment(ref _messages);

    public void SessionEnded(long fallbackReads) => Interlocked.Add(ref _fallbackReads, fallbackReads);

    public void SocketAccepted() => Interlocked.Increment(ref _socketConnections);

    public void SocketMessageAnswered() => Interlocked.Increment(ref _socketMessages);

    public override string ToString() =>
        $"server: {Interlocked.Read(ref _sessions)} shmipc session(s), {Interlocked.Read(ref _streams)} streams, " +
        $"{Interlocked.Read(ref _messages)} messages answered ({Interlocked.Read(ref _fallbackReads)} over the socket fallback); " +
        $"{Interlocked.Read(ref _socketConnections)} Unix-socket connection(s), {Interlocked.Read(ref _socketMessages)} messages answered";
}
