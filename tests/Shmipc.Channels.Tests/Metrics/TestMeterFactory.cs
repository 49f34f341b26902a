using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Tests.Metrics;

/// <summary>An <see cref="IMeterFactory"/> as a host provides one: meters scoped to the factory, one per name, disposed with it.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly Dictionary<string, Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        lock (_meters)
        {
            if (!_meters.TryGetValue(options.Name, out var meter))
            {
                options.Scope = this;
                _meters[options.Name] = meter = new Meter(options);
            }

            return meter;
        }
    }

    public void Dispose()
    {
        lock (_meters)
        {
            foreach (var meter in _meters.Values)
            {
                meter.Dispose();
            }

            _meters.Clear();
        }
    }
}
