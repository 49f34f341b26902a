using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// Reads commands from stdin until it closes (the test's way to stop the peer politely) and answers on stdout:
/// <list type="bullet">
/// <item><c>open N</c> (client): opens N streams, greets on each, echoes; answers <c>OPENED session id,id,…</c>.</item>
/// <item><c>close SESSION ID</c>: closes that stream towards the other side; answers <c>CLOSED SESSION ID</c>.</item>
/// <item><c>memory</c>: collects garbage fully and answers <c>MEMORY managed=BYTES</c> (the live managed heap, pooled arrays included).</item>
/// <item><c>stats SESSION</c>: answers <c>STATS SESSION active=… fallbackWrites=… fallbackReads=… … pauses=… rssKiB=…</c> or <c>STATS SESSION missing</c>.</item>
/// <item><c>cpu</c>: answers <c>CPU us=… jitUs=… rssKiB=…</c>: CPU time (µs) of this process's threads but the background JIT, of the JIT, and resident memory.</item>
/// </list>
/// </summary>
internal sealed class CommandLoop(SessionTable table, Func<int, Task>? open)
{
    public async Task RunAsync()
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            try
            {
                await HandleAsync(words);
            }
            catch (Exception e)
            {
                Console.WriteLine($"COMMAND-FAIL {line} {StreamEcho.Describe(e)}");
            }
        }
    }

    private async Task HandleAsync(string[] words)
    {
        switch (words[0])
        {
            case "open" when open is not null && words.Length == 2:
                await open(int.Parse(words[1], CultureInfo.InvariantCulture));
                break;
            case "close" when words.Length == 3:
                var id = uint.Parse(words[2], CultureInfo.InvariantCulture);
                if (table.TryGetStream(words[1], id, out var stream))
                {
                    stream.Output.TryComplete();
                    Console.WriteLine($"CLOSED {words[1]} {id}");
                }
                else
                {
                    Console.WriteLine($"CLOSE-MISSING {words[1]} {id}");
                }

                break;
            case "stats" when words.Length == 2:
                Console.WriteLine(table.TryGetSession(words[1], out var s)
                    ? $"STATS {s.Name} active={s.ActiveStreamCount} fallbackWrites={s.FallbackWriteCount} fallbackReads={s.FallbackReadCount} closed={s.IsClosed}" +
                      $" bufferedMessages={s.ReceiveBufferedMessages} bufferedBytes={s.ReceiveBufferedBytes} pauses={s.ReceivePauseCount} syncSent={s.SyncEventsSent} syncReceived={s.SyncEventsReceived} rssKiB={ProcessStats.ResidentKiB()}"
                    : $"STATS {words[1]} missing");
                break;
            case "memory" when words.Length == 1:
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MEMORY managed={GC.GetTotalMemory(forceFullCollection: true)}"));
                break;
            case "cpu" when words.Length == 1:
                var (threads, jit) = ProcessStats.CpuMicroseconds();
                Console.WriteLine(FormattableString.Invariant($"CPU us={threads} jitUs={jit} rssKiB={ProcessStats.ResidentKiB()}"));
                break;
            default:
                Console.WriteLine($"COMMAND-UNKNOWN {string.Join(' ', words)}");
                break;
        }
    }
}
