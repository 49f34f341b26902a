using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Client shared-memory names cannot be predicted: two sessions of one process get different random parts, and a file
/// planted in /dev/shm at the name shmipc-go would use next does not stop a connect.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ClientNamingTests : IDisposable
{
    private readonly CrossProcessFixture _fixture;

    public ClientNamingTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<MemoryMapType> Modes => new() { MemoryMapType.MemFd, MemoryMapType.DevShmFile };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Connect_TwoSessionsOfOneProcess_GetDifferentRandomNames(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("names");
        var echo = await _fixture.GetEchoServerAsync();
        var first = await _fixture.ConnectAsync(echo, new ShmipcClientOptions { MemoryMapType = mode, PathPrefix = prefix }, cts.Token);
        var second = await _fixture.ConnectAsync(echo, new ShmipcClientOptions { MemoryMapType = mode, PathPrefix = prefix }, cts.Token);

        var a = RandomPart(first.Name, prefix);
        var b = RandomPart(second.Name, prefix);
        Assert.NotEqual(a, b);
        await Messages.RoundTripAsync(first.OpenStream(), 100, 1, cts.Token);
        await Messages.RoundTripAsync(second.OpenStream(), 100, 2, cts.Token);
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Connect_FilePlantedAtThePredictableName_DoesNotStopTheConnect()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("planted");

        // Where shmipc-go (and this library before) put the buffer region of this process: someone got there first.
        var planted = $"{prefix}_{Environment.ProcessId}_buffer";
        await File.WriteAllBytesAsync(planted, new byte[4096], cts.Token);
        try
        {
            var session = await _fixture.ConnectAsync(
                await _fixture.GetEchoServerAsync(), new ShmipcClientOptions { MemoryMapType = MemoryMapType.DevShmFile, PathPrefix = prefix }, cts.Token);
            await Messages.RoundTripAsync(session.OpenStream(), 5000, 3, cts.Token);
            Assert.Equal(0, session.FallbackWriteCount);
            RandomPart(session.Name, prefix);
            await session.DisposeAsync();
        }
        finally
        {
            File.Delete(planted);
        }
    }

    public void Dispose() => _fixture.Detach();

    /// <summary>The 16 random hex digits of a client session name (its queue name), asserting the whole shape.</summary>
    private static string RandomPart(string sessionName, string prefix)
    {
        var match = Regex.Match(sessionName, $"^{Regex.Escape(prefix)}_{Environment.ProcessId}_(?<random>[0-9a-f]{{16}})_queue_\\d+$");
        Assert.True(match.Success, $"session name {sessionName} does not have the shape <prefix>_<pid>_<random>_queue_<n>");
        return match.Groups["random"].Value;
    }
}
