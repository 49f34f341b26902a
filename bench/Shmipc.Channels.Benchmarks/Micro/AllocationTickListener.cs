using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// Samples allocations through the runtime's GCAllocationTick event (one event per ~100 KB allocated per heap), keyed
/// by allocated type and by the name of the allocating thread (from /proc/self/task/&lt;tid&gt;/comm, so the reactor
/// thread "shmipc-reactor" is told apart from thread-pool workers).
/// </summary>
internal sealed class AllocationTickListener : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;

    private readonly ConcurrentDictionary<(string Type, string Thread), (long Events, long Bytes)> _samples = new();
    private readonly ConcurrentDictionary<long, string> _threadNames = new();
    private volatile bool _recording;

    public bool Recording
    {
        get => _recording;
        set => _recording = value;
    }

    public IReadOnlyDictionary<(string Type, string Thread), (long Events, long Bytes)> Samples => _samples;

    public void Clear() => _samples.Clear();

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            return;
        }

        var names = eventData.PayloadNames;
        var payload = eventData.Payload;
        if (names is null || payload is null)
        {
            return;
        }

        var type = "?";
        long bytes = 0;
        for (var i = 0; i < names.Count; i++)
        {
            switch (names[i])
            {
                case "TypeName":
                    type = payload[i] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    bytes = Convert.ToInt64(payload[i], CultureInfo.InvariantCulture);
                    break;
                case "AllocationAmount" when bytes == 0:
                    bytes = Convert.ToInt64(payload[i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        var thread = _threadNames.GetOrAdd(eventData.OSThreadId, ThreadName);
        _samples.AddOrUpdate((type, thread), (1, bytes), (_, old) => (old.Events + 1, old.Bytes + bytes));
    }

    private static string ThreadName(long tid)
    {
        try
        {
            return File.ReadAllText($"/proc/self/task/{tid}/comm").Trim() + $" ({tid})";
        }
        catch (IOException)
        {
            return $"tid {tid}";
        }
    }
}
