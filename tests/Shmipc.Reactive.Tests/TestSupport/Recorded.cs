using System.Reactive;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>A notification and the virtual time it arrived at (Microsoft.Reactive.Testing's Recorded, rebuilt).</summary>
public readonly record struct Recorded<T>(long Time, Notification<T> Value)
{
    public override string ToString() => $"{Value}@{Time}";
}
