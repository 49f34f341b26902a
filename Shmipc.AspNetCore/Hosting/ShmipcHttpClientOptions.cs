using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>Where a named HttpClient (or gRPC client) registered with <see cref="ShmipcServiceCollectionExtensions.UseShmipc"/> connects.</summary>
public sealed class ShmipcHttpClientOptions
{
    /// <summary>The server's Unix socket (required).</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>Options of the client session.</summary>
    public ShmipcClientOptions Session { get; set; } = new();

    /// <summary>Send requests as HTTP/2 with prior knowledge (default; what gRPC uses); false for HTTP/1.1.</summary>
    public bool Http2 { get; set; } = true;
}
