using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>A shmipc listener run by the host (<see cref="ShmipcServiceCollectionExtensions.AddShmipcListener{THandler}(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{ShmipcListenerOptions})"/>).</summary>
public sealed class ShmipcListenerOptions
{
    /// <summary>The Unix socket to listen on (required).</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>Options of the accepted sessions.</summary>
    public ShmipcServerOptions Server { get; set; } = new();
}
