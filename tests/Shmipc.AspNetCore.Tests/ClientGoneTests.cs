using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
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
        var errors = new ErrorLogCapture();
        var handlerEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var rounds = 0;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.WebHost.UseShmipc();
        builder.WebHost.ConfigureKestrel(k => k.ListenShmipc(path));
        await using var app = builder.Build();
        app.MapGet("/endless", async (HttpContext context) =>
        {
            // Writes and flushes until the connection is gone, as a streaming response (gRPC server streaming) does.
            var chunk = new byte[16 * 1024];
            try
            {
                while (!context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }

                Volatile.Read(ref handlerEnded).TrySetResult(null);
            }
            catch (Exception e)
            {
                Volatile.Read(ref handlerEnded).TrySetResult(e);
            }
        });
        await app.StartAsync(cts.Token);

        // Several rounds: where the close lands (mid-flush, between writes, during a window update) is up to timing.
        for (; rounds < 10; rounds++)
        {
        var client = ShmipcHttp.CreateHttpClient(path);
        using (var response = await client.GetAsync(new Uri("/endless", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cts.Token))
        {
            var body = await response.Content.ReadAsStreamAsync(cts.Token);
            var buffer = new byte[64 * 1024];
            var read = 0L;
            while (read < 1024 * 1024)
            {
                read += await body.ReadAsync(buffer, cts.Token);
            }

            // The client process goes away: its session closes under the server's writes.
            client.Dispose();
        }

        var ended = await handlerEnded.Task.WaitAsync(cts.Token);
        Assert.True(ended is null or OperationCanceledException or IOException, $"the handler ended with {ended}");
        handlerEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await app.StopAsync(cts.Token);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"the server took {stopping.Elapsed} to stop: a connection of a gone client was still open");
        Assert.True(errors.Errors.Count == 0, $"errors logged after {rounds} rounds:\n{string.Join("\n", errors.Errors)}");
    }
}
