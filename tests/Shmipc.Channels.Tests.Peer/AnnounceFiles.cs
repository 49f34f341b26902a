using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>announce</c>: a file-mode client handshake (v3, so the server's answer is visible) that announces paths of the
/// test's choosing. With <c>--queue-path Q --buffer-path B</c> it names someone else's files (taking over a session);
/// otherwise it creates its own valid files under <c>--prefix</c>, optionally hands them to <c>--owner UID</c>
/// (chown) or fills the buffer region with garbage (<c>--kind bad-buffer</c>), and with <c>--keep</c> leaves them
/// behind when it exits, like a client that died. <c>--kind shared-buffer</c> opens a second session that announces the
/// same buffer file with a queue of its own, as shmipc-go's SessionManager shares one buffer among a process's
/// sessions. Prints <c>RESULT accepted</c> or <c>RESULT refused &lt;how&gt;</c>,
/// then waits for stdin to close.
/// </summary>
internal static unsafe class AnnounceFiles
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(10);

    public static int Run(PeerArguments args)
    {
        SharedRegion? buffer = null;
        SharedRegion? queue = null;
        SharedRegion? secondQueue = null;
        SocketFd? secondSocket = null;
        try
        {
            string queuePath;
            string bufferPath;
            if (args.QueuePath is not null && args.BufferPath is not null)
            {
                (queuePath, bufferPath) = (args.QueuePath, args.BufferPath);
            }
            else
            {
                bufferPath = args.Prefix + "_buffer";
                queuePath = args.Prefix + "_queue_0";
                buffer = SharedRegion.CreateFile(bufferPath, 1024 * 1024);
                if (args.Kind != "bad-buffer")
                {
                    ReadOnlySpan<(uint, uint)> classes = [(4096u, 50u), (16384u, 50u)];
                    _ = BufferManager.Create(buffer.Base, buffer.Length, classes);
                }
                else
                {
                    buffer.GetSpan(0, 64).Fill(0xEE);
                }

                queue = SharedRegion.CreateFile(queuePath, IoQueuePair.SizeFor(1024));
                _ = IoQueuePair.Create(queue.Base, queue.Length, 1024, isCreator: true, QueueLayout.Current);
                if (args.Owner is { } owner)
                {
                    Chown(owner, bufferPath, queuePath);
                }

                buffer.DeleteOnDispose = queue.DeleteOnDispose = !args.Keep;
            }

            using var socket = SocketFd.ConnectUnix(args.SocketPath, IoTimeout);
            string result;
            try
            {
                HandshakeClient.Run(new SocketHandshakeTransport(socket), ClientHandshakeRequest.FilePathV3(queuePath, bufferPath), IoTimeout);
                result = "accepted";
                if (args.Kind == "shared-buffer")
                {
                    var secondPath = args.Prefix + "_queue_1";
                    secondQueue = SharedRegion.CreateFile(secondPath, IoQueuePair.SizeFor(1024));
                    _ = IoQueuePair.Create(secondQueue.Base, secondQueue.Length, 1024, isCreator: true, QueueLayout.Current);
                    secondQueue.DeleteOnDispose = !args.Keep;
                    secondSocket = SocketFd.ConnectUnix(args.SocketPath, IoTimeout);
                    HandshakeClient.Run(new SocketHandshakeTransport(secondSocket), ClientHandshakeRequest.FilePathV3(secondPath, bufferPath), IoTimeout);
                }
            }
            catch (ShmipcException e)
            {
                result = $"refused {e.ErrorCode}: {e.Message}";
            }

            Console.WriteLine($"RESULT {result}");
            while (Console.ReadLine() is not null)
            {
                // Stay connected until the test closes stdin.
            }

            return 0;
        }
        finally
        {
            secondSocket?.Dispose();
            secondQueue?.Dispose();
            queue?.Dispose();
            buffer?.Dispose();
        }
    }

    private static void Chown(uint owner, params string[] paths)
    {
        var info = new ProcessStartInfo("chown") { UseShellExecute = false };
        info.ArgumentList.Add(owner.ToString(CultureInfo.InvariantCulture));
        foreach (var path in paths)
        {
            info.ArgumentList.Add(path);
        }

        using var chown = Process.Start(info)!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown {owner} failed with exit code {chown.ExitCode}");
        }
    }
}
