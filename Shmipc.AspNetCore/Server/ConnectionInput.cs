using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Server;

/// <summary>
/// The input Kestrel reads: the stream's <see cref="ShmipcDuplexPipe.Input"/>, with a failed session reported the way
/// the socket transport reports a reset socket.
/// </summary>
// Design: Kestrel treats ConnectionResetException (an IOException) from its input as the normal end of a connection
// whose peer went away: it aborts the connection's requests (RequestAborted fires) and logs at Debug. Any other
// exception escapes its request loop as "Unexpected exception" at Critical level and can leave HTTP/2 streams waiting
// for flow-control credit that never comes. So a ShmipcException (the session failed: the client process died, closed
// its session, or broke the protocol) becomes a ConnectionResetException whose inner exception is the cause. Only
// ReadAsync and TryRead can throw it; every other call is passed through.
internal sealed class ConnectionInput(PipeReader inner) : PipeReader
{
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var read = inner.ReadAsync(cancellationToken);
            return read.IsCompletedSuccessfully ? read : AwaitAsync(read);
        }
        catch (ShmipcException e)
        {
            throw Reset(e);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        try
        {
            return inner.TryRead(out result);
        }
        catch (ShmipcException e)
        {
            throw Reset(e);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <summary>What Kestrel sees when the session under the connection failed.</summary>
    internal static ConnectionResetException Reset(ShmipcException cause) =>
        new($"The shmipc session under the connection failed: {cause.Message}", cause);

    private static async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (ShmipcException e)
        {
            throw Reset(e);
        }
    }
}
