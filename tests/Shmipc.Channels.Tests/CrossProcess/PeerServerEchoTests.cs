using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>The test process is the client; the peer runs <c>serve --mode echo</c>.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PeerServerEchoTests(CrossProcessFixture fixture, ITestOutputHelper output) : EchoPeerTestsBase(fixture, output)
{
    protected override async Task<(ShmipcSession Session, PeerProcess Peer)> GetEndpointAsync(MemoryMapType mode)
    {
        var session = await Fixture.GetEchoClientSessionAsync(mode);
        return (session, Fixture.EchoServerPeer);
    }

    protected override async Task<ShmipcStream[]> OpenStreamsAsync(MemoryMapType mode, int count, CancellationToken cancellationToken)
    {
        var session = await Fixture.GetEchoClientSessionAsync(mode);
        return [.. Enumerable.Range(0, count).Select(_ => session.OpenStream())];
    }
}
