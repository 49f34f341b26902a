using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>
/// A client that goes away while Kestrel is writing to it is a normal end of a connection, as a reset socket is for
/// the socket transport: the response ends with RequestAborted and nothing is logged as an error.
/// </summary>
public class ClientGoneTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_client_that_closes_its_session_mid_response_ends_the_request_without_an_error_log()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(Timeout);
        var path = dir.PathOf("gone.sock");
        var logs = new CapturingLoggerFactory();
        var handlerEnded = Channel.CreateUnbounded<Exception?>();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.WebHost.UseShmipc();
        builder.WebHost.ConfigureKestrel(k => k.ListenShmipc(path));
        await using var app = builder.Build();
        app.MapGet("/endless", async (HttpContext context) =>
        {
            // Writes and flushes until the connection is gone, as a streaming response (gRPC server streaming) does.
            var chunk = new byte[16 * 1024];
            Exception? ended = null;
            try
            {
                while (!context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (Exception e)
            {
                ended = e;
            }

            handlerEnded.Writer.TryWrite(ended);
        });
        await app.StartAsync(cts.Token);

        // Several rounds: where the close lands (mid-flush, between writes, during a window update) is up to timing.
        const int Rounds = 10;
        for (var round = 0; round < Rounds; round++)
        {
            var client = ShmipcHttp.CreateHttpClient(path);
            using (var response = await client.GetAsync(new Uri("/endless", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cts.Token))
            {
                var body = await response.Content.ReadAsStreamAsync(cts.Token);
                var buffer = new byte[64 * 1024];
                for (var read = 0L; read < 1024 * 1024;)
                {
                    var n = await body.ReadAsync(buffer, cts.Token);
                    Assert.True(n > 0, $"round {round}: the endless response ended after {read} bytes");
                    read += n;
                }

                // The client process goes away: its session closes under the server's writes.
                client.Dispose();
            }

            Exception? ended;
            try
            {
                ended = await handlerEnded.Reader.ReadAsync(cts.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cts.Token);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"round {round}: the response kept running 10 s after its client closed its session (RequestAborted never fired)");
                return;
            }

            Assert.True(ended is null or OperationCanceledException or IOException, $"round {round}: the handler ended with {ended}");
        }

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await app.StopAsync(cts.Token);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"the server took {stopping.Elapsed} to stop: a connection of a gone client was still open");
        var errors = logs.Lines.Where(l => l.Level >= LogLevel.Error).ToArray();
        Assert.True(errors.Length == 0, $"errors logged after {Rounds} rounds:\n{string.Join("\n", errors)}");
    }
}
