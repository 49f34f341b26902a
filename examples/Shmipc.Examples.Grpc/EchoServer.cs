using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shmipc.AspNetCore;

namespace Shmipc.Examples.Grpc;

/// <summary>
/// The server process: ASP.NET Core with the echo gRPC service on a shmipc socket, and optionally the same server on
/// a plain Unix domain socket and on TCP loopback (for side-by-side benchmarks).
/// </summary>
public static class EchoServer
{
    /// <summary>Large enough for the 4 MB messages of the tests.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    public static WebApplication Build(string shmipcPath, string? udsPath = null, int tcpPort = -1)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseShmipc();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenShmipc(shmipcPath);
            if (udsPath is not null)
            {
                kestrel.ListenUnixSocket(udsPath, o => o.Protocols = HttpProtocols.Http2);
            }

            if (tcpPort >= 0)
            {
                kestrel.Listen(IPAddress.Loopback, tcpPort, o => o.Protocols = HttpProtocols.Http2);
            }
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxMessageBytes;
            o.MaxSendMessageSize = MaxMessageBytes;
        });
        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        return app;
    }

    /// <summary>Serves until stdin closes (the parent's signal to stop), then stops gracefully.</summary>
    public static async Task<int> RunAsync(string shmipcPath, string? udsPath, int tcpPort)
    {
        await using var app = Build(shmipcPath, udsPath, tcpPort);
        await app.StartAsync();
        var tcp = app.Urls.FirstOrDefault(u => u.StartsWith("http://127.0.0.1", StringComparison.Ordinal));
        Console.WriteLine($"READY {shmipcPath} {tcp ?? "-"}");
        await Console.In.ReadToEndAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stop.Token);
        return 0;
    }
}
