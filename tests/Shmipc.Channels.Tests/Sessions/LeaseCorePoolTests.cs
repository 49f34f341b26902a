using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// The lease core pool keeps what a lagging reader had outstanding (so a one-way stream reuses its cores instead of
/// allocating per message), and no more than the open sessions' receive budgets allow plus the share of the session
/// released last.
/// </summary>
public sealed class LeaseCorePoolTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Capacity_follows_the_sessions_and_only_the_last_released_share_is_kept()
    {
        var pool = new LeaseCorePool(2);
        var cores = Enumerable.Range(0, 12).Select(_ => pool.Rent()).ToArray();
        Assert.Equal(12, cores.Distinct().Count());

        pool.AddSession(5);
        Assert.Equal(7, pool.Capacity);
        foreach (var core in cores)
        {
            pool.Return(core);
        }

        // 7 queued plus the one fast slot; the others were dropped.
        Assert.Equal(8, pool.Count);

        // Released: its share is the spare now, kept for the session that replaces it.
        pool.RemoveSession(5);
        Assert.Equal(2, pool.Capacity);
        Assert.Equal(7, pool.Limit);
        Assert.Equal(8, pool.Count);

        // A smaller session comes and goes: its share replaces the spare and the pool is trimmed at once.
        pool.AddSession(3);
        Assert.Equal(10, pool.Limit);
        pool.RemoveSession(3);
        Assert.Equal(5, pool.Limit);
        Assert.Equal(6, pool.Count);

        // What is left is handed out again, never a new core while one is pooled.
        var again = Enumerable.Range(0, 6).Select(_ => pool.Rent()).ToArray();
        Assert.All(again, c => Assert.Contains(c, cores));
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task A_reader_that_held_more_than_the_base_capacity_gets_its_cores_back_from_the_pool()
    {
        // Above the base capacity (4096, the old fixed cap), below the receive budget: what a reader lagging behind a
        // one-way sender holds. A budget no other test uses makes the shares of these two sessions recognisable.
        const int Messages = 10_000;
        const int Budget = 1_000_000;
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        var shared = LeaseCorePool.Shared;
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { HandshakeTimeout = Timeout, ReceiveBudgetMessages = Budget });
        var options = _accounting.Options(TestClientOptions.Small(Timeout));
        options.BufferCapacity = 32 * 1024 * 1024;
        options.SizeClasses = [new(1024, 100)];
        options.ReceiveBudgetMessages = Budget;
        var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        Assert.True(shared.Capacity >= LeaseCorePool.BaseCapacity + (2L * Budget), $"capacity {shared.Capacity} with both sessions open");

        var stream = client.OpenStream();
        var payload = new byte[64];
        for (var i = 0; i < Messages; i++)
        {
            await stream.WriteAsync(payload, cts.Token);
        }

        var accepted = await server.AcceptStreamAsync(cts.Token);
        var held = new List<ShmLease>(Messages);
        for (var i = 0; i < Messages; i++)
        {
            held.Add(await accepted.Input.ReadAsync(cts.Token));
        }

        foreach (var lease in held)
        {
            lease.Dispose();
        }

        // Other tests rent and return meanwhile, so not all of them; the old fixed cap kept at most 4096.
        Assert.True(shared.Count >= Messages * 8 / 10, $"only {shared.Count} cores pooled after {Messages} leases were disposed");

        // DisposeAsync returns once the session is released, which takes its share back.
        await client.DisposeAsync();
        await server.DisposeAsync();
        Assert.True(shared.Capacity < Budget, $"capacity {shared.Capacity} after both sessions were released");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
