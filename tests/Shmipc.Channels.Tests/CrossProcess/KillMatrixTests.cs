using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.Peer;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// SIGKILL of the peer process, for each role it plays (client of the test's listener, or server the test connects to),
/// at each moment that leaves different state behind, in both memory modes. In every case the test process survives
/// and: its pending reads, writes or handshake end with a <see cref="ShmipcException"/> naming the cause within 1 s;
/// the session's fds and shared-memory mappings are gone again (<see cref="SessionResources"/>); nothing of it is left
/// in /dev/shm; and it accepts or connects again, moving a message with every byte checked.
/// </summary>
/// <remarks>
/// Each case runs once in CI; <c>SHMIPC_MATRIX_ITERATIONS=N</c> runs each N times (for a local stress run). A kill
/// during a hot restart is not here yet: hot restart does not exist in this library so far.
/// </remarks>
[Collection(CrossProcessCollection.Name)]
public sealed class KillMatrixTests : IDisposable
{
    private const int Slice = 16 * 1024;
    private const int Region = 8 * 1024 * 1024;
    private const int QueueCapacity = 16;
    private const int HeldMessages = 8;
    private const int MessageSize = 64 * 1024;
    private const int FloodMessageSize = 256 * 1024;       // the peer's serve --mode flood
    private const int CrashMidwayMessageSize = 64 * 1024;  // the peer's crash-midway
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = CrossProcessFixture.Timeout;

    private readonly CrossProcessFixture _fixture;
    private readonly ITestOutputHelper _output;

    public KillMatrixTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Attach(output);
    }

    /// <summary>Which process the test kills; the test process plays the other role and must survive.</summary>
    public enum Role
    {
        /// <summary>The peer is a client of the test's listener (its region, the test maps it).</summary>
        ClientKilled,

        /// <summary>The peer is the server the test connects to (the test's region, the peer maps it).</summary>
        ServerKilled,
    }

    /// <summary>When the kill comes.</summary>
    public enum Moment
    {
        /// <summary>In the middle of the handshake (the server has not acknowledged the client's memory yet).</summary>
        Handshake,

        /// <summary>Two streams open, idle, a read pending on each.</summary>
        IdleStreamsOpen,

        /// <summary>The peer is writing chained messages (several slices each) without pause.</summary>
        MidChainedWrite,

        /// <summary>The peer reads and keeps the test's messages: their slices are held by the dead reader.</summary>
        LeasesHeldByReader,

        /// <summary>The peer stopped (SIGSTOP) and the test's writer waits on the full queue towards it.</summary>
        WriterWaitsOnFullQueue,
    }

    public static TheoryData<Role, Moment, MemoryMapType> Cases()
    {
        var cases = new TheoryData<Role, Moment, MemoryMapType>();
        foreach (var role in Enum.GetValues<Role>())
        {
            foreach (var moment in Enum.GetValues<Moment>())
            {
                cases.Add(role, moment, MemoryMapType.MemFd);
                cases.Add(role, moment, MemoryMapType.DevShmFile);
            }
        }

        return cases;
    }

    /// <summary>Iterations per case: 1, or <c>SHMIPC_MATRIX_ITERATIONS</c>.</summary>
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("SHMIPC_MATRIX_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SigKill_Peer_SurvivorFailsPendingWorkWithinOneSecondReleasesEverythingAndServesAgain(Role role, Moment moment, MemoryMapType mode)
    {
        // The shared listener and echo server exist before the baseline: they are not the session's resources.
        _ = _fixture.Listener;
        var echo = await _fixture.GetEchoServerAsync();
        for (var i = 0; i < Iterations; i++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var prefix = _fixture.NewPrefix($"kill{i}");
            await SettleAsync();
            var baseline = SessionResources.Capture();

            var delay = await KillAsync(role, moment, mode, prefix, cts.Token);
            _output.WriteLine($"iteration {i}: the survivor noticed within {delay.TotalMilliseconds:0.0} ms");

            await AssertReleasedAsync(baseline, prefix, "after the kill");
            await ServeAgainAsync(role, mode, prefix, echo, i, cts.Token);
            await AssertReleasedAsync(baseline, prefix, "after the survivor served again");
        }
    }

    public void Dispose() => _fixture.Detach();

    /// <summary>Runs one case up to the kill and the survivor's failure; returns the slowest detection.</summary>
    private async Task<TimeSpan> KillAsync(Role role, Moment moment, MemoryMapType mode, string prefix, CancellationToken cancellationToken)
    {
        var file = mode == MemoryMapType.MemFd ? "--memfd" : "--file";
        var layout = new[] { "--slice", Slice.ToString(CultureInfo.InvariantCulture), "--buffer", Region.ToString(CultureInfo.InvariantCulture), "--queue", QueueCapacity.ToString(CultureInfo.InvariantCulture) };
        var socket = Path.Combine(_fixture.Directory, $"kill-{Guid.NewGuid():N}.sock");
        var pending = new List<Task<(Exception Failure, long At)>>();
        ShmipcSession? session = null;
        PeerProcess peer;

        switch (role, moment)
        {
            case (Role.ClientKilled, Moment.Handshake):
                while (_fixture.Listener.HandshakeFailures.TryRead(out var stale))
                {
                    _output.WriteLine($"[matrix] an earlier handshake failure: {stale.Message}");
                }

                peer = _fixture.StartPeer("hang-client", "handshake-hang", _fixture.ListenerPath, "--kind", "client");
                await peer.WaitForLineAsync("HANDSHAKING", Timeout);
                pending.Add(Capture(async () => await _fixture.Listener.HandshakeFailures.ReadAsync(cancellationToken)));
                break;

            case (Role.ServerKilled, Moment.Handshake):
                peer = _fixture.StartPeer("hang-server", "handshake-hang", socket, "--kind", "server");
                await peer.WaitForLineAsync("READY ", Timeout);
                var connecting = Capture(async () =>
                {
                    // A v3 client waits for AckShareMemory; a file-mode client announces its files in one v2 frame that
                    // has no answer, so it is connected and its session fails instead.
                    await using var connected = await ShmipcClient.ConnectAsync(socket, Options(mode, prefix), cancellationToken);
                    Assert.Equal(MemoryMapType.DevShmFile, mode);
                    try
                    {
                        await connected.Completion.WaitAsync(Timeout, cancellationToken);
                        return new InvalidOperationException($"the session with a silent server ended without an error ({connected.Name})");
                    }
                    catch (ShmipcException e)
                    {
                        return e;
                    }
                });
                pending.Add(connecting);
                await peer.WaitForLineAsync("HANDSHAKING ", Timeout);
                if (mode == MemoryMapType.DevShmFile)
                {
                    // The client has created and announced its files: the kill must not leave them behind.
                    Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
                }

                break;

            case (Role.ClientKilled, Moment.MidChainedWrite):
            {
                peer = _fixture.StartPeer("crash-midway", ["crash-midway", _fixture.ListenerPath, file, "--prefix", prefix, "--streams", "2", .. layout]);
                var ready = await peer.WaitForLineAsync("READY ", Timeout);
                session = await _fixture.AcceptSessionAsync(ready.Split(' ')[1]);
                for (var s = 0; s < 2; s++)
                {
                    var stream = await session.AcceptStreamAsync(cancellationToken);
                    pending.Add(ReadUntilFailureAsync(stream, CrashMidwayVerifier(stream), cancellationToken));
                }

                await peer.WaitForLineAsync($"INFLIGHT {session.Name} ", Timeout);
                break;
            }

            case (Role.ServerKilled, Moment.MidChainedWrite):
            {
                peer = await StartServerAsync(socket, "flood");
                session = await ConnectAsync(socket, mode, prefix, cancellationToken);
                var stream = session.OpenStream();
                await Messages.WriteAsync(stream, 100, 1, cancellationToken);
                var flooded = 0;
                pending.Add(ReadUntilFailureAsync(stream, data => Messages.Verify(data, FloodMessageSize, stream.Id, $"flood message #{flooded++}"), cancellationToken));
                await peer.WaitForLineAsync($"FLOODING {session.Name} {stream.Id}", Timeout);
                break;
            }

            case (Role.ClientKilled, _):
            {
                var hold = moment == Moment.LeasesHeldByReader ? new[] { "--mode", "hold" } : [];
                var client = await _fixture.StartPeerClientWithPrefixAsync(mode, prefix, [.. layout, .. hold]);
                peer = client.Process;
                session = client.Session;
                var streams = await _fixture.OpenPeerStreamsAsync(client, moment == Moment.IdleStreamsOpen ? 2 : 1, cancellationToken);
                await SetUpMomentAsync(moment, peer, session, streams, pending, cancellationToken);
                break;
            }

            default:
            {
                peer = await StartServerAsync(socket, moment switch
                {
                    Moment.LeasesHeldByReader => "hold",
                    Moment.WriterWaitsOnFullQueue => "sink",
                    _ => "echo",
                });
                session = await ConnectAsync(socket, mode, prefix, cancellationToken);
                var streams = Enumerable.Range(0, moment == Moment.IdleStreamsOpen ? 2 : 1).Select(_ => session.OpenStream()).ToArray();
                await SetUpMomentAsync(moment, peer, session, streams, pending, cancellationToken);
                break;
            }
        }

        await using (peer)
        {
            Assert.All(pending, p => Assert.False(p.IsCompleted, $"a pending operation ended before the kill: {(p.IsCompletedSuccessfully ? p.Result.Failure.Message : p.Exception?.Message)}"));
            var kill = peer.KillNow();

            var slowest = TimeSpan.Zero;
            foreach (var operation in pending)
            {
                var (failure, at) = await operation.WaitAsync(Timeout, cancellationToken);
                var error = FailureCause.Of(failure);
                _output.WriteLine($"[matrix] {error.ErrorCode}: {error.Message}");
                if (moment == Moment.Handshake)
                {
                    Assert.True(error.ErrorCode is ShmipcErrorCode.HandshakeFailed or ShmipcErrorCode.PeerClosed, $"handshake ended with {error.ErrorCode}: {error.Message}");
                    Assert.Contains("closed", error.Message, StringComparison.OrdinalIgnoreCase);
                }
                else
                {
                    Assert.Equal(ShmipcErrorCode.PeerClosed, error.ErrorCode);
                }

                var delay = await kill.AssertWithinAsync(at, DetectionBound, "the survivor noticed");
                slowest = delay > slowest ? delay : slowest;
            }

            if (session is not null)
            {
                var completion = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(Timeout, cancellationToken));
                Assert.Equal(ShmipcErrorCode.PeerClosed, completion.ErrorCode);
                Assert.True(session.IsClosed);
                await Messages.EventuallyAsync(() => session.ActiveStreamCount == 0, Timeout, "the streams to be gone");
                await session.DisposeAsync();
            }

            Assert.Equal(137, await peer.WaitForExitAsync(Timeout));
            return slowest;
        }
    }

    /// <summary>Brings an established session with open <paramref name="streams"/> to <paramref name="moment"/>.</summary>
    private static async Task SetUpMomentAsync(Moment moment, PeerProcess peer, ShmipcSession session, ShmipcStream[] streams, List<Task<(Exception Failure, long At)>> pending, CancellationToken cancellationToken)
    {
        switch (moment)
        {
            case Moment.IdleStreamsOpen:
                foreach (var stream in streams)
                {
                    await Messages.RoundTripAsync(stream, MessageSize, stream.Id, cancellationToken);
                    pending.Add(ReadUntilFailureAsync(stream, static data => throw new InvalidOperationException($"an idle stream received {data.Length} bytes"), cancellationToken));
                }

                break;

            case Moment.LeasesHeldByReader:
            {
                var stream = streams[0];
                for (var k = 0; k < HeldMessages; k++)
                {
                    await Messages.WriteAsync(stream, MessageSize, (uint)k, cancellationToken);
                }

                await peer.WaitForLineAsync($"HELD {session.Name} {stream.Id} {HeldMessages}", Timeout);
                Assert.True(session.Statistics.SlicesInUse >= HeldMessages * (MessageSize / Slice), $"the held messages hold no slices: {session.Statistics}");
                pending.Add(ReadUntilFailureAsync(stream, static data => throw new InvalidOperationException($"a holding reader sent {data.Length} bytes"), cancellationToken));
                break;
            }

            case Moment.WriterWaitsOnFullQueue:
            {
                var stream = streams[0];
                if (!session.IsClient)
                {
                    // The echoing peer client answers; the sink server does not (the first write opens its stream).
                    await Messages.RoundTripAsync(stream, 100, 1, cancellationToken);
                }

                Signals.Stop(peer.Id);
                pending.Add(WriteUntilFailureAsync(stream, cancellationToken));
                await Messages.EventuallyAsync(() => session.Engine.Metrics.QueueFullEvents > 0, Timeout, "the writer to wait on the full queue");
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(moment), moment, "set up elsewhere");
        }
    }

    /// <summary>The survivor serves again: the listener accepts a new client, or the client connects to a server.</summary>
    private async Task ServeAgainAsync(Role role, MemoryMapType mode, string prefix, string echo, int iteration, CancellationToken cancellationToken)
    {
        if (role == Role.ServerKilled)
        {
            await using var session = await ConnectAsync(echo, mode, prefix, cancellationToken);
            await Messages.RoundTripAsync(session.OpenStream(), MessageSize, 7, cancellationToken);
            return;
        }

        await using var client = await ShmipcClient.ConnectAsync(_fixture.ListenerPath, Options(mode, prefix), cancellationToken);
        await using var server = await _fixture.AcceptSessionAsync(client.Name);
        var outgoing = client.OpenStream();
        await Messages.WriteAsync(outgoing, MessageSize, (uint)iteration, cancellationToken);
        var incoming = await server.AcceptStreamAsync(cancellationToken);
        await Messages.ReadAndVerifyAsync(incoming, MessageSize, (uint)iteration, "the first message after the kill", cancellationToken);
    }

    private async Task AssertReleasedAsync(SessionResources baseline, string prefix, string when)
    {
        await SettleAsync();
        var leaks = await SessionResources.WaitForReleaseAsync(baseline, allowed: null, Timeout);
        Assert.True(leaks.Length == 0, $"{when}, the test process still holds (baseline {baseline}):{SessionResources.Describe(leaks)}");
        Assert.Equal(default, ProcessFootprint.Of(prefix));
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, Timeout, $"/dev/shm to hold nothing of {prefix} {when}");
    }

    private async Task<PeerProcess> StartServerAsync(string socket, string mode)
    {
        var peer = _fixture.StartPeer($"serve-{mode}", "serve", socket, "--mode", mode);
        await peer.WaitForLineAsync("READY ", Timeout);
        return peer;
    }

    private static Task<ShmipcSession> ConnectAsync(string socket, MemoryMapType mode, string prefix, CancellationToken cancellationToken) =>
        ShmipcClient.ConnectAsync(socket, Options(mode, prefix), cancellationToken);

    private static ShmipcClientOptions Options(MemoryMapType mode, string prefix) => new()
    {
        MemoryMapType = mode,
        PathPrefix = prefix,
        BufferCapacity = Region,
        SizeClasses = [new BufferSizeClass(Slice, 100)],
        QueueCapacity = QueueCapacity,
        HandshakeTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// Lets a spare region being prepared in the background finish and drops it (a second connect of a configuration
    /// prepares one), so the counts cover sessions only.
    /// </summary>
    private static async Task SettleAsync()
    {
        await Messages.EventuallyAsync(() => !ClientSessionMemorySpares.IsPreparing, Timeout, "the spare region to be prepared");
        ClientSessionMemorySpares.Clear();
    }

    /// <summary>Message n of a crash-midway stream is the pattern of <see cref="PayloadPattern.SequenceSeed"/>(n, stream).</summary>
    private static Action<System.Buffers.ReadOnlySequence<byte>> CrashMidwayVerifier(ShmipcStream stream)
    {
        var sequence = 0u;
        return data =>
        {
            Messages.Verify(data, CrashMidwayMessageSize, PayloadPattern.SequenceSeed(sequence, stream.Id), $"message #{sequence} of stream {stream.Id}");
            sequence++;
        };
    }

    /// <summary>Runs <paramref name="operation"/> and returns what it ended with and when.</summary>
    private static Task<(Exception Failure, long At)> Capture(Func<Task<Exception>> operation) => Task.Run(async () =>
    {
        try
        {
            return (await operation(), Stopwatch.GetTimestamp());
        }
        catch (Exception e) when (e is ShmipcException or ChannelClosedException)
        {
            return (e, Stopwatch.GetTimestamp());
        }
    });

    /// <summary>Reads (verifying each message) until Input fails.</summary>
    private static Task<(Exception Failure, long At)> ReadUntilFailureAsync(ShmipcStream stream, Action<System.Buffers.ReadOnlySequence<byte>> verify, CancellationToken cancellationToken) =>
        Capture(async () =>
        {
            while (true)
            {
                using var message = await stream.Input.ReadAsync(cancellationToken);
                verify(message.Data);
            }
        });

    /// <summary>Writes one-slice messages until a write fails.</summary>
    private static Task<(Exception Failure, long At)> WriteUntilFailureAsync(ShmipcStream stream, CancellationToken cancellationToken) =>
        Capture(async () =>
        {
            var payload = PayloadPattern.Create(Slice, 3);
            while (true)
            {
                await stream.WriteAsync(payload, cancellationToken);
            }
        });
}
