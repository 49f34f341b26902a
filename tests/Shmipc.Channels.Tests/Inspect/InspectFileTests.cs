using System.Text.Json;
using Shmipc.Channels.Memory;
using Xunit;
using Xunit.Abstractions;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Tests.Inspect;

/// <summary>shmipc-inspect against /dev/shm files laid out by the real buffer manager and queues, healthy and damaged.</summary>
[Collection(InspectCollection.Name)]
public sealed class InspectFileTests(ITestOutputHelper output)
{
    [Fact]
    public void Healthy_region_is_consistent_and_shows_held_and_queued_slices_without_being_written()
    {
        using var files = new RegionFiles();
        Assert.True(files.Manager.TryAllocate(100, out uint held));
        Assert.True(files.Manager.TryAllocate(200, out uint queued1));
        Assert.True(files.Manager.TryAllocate(300, out uint queued2));
        Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(3, queued1)));
        Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(3, queued2)));
        Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Close(5)));
        string before = files.Fingerprint();

        var run = InspectRun.InProcess(files.BufferPath, files.QueuePath, "--json");
        output.WriteLine(run.ToString());

        Assert.Equal(0, run.ExitCode);
        var doc = run.JsonDocuments().Single();
        Assert.True(doc.GetProperty("consistent").GetBoolean());
        var buffer = run.Regions("_buffer").Single();
        Assert.Equal("buffer", buffer.GetProperty("kind").GetString());
        Assert.Equal(2, buffer.GetProperty("listCount").GetInt32());
        Assert.Equal(3, buffer.GetProperty("slicesNotFree").GetInt64());
        var list0 = buffer.GetProperty("lists")[0];
        Assert.Equal(1024u, list0.GetProperty("sliceSize").GetUInt32());
        uint cap0 = list0.GetProperty("capacity").GetUInt32();
        Assert.Equal(files.Manager.GetList(0).SliceCount, cap0);
        Assert.Equal((int)cap0 - 3, list0.GetProperty("freeCount").GetInt32());
        Assert.Equal(cap0 - 3, list0.GetProperty("freeListLength").GetUInt32());
        var slices = list0.GetProperty("slicesNotFree").EnumerateArray().ToDictionary(s => s.GetProperty("offset").GetUInt32());
        Assert.Equal([held, queued1, queued2], slices.Keys.Order());
        Assert.Equal(JsonValueKind.Null, slices[held].GetProperty("queuedIn").ValueKind);
        Assert.Contains("client->server #0 stream 3", slices[queued1].GetProperty("queuedIn").GetString(), StringComparison.Ordinal);
        Assert.Contains("client->server #1 stream 3", slices[queued2].GetProperty("queuedIn").GetString(), StringComparison.Ordinal);
        Assert.Equal("in-use", slices[held].GetProperty("flags").GetString());

        var queue = run.Regions("_queue_0").Single();
        Assert.Equal("queue", queue.GetProperty("kind").GetString());
        var c2s = queue.GetProperty("queues")[0];
        Assert.Equal("client->server", c2s.GetProperty("direction").GetString());
        Assert.Equal(RegionFiles.QueueCapacity, c2s.GetProperty("capacity").GetUInt32());
        Assert.Equal(0, c2s.GetProperty("head").GetInt64());
        Assert.Equal(3, c2s.GetProperty("tail").GetInt64());
        Assert.Equal(3, c2s.GetProperty("pendingCount").GetInt64());
        Assert.True(c2s.GetProperty("pending")[2].GetProperty("close").GetBoolean());
        Assert.Equal(0, queue.GetProperty("queues")[1].GetProperty("pendingCount").GetInt64());

        var text = InspectRun.InProcess(files.BufferPath, files.QueuePath);
        output.WriteLine(text.ToString());
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("buffer region " + files.BufferPath, text.Output, StringComparison.Ordinal);
        Assert.Contains("slices not on a free list: 3 of", text.Output, StringComparison.Ordinal);
        Assert.Contains("held (lease or write in progress) or leaked", text.Output, StringComparison.Ordinal);
        Assert.Contains("queued in ", text.Output, StringComparison.Ordinal);
        Assert.Contains("client->server: capacity 16, head 0, tail 3, working flag 0, pending 3", text.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("INCONSISTENT", text.Output, StringComparison.Ordinal);

        Assert.Equal(before, files.Fingerprint());
    }

    [Theory]
    [InlineData("loop", "the free list loops")]
    [InlineData("head", "head 7 is not a slice offset")]
    [InlineData("free-count", "free count is")]
    [InlineData("used-length", "usedLength is")]
    [InlineData("link", "links to 4294967040")]
    [InlineData("slice-cap", "slice 3 says its capacity is 99")]
    [InlineData("tail-behind-head", "client->server: tail 0 is behind head 5")]
    [InlineData("too-many-pending", "40 pending elements exceed the capacity 16")]
    [InlineData("working-flag", "working flag is 7")]
    [InlineData("element-offset", "where no slice can start")]
    [InlineData("queued-but-free", "is queued but also on the free list")]
    [InlineData("queued-twice", "is also queued by")]
    public void Damaged_region_is_reported_with_what_is_wrong(string damage, string expected)
    {
        using var files = new RegionFiles();
        Damage(files, damage);
        string before = files.Fingerprint();

        var run = InspectRun.InProcess(files.BufferPath, files.QueuePath);
        output.WriteLine(run.ToString());

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("INCONSISTENT", run.Output, StringComparison.Ordinal);
        Assert.Contains(expected, run.Output, StringComparison.Ordinal);
        Assert.Equal(before, files.Fingerprint());

        var json = InspectRun.InProcess(files.BufferPath, files.QueuePath, "--json");
        Assert.Equal(1, json.ExitCode);
        var issues = json.JsonDocuments().Single().GetProperty("regions").EnumerateArray()
            .SelectMany(r => r.GetProperty("issues").EnumerateArray().Select(i => i.GetString()!));
        Assert.Contains(issues, i => i.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tool_process_reports_a_damaged_region_with_exit_code_1()
    {
        using var files = new RegionFiles();
        Damage(files, "loop");

        var run = await InspectRun.AsProcessAsync(TimeSpan.FromSeconds(60), files.BufferPath, "--json");
        output.WriteLine(run.ToString());

        Assert.Equal(1, run.ExitCode);
        var region = run.Regions("_buffer").Single();
        Assert.False(region.GetProperty("consistent").GetBoolean());
        Assert.Contains(region.GetProperty("issues").EnumerateArray(), i => i.GetString()!.Contains("the free list loops", StringComparison.Ordinal));
    }

    [Fact]
    public void Watch_prints_one_document_per_pass()
    {
        using var files = new RegionFiles();

        var run = InspectRun.InProcess(files.BufferPath, "--json", "--watch", "--iterations", "3", "--interval-ms", "10");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, run.JsonDocuments().Count);
        Assert.All(run.JsonDocuments(), d => Assert.True(d.GetProperty("consistent").GetBoolean()));
    }

    [Fact]
    public void Bad_command_lines_and_missing_targets_have_their_own_exit_codes()
    {
        Assert.Equal(64, InspectRun.InProcess().ExitCode);
        Assert.Equal(64, InspectRun.InProcess("--bogus", "1").ExitCode);
        Assert.Equal(64, InspectRun.InProcess("1", "--watch", "--iterations", "0").ExitCode);

        var missing = InspectRun.InProcess("/dev/shm/shmipc_inspect_no_such_file_buffer");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no such file", missing.Error, StringComparison.Ordinal);

        var noProcess = InspectRun.InProcess("2147483646");
        Assert.Equal(2, noProcess.ExitCode);
        Assert.Contains("no process 2147483646", noProcess.Error, StringComparison.Ordinal);

        string notShmipc = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notShmipc, "hello, not a region");
            var unknown = InspectRun.InProcess(notShmipc);
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("neither a shmipc buffer region nor a queue pair", unknown.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notShmipc);
        }

        var help = InspectRun.InProcess("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--watch", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_is_mapped_read_only()
    {
        using var files = new RegionFiles();
        using var region = ReadOnlyRegion.Open(files.BufferPath);

        string line = File.ReadLines("/proc/self/maps").Single(l => l.EndsWith(files.BufferPath, StringComparison.Ordinal) && !l.Contains("rw", StringComparison.Ordinal));
        Assert.StartsWith("r--s", line.Split(' ')[1], StringComparison.Ordinal);
        Assert.Equal(RegionFiles.BufferBytes, region.Length);
        Assert.Equal(2, region.ReadUInt16(ListCountOffset));
        Assert.Equal(0u, region.ReadUInt32(region.Length)); // out of range reads nothing
    }

    private static void Damage(RegionFiles files, string damage)
    {
        uint list0 = files.ListOffset(0);
        uint list1 = files.ListOffset(1);
        uint r0 = list0 + ListHeaderSize;
        uint stride0 = 1024 + SliceHeaderSize;
        QueueLayout layout = QueueLayout.Current;
        switch (damage)
        {
            case "loop":
                files.WriteBufferU32(r0 + (2 * stride0) + SliceNextOffset, stride0); // slice 2 → slice 1
                break;
            case "head":
                files.WriteBufferU32(list1 + ListHeadOffset, 7);
                break;
            case "free-count":
                files.WriteBufferU32(list0 + ListSizeOffset, files.Manager.GetList(0).SliceCount - 5);
                break;
            case "used-length":
                files.WriteBufferU32(UsedLengthOffset, files.Manager.UsedLength + 36);
                break;
            case "link":
                files.WriteBufferU32(r0 + SliceNextOffset, 0xFFFFFF00);
                break;
            case "slice-cap":
                files.WriteBufferU32(r0 + (3 * stride0) + SliceCapOffset, 99);
                break;
            case "tail-behind-head":
                files.WriteQueueI64(layout.HeadOffset, 5);
                break;
            case "too-many-pending":
                files.WriteQueueI64(layout.TailOffset, 40);
                break;
            case "working-flag":
                files.WriteQueueU32(layout.WorkingFlagOffset, 7);
                break;
            case "element-offset":
                Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(3, 4)));
                break;
            case "queued-but-free":
                Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(3, r0 + (5 * stride0))));
                break;
            case "queued-twice":
                Assert.True(files.Manager.TryAllocate(10, out uint slice));
                Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(3, slice)));
                Assert.True(files.Queues.SendQueue.TryPut(QueueElement.Data(7, slice)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }
    }
}
