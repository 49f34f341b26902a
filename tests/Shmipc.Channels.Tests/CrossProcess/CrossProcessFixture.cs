using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Starts and shares the peers of the cross-process tests: an echo server and a sink server (the test process is the
/// client), a listener in the test process with echoing peer clients (the test process is the server), and the
/// test's own client sessions. Everything is started lazily, reused by every test of the collection, and torn down
/// at the end; then no shared-memory file of this run may be left in /dev/shm.
/// </summary>
// Design: xunit runs the collection's tests one after another, but a lazily started peer may be requested by the
// first test of several classes, so each lazy member is a Lazy<Task<T>> (one start, shared by every caller).
public sealed class CrossProcessFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Room for 4 MiB messages in flight both ways (default size classes: a 4 MiB chain takes 514 8 KiB slices).</summary>
    public const long LargeBuffer = 64L * 1024 * 1024;

    private readonly string _runId = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentBag<PeerProcess> _peers = [];
    private readonly ConcurrentBag<ShmipcSession> _clientSessions = [];
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
        _listener = new(() => ShmipcListener.Bind(
            Path.Combine(Directory, "test.sock"),
            new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }));
    }

    /// <summary>A private folder for socket files.</summary>
    public string Directory { get; }

    /// <summary>The listener of the test process (bound on first use).</summary>
    public ShmipcListener Listener => _listener.Value;

    public string ListenerPath => Listener.SocketPath!;

    public PeerProcess EchoServerPeer => _echoServerPeer ?? throw new InvalidOperationException("the echo server has not been started");

    public PeerProcess SinkServerPeer => _sinkServerPeer ?? throw new InvalidOperationException("the sink server has not been started");

    /// <summary>Routes every peer's output to <paramref name="output"/> (the running test).</summary>
    public void Attach(ITestOutputHelper output)
    {
        _output = output;
        foreach (var peer in _peers)
        {
            peer.Output = output;
        }
    }

    public void Detach()
    {
        _output = null;
        foreach (var peer in _peers)
        {
            peer.Output = null;
        }
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
        return peer;
    }

    /// <summary>Starts a peer as user <paramref name="uid"/> (see <see cref="TestSupport.OtherUser"/>); killed at the end at the latest.</summary>
    public PeerProcess StartPeerAs(uint uid, string name, params string[] args)
    {
        var peer = PeerProcess.Start(name, _output, uid, args);
        _peers.Add(peer);
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
        return session;
    }

    /// <summary>The test process's shared client session to the echo server, with a 64 MiB region.</summary>
    public Task<ShmipcSession> GetEchoClientSessionAsync(MemoryMapType mode) =>
        _echoClientSessions.GetOrAdd(mode, m => new(async () => await ConnectAsync(
            await GetEchoServerAsync(),
            new ShmipcClientOptions { MemoryMapType = m, BufferCapacity = LargeBuffer, PathPrefix = NewPrefix("client") },
            CancellationToken.None))).Value;

    /// <summary>The shared echoing peer client of the test's listener, with a 64 MiB region.</summary>
    public Task<PeerClient> GetPeerClientAsync(MemoryMapType mode) =>
        _peerClients.GetOrAdd(mode, m => new(() => StartPeerClientAsync(m, "--buffer", LargeBuffer.ToString(CultureInfo.InvariantCulture)))).Value;

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

    private async Task<string> StartServerAsync(string mode, Action<PeerProcess> remember)
    {
        var path = Path.Combine(Directory, $"{mode}.sock");
        var peer = StartPeer($"serve-{mode}", "serve", path, "--mode", mode);
        remember(peer);
        await peer.WaitForLineAsync("READY ", Timeout);
        return path;
    }
}
