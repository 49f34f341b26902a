using System.Diagnostics;
using Xunit;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// A SIGKILL sent to a peer (<see cref="PeerProcess.KillNow"/>): when the signal went out, and when the kernel had the
/// process dead (<see cref="TestSupport.ProcessDeath"/>).
/// </summary>
/// <remarks>
/// "Within 1 s after a kill -9" is the survivor's part: it cannot notice before the kernel has torn the dead process
/// down and closed its end of the socket, which under load takes a while after the signal. Bounds are measured from
/// <see cref="DiedAt"/>; a failure must still come after <see cref="SignalledAt"/>.
/// </remarks>
/// <param name="SignalledAt">The <see cref="Stopwatch"/> timestamp just before kill(2).</param>
/// <param name="Died">Completes with the timestamp at which the process was seen to have exited.</param>
public sealed record PeerKill(long SignalledAt, Task<long> Died)
{
    /// <summary>The timestamp the process was seen dead (waits for it, at most <see cref="CrossProcessFixture.Timeout"/>).</summary>
    public async Task<long> DiedAtAsync() => await Died.WaitAsync(CrossProcessFixture.Timeout);

    /// <summary>
    /// Asserts that something the survivor did at <paramref name="at"/> (a <see cref="Stopwatch"/> timestamp) came after
    /// the kill and within <paramref name="bound"/> of the death; returns that delay.
    /// </summary>
    public async Task<TimeSpan> AssertWithinAsync(long at, TimeSpan bound, string what)
    {
        Assert.True(at > SignalledAt, $"{what} before the peer was killed");
        var diedAt = await DiedAtAsync();
        var delay = Stopwatch.GetElapsedTime(diedAt, at);
        var dying = Stopwatch.GetElapsedTime(SignalledAt, diedAt);
        Assert.True(delay < bound, $"{what} {delay.TotalMilliseconds:0} ms after the peer died ({dying.TotalMilliseconds:0} ms after the SIGKILL)");
        return delay;
    }
}
