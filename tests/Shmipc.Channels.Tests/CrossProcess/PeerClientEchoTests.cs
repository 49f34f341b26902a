using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>The test process is the server (its own listener); the peer runs <c>connect</c> and echoes.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PeerClientEchoTests(CrossProcessFixture fixture, ITestOutputHelper output) : EchoPeerTestsBase(fixture, output)
{
    protected override async Task<(ShmipcSession Session, PeerProcess Peer)> GetEndpointAsync(MemoryMapType mode)
    {
        var client = await Fixture.GetPeerClientAsync(mode);
        return (client.Session, client.Process);
    }

    protected override async Task<ShmipcStream[]> OpenStreamsAsync(MemoryMapType mode, int count, CancellationToken cancellationToken) =>
        await Fixture.OpenPeerStreamsAsync(await Fixture.GetPeerClientAsync(mode), count, cancellationToken);
}
