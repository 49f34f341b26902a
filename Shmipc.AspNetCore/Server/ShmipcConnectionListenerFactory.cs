using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Shmipc.AspNetCore.Server;

/// <summary>
/// The Kestrel transport for <see cref="ShmipcEndPoint"/>: it sits beside the socket transport, and Kestrel asks
/// <see cref="CanBind"/> which factory binds an endpoint.
/// </summary>
internal sealed class ShmipcConnectionListenerFactory(ILoggerFactory? loggerFactory = null) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Shmipc.AspNetCore.Transport");

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is ShmipcEndPoint;

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not ShmipcEndPoint shmipc)
        {
            throw new NotSupportedException($"The shmipc transport binds only a {nameof(ShmipcEndPoint)}, not {endpoint}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<IConnectionListener>(ShmipcConnectionListener.Bind(shmipc, _logger));
    }
}
