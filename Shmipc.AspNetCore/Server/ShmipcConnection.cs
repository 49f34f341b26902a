using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Server;

/// <summary>One shmipc stream as one Kestrel connection.</summary>
// Design: Transport is the stream's ShmipcDuplexPipe behind ConnectionInput/ConnectionOutput (a failed session looks
// to Kestrel like a reset socket, see there), used by Kestrel's connection loop only. ConnectionClosed fires
// once the peer's input has ended (it closed the stream, or the session failed); Abort ends both directions at once.
// DisposeAsync, called by Kestrel after it completed both sides of Transport, releases the stream. _closed is never
// disposed: it has no timer, and the input-completion continuation may still cancel it after DisposeAsync.
internal sealed class ShmipcConnection : ConnectionContext, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private static long s_lastId;

    private readonly ShmipcDuplexPipe _pipe;
    private readonly ConnectionTransport _transport;
    private readonly CancellationTokenSource _closed = new();
    private int _disposed;

    public ShmipcConnection(ShmipcDuplexPipe pipe, ShmipcEndPoint endPoint)
    {
        _pipe = pipe;
        _transport = new ConnectionTransport(new ConnectionInput(pipe.Input), new ConnectionOutput(pipe.Output, _ => SignalClosed()));
        LocalEndPoint = endPoint;
        RemoteEndPoint = endPoint;
        ConnectionId = $"shmipc-{Interlocked.Increment(ref s_lastId)}";
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        Features.Set<IConnectionIdFeature>(new ConnectionIdFeature(this));
        _ = _pipe.Stream.Input.Completion.ContinueWith(
            static (_, state) => ((ShmipcConnection)state!).SignalClosed(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <inheritdoc />
    public override string ConnectionId { get; set; }

    /// <inheritdoc />
    public override IFeatureCollection Features { get; } = new FeatureCollection();

    /// <inheritdoc />
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    /// <inheritdoc />
    public override IDuplexPipe Transport
    {
        get => _transport;
        set => throw new NotSupportedException("The transport of a shmipc connection is its stream.");
    }

    /// <inheritdoc />
    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("ConnectionClosed is owned by the transport.");
    }

    /// <inheritdoc />
    public override EndPoint? LocalEndPoint { get; set; }

    /// <inheritdoc />
    public override EndPoint? RemoteEndPoint { get; set; }

    /// <inheritdoc />
    public override void Abort(ConnectionAbortedException abortReason)
    {
        _pipe.Abort(abortReason);
        SignalClosed();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _pipe.DisposeAsync().ConfigureAwait(false);
            SignalClosed();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void SignalClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (AggregateException)
        {
            // A ConnectionClosed callback of the application threw; Kestrel logs its own errors.
        }
    }

    private sealed class ConnectionIdFeature(ShmipcConnection connection) : IConnectionIdFeature
    {
        public string ConnectionId
        {
            get => connection.ConnectionId;
            set => connection.ConnectionId = value;
        }
    }
}
