using System.Runtime.Versioning;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.Pool;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// The listener engine's live set (what a hot restart and the listener's disposal walk) holds exactly the sessions
/// that have not ended, including those that end before the engine has added them.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ListenerEngineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Admit_SessionThatEndedBeforeItWasAdded_DoesNotStayLive()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);

        // The race, made deterministic: the session's end (and so its end callback) comes before the engine adds it,
        // as when a client hangs up right after the handshake and the reactor is faster than the handshake thread.
        await pair.Server.DisposeAsync();
        using var socket = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(socket.Path);
        listener.Engine.Admit(pair.Server.Engine);

        Assert.Equal(0, listener.Engine.LiveCount);
    }

    [Fact]
    public async Task ClientsThatHangUpRightAfterTheHandshake_LeaveNoLiveSession()
    {
        using var socket = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(socket.Path);
        for (var i = 0; i < 20; i++)
        {
            RawClient.Connect(socket.Path).Dispose();
        }

        await Messages.EventuallyAsync(
            () => listener.Sessions.Count == 20, Timeout, "every handshake to complete", () => $"{listener.Sessions.Count} sessions accepted");
        await Messages.EventuallyAsync(
            () => listener.Engine.LiveCount == 0, Timeout, "every session of a client that hung up to leave the live set",
            () => $"{listener.Engine.LiveCount} still live");
    }
}
