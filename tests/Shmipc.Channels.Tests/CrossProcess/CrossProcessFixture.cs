using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Shmipc.Channels.Reactor;
using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Starts and shares the peers of the cross-process tests: an echo server and a sink server (the test process is the
/// client), a listener in the test process with echoing peer clients (the test process is the server), and the
/// test's own client sessions. Everything is started lazily, reused by every test of the collection, and torn down
/// at the end; then no shared-memory file of this run may be left in /dev/shm.
/// </summary>
/// <remarks>
/// Accounting: <see cref="Attach"/> takes a snapshot of the sessions' resources (<see cref="SessionResources"/>);
/// <see cref="Detach"/> closes what the test left open through the fixture (its client and accepted sessions, its peers,
/// sessions nobody accepted), then fails the test if an fd or mapping it opened is still held, or if a shared session
/// has a slice not back on the free lists. What the fixture shares between tests is allowed to stay.
/// </remarks>
// Design: xunit runs the collection's tests one after another, but a lazily started peer may be requested by the
// first test of several classes, so each lazy member is a Lazy<Task<T>> (one start, shared by every caller). The
// accounting relies on the collection running alone (DisableParallelization): the counts are process-wide.
public sealed class CrossProcessFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Room for 4 MiB messages in flight both ways (default size classes: a 4 MiB chain takes 514 8 KiB slices).</summary>
    public const long LargeBuffer = 64L * 1024 * 1024;

    private readonly string _runId = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentBag<PeerProcess> _peers = [];
    private readonly ConcurrentBag<ShmipcSession> _clientSessions = [];
    private readonly ConcurrentBag<ShmipcSession> _sharedSessions = [];
    private readonly ConcurrentQueue<IAsyncDisposable> _testOwned = new();
    private readonly AsyncLocal<bool> _creatingShared = new();
    private SessionResources _allowed = SessionResources.None;
    private SessionResources? _baseline;
    private readonly ConcurrentDictionary<MemoryMapType, Lazy<Task<ShmipcSession>>> _echoClientSessions = new();
    private readonly ConcurrentDictionary<MemoryMapType, Lazy<Task<PeerClient>>> _peerClients = new();
    private readonly Lazy<Task<string>> _echoServer;
    private readonly Lazy<Task<string>> _sinkServer;
    private readonly Lazy<ShmipcListener> _listener;
    private PeerProcess? _echoServerPeer;
    private PeerProcess? _sinkServerPeer;
    private ITestOutputHelper? _output;

    public CrossProcessFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("shmipc-xp-").FullName;
        _echoServer = new(() => StartServerAsync("echo", p => _echoServerPeer = p));
        _sinkServer = new(() => StartServerAsync("sink", p => _sinkServerPeer = p));
        _listener = new(() => Shared(() => ShmipcListener.Bind(
            Path.Combine(Directory, "test.sock"),
            new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) })));

        // Opened once per process and kept (its epoll and eventfd): open before any test's baseline.
        _ = ShmipcReactor.Shared;
    }

    /// <summary>A private folder for socket files.</summary>
    public string Directory { get; }

    /// <summary>The listener of the test process (bound on first use).</summary>
    public ShmipcListener Listener => _listener.Value;

    public string ListenerPath => Listener.SocketPath!;

    public PeerProcess EchoServerPeer => _echoServerPeer ?? throw new InvalidOperationException("the echo server has not been started");

    public PeerProcess SinkServerPeer => _sinkServerPeer ?? throw new InvalidOperationException("the sink server has not been started");

    /// <summary>Routes every peer's output to <paramref name="output"/> (the running test) and takes the accounting baseline.</summary>
    public void Attach(ITestOutputHelper output)
    {
        _output = output;
        foreach (var peer in _peers)
        {
            peer.Output = output;
        }

        Task.Run(SettleSparesAsync).GetAwaiter().GetResult();
        _baseline = SessionResources.Capture();
    }

    /// <summary>
    /// Ends the test: closes what it left open through the fixture, then checks the accounting (see the remarks of
    /// the class); throws, failing the test, on a leak.
    /// </summary>
    public void Detach()
    {
        // Run off xunit's synchronisation context: the test's Dispose is synchronous.
        var failure = Task.Run(EndTestAsync).GetAwaiter().GetResult();
        _output = null;
        foreach (var peer in _peers)
        {
            peer.Output = null;
        }

        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException(failure);
        }
    }

    private async Task<string?> EndTestAsync()
    {
        var baseline = _baseline;
        _baseline = null;
        while (_testOwned.TryDequeue(out var owned))
        {
            await owned.DisposeAsync();
        }

        if (_listener.IsValueCreated)
        {
            while (Listener.Sessions.TryRead(out var unclaimed))
            {
                _output?.WriteLine($"[fixture] closing session {unclaimed.Name}: nobody accepted it");
                await unclaimed.DisposeAsync();
            }
        }

        if (baseline is null)
        {
            return null;
        }

        var problems = new List<string>();
        foreach (var session in _sharedSessions.Where(s => !s.IsClosed))
        {
            var deadline = DateTime.UtcNow + Timeout;
            ShmipcSessionStatistics statistics;
            while (((statistics = session.Statistics).SlicesInUse > 0 || statistics.LeasesHeld > 0) && DateTime.UtcNow < deadline && !session.IsClosed)
            {
                await Task.Delay(10);
            }

            if (!session.IsClosed && (statistics.SlicesInUse > 0 || statistics.LeasesHeld > 0))
            {
                problems.Add($"shared session {session.Name}: {statistics}");
            }
        }

        await SettleSparesAsync();
        var leaks = await SessionResources.WaitForReleaseAsync(baseline, _allowed, Timeout);
        problems.AddRange(leaks);
        return problems.Count == 0
            ? null
            : $"the test left resources behind (baseline {baseline}):{SessionResources.Describe([.. problems])}";
    }

    /// <summary>A spare client region prepared in the background (from a configuration's second connect on) is not a test's: let it finish and drop it.</summary>
    private static async Task SettleSparesAsync()
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (ClientSessionMemorySpares.IsPreparing && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        ClientSessionMemorySpares.Clear();
    }

    /// <summary>Creates something the fixture shares between tests; what it opens is allowed to stay open after any test.</summary>
    private T Shared<T>(Func<T> create)
    {
        var before = SessionResources.Capture();
        var created = create();
        _allowed = _allowed.Plus(SessionResources.Difference(SessionResources.Capture(), before));
        return created;
    }

    /// <inheritdoc cref="Shared{T}(Func{T})"/>
    private async Task<T> SharedAsync<T>(Func<Task<T>> create)
    {
        _creatingShared.Value = true;
        var before = SessionResources.Capture();
        var created = await create();
        await SettleSparesAsync();
        _allowed = _allowed.Plus(SessionResources.Difference(SessionResources.Capture(), before));
        return created;
    }

    /// <summary>A unique /dev/shm prefix of this run, so leftovers can be found by name.</summary>
    public string NewPrefix(string purpose) => $"/dev/shm/shmipc_xp_{_runId}_{purpose}_{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Files in /dev/shm whose names start like <paramref name="prefix"/>.</summary>
    public static string[] ShmFiles(string prefix) =>
        System.IO.Directory.GetFiles("/dev/shm", Path.GetFileName(prefix) + "*");

    /// <summary>Starts a peer whose output goes to the current test; the fixture kills it at the end at the latest.</summary>
    public PeerProcess StartPeer(string name, params string[] args)
    {
        var peer = PeerProcess.Start(name, _output, args);
        _peers.Add(peer);
        Own(peer);
        return peer;
    }

    /// <summary>Starts a peer as user <paramref name="uid"/> (see <see cref="TestSupport.OtherUser"/>); killed at the end at the latest.</summary>
    public PeerProcess StartPeerAs(uint uid, string name, params string[] args)
    {
        var peer = PeerProcess.Start(name, _output, uid, args);
        _peers.Add(peer);
        Own(peer);
        return peer;
    }

    /// <summary>The socket path of the shared echo server peer.</summary>
    public Task<string> GetEchoServerAsync() => _echoServer.Value;

    /// <summary>The socket path of the shared sink server peer (counts and drops messages).</summary>
    public Task<string> GetSinkServerAsync() => _sinkServer.Value;

    /// <summary>
    /// A new client session of the test process (with a 5 s handshake timeout: peers share a busy machine); the
    /// fixture disposes it at the end at the latest.
    /// </summary>
    public async Task<ShmipcSession> ConnectAsync(string socketPath, ShmipcClientOptions options, CancellationToken cancellationToken)
    {
        options.HandshakeTimeout = TimeSpan.FromSeconds(5);
        var session = await ShmipcClient.ConnectAsync(socketPath, options, cancellationToken);
        _clientSessions.Add(session);
        Own(session);
        return session;
    }

    /// <summary>Something the running test opened through the fixture: closed when the test ends, unless shared.</summary>
    private void Own(IAsyncDisposable resource)
    {
        if (_creatingShared.Value)
        {
            return;
        }

        _testOwned.Enqueue(resource);
    }

    /// <summary>The test process's shared client session to the echo server, with a 64 MiB region.</summary>
    public Task<ShmipcSession> GetEchoClientSessionAsync(MemoryMapType mode) =>
        _echoClientSessions.GetOrAdd(mode, m => new(() => SharedAsync(async () =>
        {
            var session = await ConnectAsync(
                await GetEchoServerAsync(),
                new ShmipcClientOptions { MemoryMapType = m, BufferCapacity = LargeBuffer, PathPrefix = NewPrefix("client") },
                CancellationToken.None);
            _sharedSessions.Add(session);
            return session;
        }))).Value;

    /// <summary>The shared echoing peer client of the test's listener, with a 64 MiB region.</summary>
    public Task<PeerClient> GetPeerClientAsync(MemoryMapType mode) =>
        _peerClients.GetOrAdd(mode, m => new(() => SharedAsync(async () =>
        {
            var client = await StartPeerClientAsync(m, "--buffer", LargeBuffer.ToString(CultureInfo.InvariantCulture));
            _sharedSessions.Add(client.Session);
            return client;
        }))).Value;

    /// <summary>Starts a new echoing peer client of the test's listener and accepts its session.</summary>
    public Task<PeerClient> StartPeerClientAsync(MemoryMapType mode, params string[] extraArgs) =>
        StartPeerClientWithPrefixAsync(mode, NewPrefix("peer"), extraArgs);

    /// <summary>Like <see cref="StartPeerClientAsync"/>, with the peer's shared memory named after <paramref name="prefix"/>.</summary>
    public async Task<PeerClient> StartPeerClientWithPrefixAsync(MemoryMapType mode, string prefix, params string[] extraArgs)
    {
        var args = new List<string> { "connect", ListenerPath, mode == MemoryMapType.MemFd ? "--memfd" : "--file", "--prefix", prefix };
        args.AddRange(extraArgs);
        var peer = StartPeer($"connect-{mode}", [.. args]);
        var ready = await peer.WaitForLineAsync("READY ", Timeout);
        var session = await AcceptSessionAsync(ready.Split(' ')[1]);
        return new PeerClient(peer, session, prefix);
    }

    /// <summary>Accepts sessions on <see cref="Listener"/> until the one named <paramref name="name"/> arrives.</summary>
    public async Task<ShmipcSession> AcceptSessionAsync(string name)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var session = await Listener.AcceptAsync(cts.Token);
            if (session.Name == name)
            {
                Own(session);
                return session;
            }

            // A session left over by an earlier failed test: it is not the one waited for.
            _output?.WriteLine($"[fixture] closing unexpected session {session.Name} while waiting for {name}");
            await session.DisposeAsync();
        }
    }

    /// <summary>
    /// Makes <paramref name="client"/> open <paramref name="count"/> streams and accepts them; each stream's greeting
    /// has been read, so the next message on it is an echo.
    /// </summary>
    public async Task<ShmipcStream[]> OpenPeerStreamsAsync(PeerClient client, int count, CancellationToken cancellationToken)
    {
        var reply = await client.Process.CommandAsync($"open {count}", $"OPENED {client.Name} ", Timeout);
        var ids = reply.Split(' ')[2].Split(',').Select(s => uint.Parse(s, CultureInfo.InvariantCulture)).ToHashSet();
        var streams = new Dictionary<uint, ShmipcStream>();
        while (streams.Count < ids.Count)
        {
            var stream = await client.Session.AcceptStreamAsync(cancellationToken);
            Assert.Contains(stream.Id, ids);
            using (var hello = await stream.Input.ReadAsync(cancellationToken))
            {
                Assert.Equal($"hello {stream.Id}", Encoding.ASCII.GetString(hello.Data));
            }

            streams[stream.Id] = stream;
        }

        return [.. ids.Order().Select(id => streams[id])];
    }

    /// <summary>Asks a peer for its view of session <paramref name="name"/>: the <c>STATS</c> line.</summary>
    public static Task<string> PeerStatsAsync(PeerProcess peer, string name) =>
        peer.CommandAsync($"stats {name}", $"STATS {name} ", Timeout);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        Detach();
        foreach (var session in _clientSessions)
        {
            await session.DisposeAsync();
        }

        foreach (var peer in _peers)
        {
            await peer.DisposeAsync();
        }

        if (_listener.IsValueCreated)
        {
            await _listener.Value.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        var leftovers = ShmFiles($"/dev/shm/shmipc_xp_{_runId}");
        if (leftovers.Length > 0)
        {
            throw new InvalidOperationException($"shared-memory files left in /dev/shm after the cross-process tests: {string.Join(", ", leftovers)}");
        }
    }

    private Task<string> StartServerAsync(string mode, Action<PeerProcess> remember) =>
        SharedAsync(() => StartSharedServerAsync(mode, remember));

    private async Task<string> StartSharedServerAsync(string mode, Action<PeerProcess> remember)
    {
        var path = Path.Combine(Directory, $"{mode}.sock");
        var peer = StartPeer($"serve-{mode}", "serve", path, "--mode", mode);
        remember(peer);
        await peer.WaitForLineAsync("READY ", Timeout);
        return path;
    }
}
