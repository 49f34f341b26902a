using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>Kestrel over the shmipc transport, called through HttpClient over shmipc: HTTP/1.1 and HTTP/2.</summary>
public class KestrelTransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Http2_and_http1_requests_go_through_kestrel_over_shared_memory()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(Timeout);
        var h2 = dir.PathOf("h2.sock");
        var h1 = dir.PathOf("h1.sock");
        await using var app = await StartAsync(h2, h1, cts.Token);

        using (var client = ShmipcHttp.CreateHttpClient(h2))
        {
            using var response = await client.GetAsync(new Uri("/echo-protocol", UriKind.Relative), cts.Token);
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync(cts.Token));

            var body = new byte[300_000];
            Random.Shared.NextBytes(body);
            using var post = await client.PostAsync(new Uri("/echo", UriKind.Relative), new ByteArrayContent(body), cts.Token);
            Assert.Equal(body, await post.Content.ReadAsByteArrayAsync(cts.Token));
        }

        using (var client = ShmipcHttp.CreateHttpClient(h1, http2: false))
        {
            using var response = await client.GetAsync(new Uri("/echo-protocol", UriKind.Relative), cts.Token);
            Assert.Equal(HttpVersion.Version11, response.Version);
            Assert.Equal("HTTP/1.1", await response.Content.ReadAsStringAsync(cts.Token));

            var body = new byte[300_000];
            Random.Shared.NextBytes(body);
            using var post = await client.PostAsync(new Uri("/echo", UriKind.Relative), new ByteArrayContent(body), cts.Token);
            Assert.Equal(body, await post.Content.ReadAsByteArrayAsync(cts.Token));
        }
    }

    internal static async Task<WebApplication> StartAsync(string http2Path, string? http1Path, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseShmipc();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenShmipc(http2Path);
            if (http1Path is not null)
            {
                k.ListenShmipc(http1Path, o => o.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        app.MapGet("/echo-protocol", (HttpContext context) => context.Request.Protocol);
        app.MapPost("/echo", async (HttpContext context) =>
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(copy.ToArray(), context.RequestAborted);
        });
        await app.StartAsync(cancellationToken);
        return app;
    }
}
