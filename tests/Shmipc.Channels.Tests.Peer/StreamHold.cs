namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>serve --mode hold</c>: keeps every message it receives (never disposes the lease, so the slices stay taken in the
/// client's region) and says <c>HELD session id count</c> after each one. For tests that kill a server holding leases.
/// </summary>
internal static class StreamHold
{
    public static async Task RunAsync(ShmipcStream stream)
    {
        var held = new List<ShmLease>();
        try
        {
            await foreach (var message in stream.Input.ReadAllAsync())
            {
                held.Add(message);
                Console.WriteLine($"HELD {stream.Session.Name} {stream.Id} {held.Count}");
            }
        }
        catch (System.Threading.Channels.ChannelClosedException e)
        {
            Console.WriteLine($"STREAM-FAIL {stream.Session.Name} {stream.Id} count={held.Count} {StreamEcho.Describe(e.InnerException ?? e)}");
        }
    }
}
