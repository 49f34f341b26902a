using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using Shmipc.Channels;
using Shmipc.Reactive;

namespace Shmipc.Demo;

/// <summary>
/// The Rx step: the client publishes readings as an <see cref="IObservable{T}"/> into one stream; the server composes
/// <c>Where</c>/<c>Buffer</c>/<c>Select</c> over them in its own process and writes summaries back into another stream;
/// the client checks them against the same pipeline computed locally.
/// </summary>
internal static class RxStep
{
    private const int ReadingCount = 2_000;
    private const int Threshold = 50;
    private const int WindowSize = 25;

    private static readonly IShmipcCodec<Reading> s_readings = ShmipcCodecs.Json(DemoJson.Default.Reading);
    private static readonly IShmipcCodec<Summary> s_summaries = ShmipcCodecs.Json(DemoJson.Default.Summary);

    /// <summary>The pipeline both processes agree on; the server runs it, the client runs it locally to check.</summary>
    public static IObservable<Summary> Pipeline(IObservable<Reading> readings) =>
        readings
            .Where(r => r.Value >= Threshold)
            .Buffer(WindowSize)
            .Where(window => window.Count > 0)
            .Select((window, i) => new Summary(i + 1, window.Count, window.Average(r => r.Value), window.Max(r => r.Value)));

    /// <summary>Client side: one session to the Rx listener, readings out on one stream, summaries back on another.</summary>
    public static async Task RunClientAsync(DemoSetup setup, CancellationToken cancellationToken)
    {
        var options = new ShmipcClientOptions { PathPrefix = DemoSetup.SharedMemoryPrefix + "_rx", PollingMode = setup.PollingMode };
        await using var session = await ShmipcClient.ConnectAsync(setup.RxSocket, options, cancellationToken);
        using var readings = session.OpenStream();
        using var summaries = session.OpenStream();

        var source = Observable.Range(0, ReadingCount).Select(i => new Reading(i % 4, (i * 37) % 100));
        var received = summaries.Observe(s_summaries).ToList().ToTask(cancellationToken);
        await source.WriteTo(readings, s_readings, cancellationToken);
        var result = await received;

        var expected = await Pipeline(source).ToList().ToTask(cancellationToken);
        if (!result.SequenceEqual(expected))
        {
            throw new InvalidDataException($"rx: {result.Count} summaries came back, {expected.Count} expected, or they differ.");
        }

        Console.WriteLine($"rx: {ReadingCount} readings published as IObservable<Reading> -> Where/Buffer({WindowSize})/Select in the server process " +
                          $"-> {result.Count} summaries back (first: {result[0]}), equal to the same pipeline run locally; {session.FallbackWriteCount} fallback writes");
    }

    /// <summary>Server side: for each session, its first two streams are the readings (lower id) and the summaries.</summary>
    public static async Task ServeAsync(ShmipcListener listener, CancellationToken cancellationToken)
    {
        var sessions = new List<Task>();
        try
        {
            await foreach (var session in listener.Sessions.ReadAllAsync(cancellationToken))
            {
                sessions.Add(ServeSessionAsync(session, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(sessions);
    }

    private static async Task ServeSessionAsync(ShmipcSession session, CancellationToken cancellationToken)
    {
        await using (session)
        {
            try
            {
                // Both streams show up when their first envelope arrives, in either order.
                var streams = await session.ObserveStreams().Take(2).ToList().ToTask(cancellationToken);
                var readings = streams.MinBy(s => s.Id)!;
                var summaries = streams.MaxBy(s => s.Id)!;
                using (readings)
                using (summaries)
                {
                    await Pipeline(readings.Observe(s_readings)).WriteTo(summaries, s_summaries, cancellationToken);
                }
            }
            catch (Exception e) when (e is ShmipcException or OperationCanceledException or InvalidOperationException)
            {
                // The client went away or we are stopping.
            }
        }
    }
}
