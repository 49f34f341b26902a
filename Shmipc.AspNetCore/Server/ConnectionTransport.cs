using System.IO.Pipelines;

namespace Shmipc.AspNetCore.Server;

/// <summary>The <see cref="IDuplexPipe"/> a <see cref="ShmipcConnection"/> gives Kestrel: its input and output adapters.</summary>
internal sealed class ConnectionTransport(ConnectionInput input, ConnectionOutput output) : IDuplexPipe
{
    public PipeReader Input => input;

    public PipeWriter Output => output;
}
