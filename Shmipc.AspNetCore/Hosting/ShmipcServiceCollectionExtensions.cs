using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Shmipc.AspNetCore.Hosting;

namespace Shmipc.AspNetCore;

/// <summary>Dependency injection: HttpClients and gRPC clients over shmipc, hosted listeners, health checks.</summary>
/// <example>
/// <code>
/// services.AddShmipcClient("orders", o => o.SocketPath = "/run/orders.sock");          // HttpClient "orders"
/// services.AddGrpcClient&lt;Orders.OrdersClient&gt;(o => o.Address = ShmipcHttp.DefaultBaseAddress)
///         .UseShmipc(o => o.SocketPath = "/run/orders.sock");                          // a gRPC client
/// services.AddHealthChecks().AddShmipcClientHealthCheck("orders");
/// </code>
/// </example>
public static class ShmipcServiceCollectionExtensions
{
    /// <summary>Registers a named HttpClient whose connections are shmipc streams (see <see cref="UseShmipc"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The client's name (IHttpClientFactory.CreateClient(name)).</param>
    /// <param name="configure">Sets the socket path and session options; validated when the host starts.</param>
    /// <returns>The client's builder, for further configuration.</returns>
    public static IHttpClientBuilder AddShmipcClient(this IServiceCollection services, string name, Action<ShmipcHttpClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddHttpClient(name).UseShmipc(configure);
    }

    /// <summary>
    /// Makes the client built by <paramref name="builder"/> (an HttpClient or a gRPC client from AddGrpcClient) connect
    /// over shmipc: one session per client name, owned by the container and shared by the handlers the factory
    /// recycles; every HTTP connection is a stream of it.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Sets the socket path and session options; validated when the host starts.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHttpClientBuilder UseShmipc(this IHttpClientBuilder builder, Action<ShmipcHttpClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = builder.Name;
        var services = builder.Services;
        services.AddOptions<ShmipcHttpClientOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShmipcHttpClientOptions>, ShmipcOptionsValidator>());
        services.TryAddSingleton<ShmipcClientSessions>();
        builder.ConfigurePrimaryHttpMessageHandler(sp =>
            ShmipcHttp.CreateHandler(sp.GetRequiredService<ShmipcClientSessions>().Get(name), configure: null, ownsSessions: false));
        builder.ConfigureHttpClient((sp, client) =>
        {
            client.BaseAddress ??= ShmipcHttp.DefaultBaseAddress;
            if (sp.GetRequiredService<IOptionsMonitor<ShmipcHttpClientOptions>>().Get(name).Http2)
            {
                client.DefaultRequestVersion = System.Net.HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            }
        });
        return builder;
    }

    /// <summary>
    /// Runs a shmipc listener for the host's lifetime (a hosted service): it binds when the host starts and hands every
    /// accepted session to <typeparamref name="THandler"/>; on stop it unbinds, lets handlers finish within the host's
    /// shutdown timeout and closes what is left.
    /// </summary>
    /// <typeparam name="THandler">Serves each session (a singleton).</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the socket path and server options; validated when the host starts.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddShmipcListener<THandler>(this IServiceCollection services, Action<ShmipcListenerOptions> configure)
        where THandler : class, IShmipcSessionHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ShmipcListenerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShmipcListenerOptions>, ShmipcOptionsValidator>());
        services.TryAddSingleton<THandler>();
        services.TryAddSingleton<ShmipcListenerService<THandler>>();
        services.AddHostedService(static sp => sp.GetRequiredService<ShmipcListenerService<THandler>>());
        return services;
    }

    /// <summary>Adds a health check of the named shmipc client's session: healthy while it is connected and open.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The client's name, as given to <see cref="AddShmipcClient(IServiceCollection, string, Action{ShmipcHttpClientOptions})"/> or the client builder.</param>
    /// <param name="failureStatus">The status reported when the session is closed or cannot connect (default Unhealthy).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddShmipcClientHealthCheck(this IHealthChecksBuilder builder, string name, HealthStatus? failureStatus = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            $"shmipc-client-{name}",
            sp => new ShmipcClientHealthCheck(sp.GetRequiredService<ShmipcClientSessions>(), name),
            failureStatus,
            ["shmipc"]));
    }

    /// <summary>Adds a health check of the hosted listener of <typeparamref name="THandler"/>: healthy while it is bound.</summary>
    /// <typeparam name="THandler">The handler given to <see cref="AddShmipcListener{THandler}(IServiceCollection, Action{ShmipcListenerOptions})"/>.</typeparam>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="failureStatus">The status reported when the listener is not running (default Unhealthy).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddShmipcListenerHealthCheck<THandler>(this IHealthChecksBuilder builder, HealthStatus? failureStatus = null)
        where THandler : class, IShmipcSessionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            $"shmipc-listener-{typeof(THandler).Name}",
            sp => new ShmipcListenerHealthCheck<THandler>(sp.GetRequiredService<ShmipcListenerService<THandler>>()),
            failureStatus,
            ["shmipc"]));
    }
}
