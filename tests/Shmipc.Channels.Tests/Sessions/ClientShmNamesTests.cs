using Shmipc.Channels.Sessions;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

public sealed class ClientShmNamesTests
{
    private const string Prefix = "/dev/shm/shmipc";

    [Fact]
    public void Create_KeepsShmipcShapeWithRandomPart()
    {
        var names = ClientShmNames.Create(Prefix);
        var pid = Environment.ProcessId;
        Assert.Matches($"^/dev/shm/shmipc_{pid}_[0-9a-f]{{16}}_buffer$", names.Buffer);
        Assert.Matches($"^/dev/shm/shmipc_{pid}_[0-9a-f]{{16}}_queue_{names.SessionIndex}$", names.Queue);
        Assert.Equal(names.Stem + "_buffer", names.Buffer);
        Assert.Equal("shmipc" + names.Buffer, ClientShmNames.MemFd(names.Buffer));
    }

    [Fact]
    public void Create_WithEpoch_UsesShmipcHotRestartForm()
    {
        var names = ClientShmNames.Create(Prefix, epoch: 1024);
        Assert.Matches($"^/dev/shm/shmipc_{Environment.ProcessId}_epoch_1024_[0-9a-f]{{16}}_queue_\\d+$", names.Queue);
    }

    [Fact]
    public void Create_ManyTimes_NeverRepeatsTheRandomPart()
    {
        var stems = Enumerable.Range(0, 1000).Select(_ => ClientShmNames.Create(Prefix).Stem).ToHashSet();
        Assert.Equal(1000, stems.Count);
    }

    [Fact]
    public void Create_LongestAcceptedPrefix_StaysWithinFileAndMemFdNameLimits()
    {
        // Validate allows PathPrefix.Length + 75 <= 255; shmipc-go's randID slot (20 digits) is wider than ours (16).
        var prefix = "/dev/shm/" + new string('p', 180 - "/dev/shm/".Length);
        var options = new ShmipcClientOptions { PathPrefix = prefix };
        options.Validate();
        var names = ClientShmNames.Create(prefix, epoch: ulong.MaxValue);
        Assert.True(Path.GetFileName(names.Queue).Length <= 255, names.Queue);
        Assert.True(ClientShmNames.MemFd(ClientShmNames.Create(prefix).Queue).Length <= 249);
    }
}
