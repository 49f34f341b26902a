using Grpc.Net.Client;
using Shmipc.AspNetCore.Client;
using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>HttpClient and GrpcChannel over shared memory, to a server listening with <see cref="ShmipcKestrelExtensions.ListenShmipc"/>.</summary>
/// <example>
/// <code>
/// using var channel = ShmipcHttp.CreateGrpcChannel("/run/app.sock");
/// var reply = await new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "shm" });
///
/// using var http = ShmipcHttp.CreateHttpClient("/run/app-http1.sock");   // HTTP/1.1 endpoint
/// var text = await http.GetStringAsync("/health");
/// </code>
/// </example>
/// <remarks>
/// One shmipc session is connected on the first request (and again if it closes); every HTTP connection the handler
/// opens is one stream of it. Disposing the client (or channel) closes the session.
/// </remarks>
public static class ShmipcHttp
{
    /// <summary>The base address requests are sent to: the host name only appears in the Host / :authority header.</summary>
    public static readonly Uri DefaultBaseAddress = new("http://shmipc");

    /// <summary>Creates a message handler whose connections are shmipc streams to <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The server's Unix socket.</param>
    /// <param name="options">Client session options, or null for the defaults.</param>
    /// <param name="configure">Adjusts the SocketsHttpHandler (timeouts, HTTP/2 settings); ConnectCallback is set already.</param>
    /// <returns>The handler; disposing it closes the session.</returns>
    public static HttpMessageHandler CreateHandler(string socketPath, ShmipcClientOptions? options = null, Action<SocketsHttpHandler>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        return CreateHandler(new SingleSessionSource(socketPath, options), configure, ownsSessions: true);
    }

    /// <summary>Creates an HttpClient whose connections are shmipc streams to <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The server's Unix socket.</param>
    /// <param name="options">Client session options, or null for the defaults.</param>
    /// <param name="http2">Send every request as HTTP/2 with prior knowledge (the server endpoint's default); false for HTTP/1.1.</param>
    /// <returns>An HttpClient with <see cref="DefaultBaseAddress"/>; disposing it closes the session.</returns>
    public static HttpClient CreateHttpClient(string socketPath, ShmipcClientOptions? options = null, bool http2 = true)
    {
        var client = new HttpClient(CreateHandler(socketPath, options), disposeHandler: true) { BaseAddress = DefaultBaseAddress };
        if (http2)
        {
            client.DefaultRequestVersion = System.Net.HttpVersion.Version20;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        return client;
    }

    /// <summary>Creates a gRPC channel whose HTTP/2 connections are shmipc streams to <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The server's Unix socket.</param>
    /// <param name="options">Client session options, or null for the defaults.</param>
    /// <param name="channelOptions">gRPC channel options (message size limits, credentials); its HttpHandler is replaced.</param>
    /// <returns>The channel; disposing it closes the session.</returns>
    public static GrpcChannel CreateGrpcChannel(string socketPath, ShmipcClientOptions? options = null, GrpcChannelOptions? channelOptions = null)
    {
        channelOptions ??= new GrpcChannelOptions();
        channelOptions.HttpHandler = CreateHandler(socketPath, options);
        channelOptions.HttpClient = null;
        channelOptions.DisposeHttpClient = true;
        return GrpcChannel.ForAddress(DefaultBaseAddress, channelOptions);
    }

    internal static HttpMessageHandler CreateHandler(ISessionSource sessions, Action<SocketsHttpHandler>? configure, bool ownsSessions)
    {
        var factory = new ShmipcConnectionFactory(sessions);
        var inner = new SocketsHttpHandler
        {
            // A shmipc stream is cheap and the session multiplexes them: allow HTTP/2 to open more connections
            // rather than queue calls behind the stream limit of one.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
        };
        configure?.Invoke(inner);
        inner.ConnectCallback = factory.ConnectAsync;
        return ownsSessions ? new ShmipcHttpMessageHandler(inner, sessions) : inner;
    }
}
