using System.Globalization;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using Shmipc.Channels;
using Shmipc.Reactive;

// `server <socket>` and `client <socket>`, two processes. The client sends three messages on one stream and expects
// each back upper-cased (Shmipc.Channels), then publishes 1..100 as an observable on a second stream
// (Shmipc.Reactive); the server sums them and sends "SUM 5050" back on the first stream.
using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
return args switch
{
    ["server", var path] => await ServerAsync(path, cts.Token),
    ["client", var path] => await ClientAsync(path, cts.Token),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: PackageConsumer server|client <socket path>");
    return 2;
}

static async Task<int> ServerAsync(string path, CancellationToken ct)
{
    await using var listener = ShmipcListener.Bind(path, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) });
    Console.WriteLine("READY");
    await using var session = await listener.AcceptAsync(ct);
    var echo = await session.AcceptStreamAsync(ct);
    for (var i = 0; i < 3; i++)
    {
        string text;
        using (var msg = await echo.Input.ReadAsync(ct))
        {
            text = Encoding.UTF8.GetString(msg.Data);
        }

        await SendAsync(echo, text.ToUpperInvariant(), ct);
    }

    var numbers = await session.AcceptStreamAsync(ct);
    var sum = await numbers.Observe(ShmipcCodecs.Utf8).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Sum().ToTask(ct);
    await SendAsync(echo, $"SUM {sum}", ct);

    // Wait for the client to hang up, so the last message is read before this process goes away.
    await session.Completion.WaitAsync(ct).ContinueWith(static _ => { }, TaskScheduler.Default);
    Console.WriteLine("SERVER OK");
    return 0;
}

static async Task<int> ClientAsync(string path, CancellationToken ct)
{
    await using var session = await ShmipcClient.ConnectAsync(path, new ShmipcClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) }, ct);
    var echo = session.OpenStream();
    for (var i = 1; i <= 3; i++)
    {
        await SendAsync(echo, $"hello {i}", ct);
        var reply = await ReceiveAsync(echo, ct);
        if (reply != $"HELLO {i}")
        {
            Console.Error.WriteLine($"unexpected reply '{reply}'");
            return 1;
        }
    }

    var numbers = session.OpenStream();
    await Observable.Range(1, 100).Select(i => i.ToString(CultureInfo.InvariantCulture)).WriteTo(numbers, ShmipcCodecs.Utf8, ct);
    var sum = await ReceiveAsync(echo, ct);
    if (sum != "SUM 5050")
    {
        Console.Error.WriteLine($"unexpected sum '{sum}'");
        return 1;
    }

    Console.WriteLine("CLIENT OK");
    return 0;
}

static async Task SendAsync(ShmipcStream stream, string text, CancellationToken ct)
{
    var lease = stream.Rent();
    try
    {
        Encoding.UTF8.GetBytes(text, lease.Writer);
        await stream.Output.WriteAsync(lease, ct);
    }
    catch
    {
        lease.Dispose();
        throw;
    }
}

static async Task<string> ReceiveAsync(ShmipcStream stream, CancellationToken ct)
{
    using var msg = await stream.Input.ReadAsync(ct);
    return Encoding.UTF8.GetString(msg.Data);
}
