using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Tests.Metrics;

/// <summary>A <see cref="MeterListener"/> that records every measurement of the <c>Shmipc</c> meters a filter accepts.</summary>
internal sealed class RecordedMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, object? Scope, long Value, Dictionary<string, object?> Tags)> _measurements = new();

    public RecordedMeasurements(Func<Meter, bool> meterFilter)
    {
        Published = new ConcurrentDictionary<string, Instrument>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Shmipc" && meterFilter(instrument.Meter))
            {
                Published[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _measurements.Enqueue((instrument.Name, instrument.Meter.Scope, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        _listener.Start();
    }

    public ConcurrentDictionary<string, Instrument> Published { get; }

    /// <summary>Collects the observable instruments now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>Measurements of <paramref name="instrument"/> for the session <paramref name="session"/> in <paramref name="role"/>.</summary>
    public IReadOnlyList<(long Value, Dictionary<string, object?> Tags)> Of(string instrument, string session, string role) =>
        [.. _measurements
            .Where(m => m.Instrument == instrument
                && Equals(m.Tags.GetValueOrDefault("shmipc.session"), session)
                && Equals(m.Tags.GetValueOrDefault("shmipc.session.role"), role))
            .Select(m => (m.Value, m.Tags))];

    public long Sum(string instrument, string session, string role) => Of(instrument, session, role).Sum(m => m.Value);

    public void Clear() => _measurements.Clear();

    public void Dispose() => _listener.Dispose();
}
