using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shmipc.AspNetCore.Server;
using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>Kestrel over shared memory: register the transport, then listen on a <see cref="ShmipcEndPoint"/>.</summary>
public static class ShmipcKestrelExtensions
{
    /// <summary>
    /// Registers the shmipc transport beside Kestrel's socket transport (both work in one server): Kestrel binds a
    /// <see cref="ShmipcEndPoint"/> with it and every other endpoint as before.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IWebHostBuilder UseShmipc(this IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddShmipcTransport());
    }

    /// <summary>Registers the shmipc transport for Kestrel (what <see cref="UseShmipc"/> does).</summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddShmipcTransport(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ShmipcConnectionListenerFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, ShmipcConnectionListenerFactory>(
            static sp => sp.GetRequiredService<ShmipcConnectionListenerFactory>()));
        return services;
    }

    /// <summary>
    /// Listens for shmipc clients on the Unix socket <paramref name="socketPath"/>; every stream a client opens is one
    /// connection. The endpoint speaks HTTP/2 with prior knowledge (what gRPC uses) unless <paramref name="configure"/>
    /// sets <see cref="ListenOptions.Protocols"/>: without TLS there is no negotiation, so an endpoint speaks either
    /// HTTP/2 or HTTP/1.1 (<see cref="HttpProtocols.Http1"/>); listen on two paths for both.
    /// </summary>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="socketPath">The socket file (created on start, removed on stop).</param>
    /// <param name="configure">Configures the endpoint (protocols, connection middleware).</param>
    /// <param name="serverOptions">Options for the shmipc sessions, or null for the defaults.</param>
    public static void ListenShmipc(this KestrelServerOptions options, string socketPath, Action<ListenOptions>? configure = null, ShmipcServerOptions? serverOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Listen(new ShmipcEndPoint(socketPath, serverOptions), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
        });
    }
}
