using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text.Json.Serialization;
using Shmipc.Channels;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests.InProcess;

/// <summary>The XML-doc example of <see cref="ShmipcObservable"/>, copied verbatim, runs and computes the right total.</summary>
public class DocExampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<int> Rounds => new() { 1, 2, 3, 4, 5 };

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task The_ShmipcObservable_example_runs(int round)
    {
        _ = round;
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var orders = new[] { new Order(2, 1.5m), new Order(0, 9m), new Order(1, 3m), new Order(4, 0.25m) };

        var server = Task.Run(() => ServerAsync(pair.Server, cts.Token), cts.Token);
        var last = await ClientAsync(pair.Client, orders.ToObservable(), cts.Token);
        await server;

        Assert.Equal(new Total(3, 7m), last);
    }

    [Fact]
    public void The_code_here_is_the_example_of_the_XML_docs_verbatim()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Shmipc.Channels.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Shmipc.Channels.sln not found above the test binaries");
        }

        var docs = File.ReadAllLines(Path.Combine(root, "Shmipc.Reactive", "ShmipcObservable.cs"))
            .SkipWhile(l => !l.Contains("<code>", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.Contains("</code>", StringComparison.Ordinal))
            .Select(l => l.Trim().TrimStart('/').Trim())
            .Select(l => System.Net.WebUtility.HtmlDecode(l)!);
        var here = File.ReadAllLines(Path.Combine(root, "tests", "Shmipc.Reactive.Tests", "InProcess", "DocExampleTests.cs"))
            .Select(l => l.Trim())
            .Aggregate((Inside: false, Lines: new List<string>()), (state, l) =>
            {
                if (l == "// verbatim")
                {
                    return (true, state.Lines);
                }

                if (l == "// end verbatim")
                {
                    return (false, state.Lines);
                }

                if (state.Inside)
                {
                    state.Lines.Add(l);
                }

                return state;
            }).Lines;

        Assert.Contains(here, l => l.Contains("AcceptStreamAsync(\"orders\", ct)", StringComparison.Ordinal));
        Assert.Equal(docs.Where(l => l.Length > 0), here.Where(l => l.Length > 0));
    }

    // Lines between the "verbatim" markers are the example of ShmipcObservable's XML docs, unchanged (checked above).
    private static async Task<Total> ClientAsync(ShmipcSession session, IObservable<Order> source, CancellationToken ct)
    {
        // verbatim
        // A (client): "orders" carries orders out, "totals" brings totals back.
        var orders = session.OpenStream("orders");
        var totals = session.OpenStream("totals");
        var lastTotal = totals.Observe(ShmipcCodecs.Json(AppJson.Default.Total)).LastAsync().ToTask(ct);
        await source.WriteTo(orders, ShmipcCodecs.Json(AppJson.Default.Order), ct);
        Console.WriteLine(await lastTotal);

        // end verbatim
        return await lastTotal;
    }

    private static async Task ServerAsync(ShmipcSession session, CancellationToken ct)
    {
        // verbatim
        // B (server): observe "orders", write to "totals".
        var input = await session.AcceptStreamAsync("orders", ct);
        var output = await session.AcceptStreamAsync("totals", ct);
        await input.Observe(ShmipcCodecs.Json(AppJson.Default.Order))
            .Where(o => o.Quantity > 0)
            .Scan(new Total(0, 0m), (t, o) => new Total(t.Count + 1, t.Amount + o.Price * o.Quantity))
            .WriteTo(output, ShmipcCodecs.Json(AppJson.Default.Total), ct);

        // end verbatim
    }
}

/// <summary>The example's item type.</summary>
public sealed record Order(int Quantity, decimal Price);

/// <summary>The example's result type.</summary>
public sealed record Total(int Count, decimal Amount);

/// <summary>The example's source-generated JSON contracts.</summary>
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(Total))]
internal sealed partial class AppJson : JsonSerializerContext;
