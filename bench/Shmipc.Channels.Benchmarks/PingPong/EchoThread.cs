namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The child side of a floor transport (<see cref="SpinServer"/>, <see cref="QueueFloorServer"/>): one background
/// thread that echoes until <see cref="Stop"/>.
/// </summary>
internal abstract class EchoThread
{
    private volatile bool _stop;

    /// <summary>The thread's name.</summary>
    protected abstract string ThreadName { get; }

    /// <summary>Whether <see cref="Stop"/> was called.</summary>
    protected bool Stopping => _stop;

    public Thread Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = ThreadName };
        thread.Start();
        return thread;
    }

    public void Stop() => _stop = true;

    /// <summary>One step of a wait for the next request: <see cref="SpinLayout.Pause"/>, and once about a millisecond has
    /// gone by without one, a 1 ms sleep between looks, so an idle child does not take a core from other cells.</summary>
    protected static void IdlePause(ref int spins)
    {
        if (spins > 1 << 16)
        {
            Thread.Sleep(1);
        }
        else
        {
            SpinLayout.Pause(ref spins);
        }
    }

    /// <summary>Echoes until <see cref="Stopping"/>.</summary>
    protected abstract void Run();
}
