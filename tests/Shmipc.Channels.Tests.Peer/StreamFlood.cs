namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>serve --mode flood</c>: after the first message on a stream, writes <see cref="MessageSize"/>-byte messages on it
/// without end (so a kill finds it mid-write, with slices of the client's region half written or queued) and says
/// <c>FLOODING session id</c> once <see cref="FloodingAfter"/> messages are out.
/// </summary>
internal static class StreamFlood
{
    public const int MessageSize = 256 * 1024;
    private const int FloodingAfter = 8;

    public static async Task RunAsync(ShmipcStream stream)
    {
        var sent = 0;
        try
        {
            using (await stream.Input.ReadAsync())
            {
            }

            var payload = PayloadPattern.Create(MessageSize, stream.Id);
            while (true)
            {
                await stream.WriteAsync(payload);
                if (++sent == FloodingAfter)
                {
                    Console.WriteLine($"FLOODING {stream.Session.Name} {stream.Id}");
                }
            }
        }
        catch (Exception e) when (e is System.Threading.Channels.ChannelClosedException or ShmipcException)
        {
            Console.WriteLine($"STREAM-FAIL {stream.Session.Name} {stream.Id} count={sent} {StreamEcho.Describe(e.InnerException ?? e)}");
        }
    }
}
