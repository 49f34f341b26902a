using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shmipc.Channels;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>AddShmipcClient, AddShmipcListener, their options validation and health checks, in a real host.</summary>
public class DependencyInjectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_named_client_reaches_kestrel_over_shmipc_and_reports_healthy()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(Timeout);
        var path = dir.PathOf("h2.sock");
        await using var server = await KestrelTransportTests.StartAsync(path, null, cts.Token);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddShmipcClient("app", o => o.SocketPath = path);
        builder.Services.AddHealthChecks().AddShmipcClientHealthCheck("app");
        using var host = builder.Build();
        await host.StartAsync(cts.Token);

        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("app");
        using var response = await client.GetAsync(new Uri("/echo-protocol", UriKind.Relative), cts.Token);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync(cts.Token));

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cts.Token);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task A_client_that_cannot_connect_is_unhealthy()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(Timeout);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddShmipcClient("absent", o => o.SocketPath = dir.PathOf("nobody.sock"));
        services.AddHealthChecks().AddShmipcClientHealthCheck("absent");
        await using var provider = services.BuildServiceProvider();
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(cts.Token);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
    }

    [Fact]
    public async Task Invalid_options_fail_the_host_start_with_what_is_wrong()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddShmipcClient("bad", o => o.Session = new ShmipcClientOptions { BufferCapacity = 1 });
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(cts.Token));
        Assert.Contains("SocketPath is required", error.Message, StringComparison.Ordinal);

        var listenerBuilder = Host.CreateApplicationBuilder();
        listenerBuilder.Logging.ClearProviders();
        listenerBuilder.Services.AddShmipcListener<EchoOnceHandler>(o => o.SocketPath = "/tmp/x.sock");
        listenerBuilder.Services.Configure<ShmipcListenerOptions>(o => o.Server = new ShmipcServerOptions { Backlog = 0 });
        using var listenerHost = listenerBuilder.Build();
        var listenerError = await Assert.ThrowsAsync<OptionsValidationException>(() => listenerHost.StartAsync(cts.Token));
        Assert.Contains("Backlog", listenerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hosted_listener_serves_sessions_until_the_host_stops()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(Timeout);
        var path = dir.PathOf("raw.sock");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddShmipcListener<EchoOnceHandler>(o => o.SocketPath = path);
        builder.Services.AddHealthChecks().AddShmipcListenerHealthCheck<EchoOnceHandler>();
        using var host = builder.Build();
        await host.StartAsync(cts.Token);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(cts.Token)).Status);

        await using (var session = await ShmipcClient.ConnectAsync(path, null, cts.Token))
        {
            var stream = session.OpenStream();
            await stream.WriteAsync("ping"u8.ToArray(), cts.Token);
            using var reply = await stream.Input.ReadAsync(cts.Token);
            Assert.Equal("ping", System.Text.Encoding.UTF8.GetString(reply.ToArray()));
            stream.Dispose();
        }

        await host.StopAsync(cts.Token);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(cts.Token)).Status);
        Assert.False(File.Exists(path));
    }

    /// <summary>Echoes the first message of every stream, until the session ends.</summary>
    internal sealed class EchoOnceHandler : IShmipcSessionHandler
    {
        public async Task HandleAsync(ShmipcSession session, CancellationToken cancellationToken)
        {
            try
            {
                while (true)
                {
                    var stream = await session.AcceptStreamAsync(cancellationToken);
                    using var message = await stream.Input.ReadAsync(cancellationToken);
                    await stream.WriteAsync(message.ToArray(), cancellationToken);
                }
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                // The client went away.
            }
        }
    }
}
