using System.Collections.Concurrent;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>The peer's live sessions and streams, so stdin commands can name them.</summary>
// Design: two concurrent dictionaries, written by the accept/echo tasks and read by the command loop; no invariant
// spans both, so no lock is needed.
internal sealed class SessionTable
{
    private readonly ConcurrentDictionary<string, ShmipcSession> _sessions = new();
    private readonly ConcurrentDictionary<(string Session, uint Id), ShmipcStream> _streams = new();

    public IEnumerable<ShmipcSession> Sessions => _sessions.Values;

    /// <summary>Registers a session and reports on stdout when it ends, with the reason.</summary>
    public void Add(ShmipcSession session)
    {
        _sessions[session.Name] = session;
        Console.WriteLine($"SESSION {session.Name} v{session.ProtocolVersion}");
        _ = ReportEndAsync(session);
    }

    public void Add(ShmipcStream stream) => _streams[(stream.Session.Name, stream.Id)] = stream;

    public bool TryGetStream(string session, uint id, out ShmipcStream stream) =>
        _streams.TryGetValue((session, id), out stream!);

    public bool TryGetSession(string name, out ShmipcSession session) => _sessions.TryGetValue(name, out session!);

    private async Task ReportEndAsync(ShmipcSession session)
    {
        string reason;
        try
        {
            await session.Completion;
            reason = "ok";
        }
        catch (Exception e)
        {
            reason = StreamEcho.Describe(e);
        }

        _sessions.TryRemove(session.Name, out _);
        foreach (var key in _streams.Keys.Where(k => k.Session == session.Name))
        {
            _streams.TryRemove(key, out _);
        }

        Console.WriteLine($"SESSION-END {session.Name} {reason}");
    }
}
