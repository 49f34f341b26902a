using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// When a process died, as the kernel reports it: a pidfd (pidfd_open(2), Linux 5.3) polls readable once the process
/// has exited, that is after the kernel tore it down and closed its fds (so its peers' sockets have seen the end). A
/// thread blocked in poll(2) before the kill takes the timestamp as soon as it wakes.
/// </summary>
/// <remarks>
/// A SIGKILL is not a death: the kernel still has to tear the process down (unmap its memory, close its files), which
/// on a loaded machine takes a while, and only then can a survivor notice. Detection bounds ("within 1 s after a
/// kill -9") are measured from the later of the signal and this moment.
/// </remarks>
internal static partial class ProcessDeath
{
    private const int SysPidfdOpen = 434; // the same number on every Linux architecture
    private const short PollIn = 0x001;
    private const int EINTR = 4;

    /// <summary>
    /// Starts watching process <paramref name="pid"/> (a child of this process, so its pid cannot be reused before it is
    /// reaped); the task completes with the <see cref="Stopwatch"/> timestamp at which it was seen to have exited.
    /// </summary>
    public static Task<long> Watch(int pid)
    {
        var died = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pidfd = (int)pidfd_open(SysPidfdOpen, pid, 0);
        var thread = new Thread(pidfd >= 0 ? () => PollPidfd(pid, pidfd, died) : () => PollProc(pid, died))
        {
            IsBackground = true,
            Name = $"death of {pid}",
        };
        thread.Start();
        return died.Task;
    }

    private static void PollPidfd(int pid, int pidfd, TaskCompletionSource<long> died)
    {
        try
        {
            var fds = new PollFd { Fd = pidfd, Events = PollIn };
            while (true)
            {
                var n = poll(ref fds, 1, -1);
                if (n > 0)
                {
                    died.TrySetResult(Stopwatch.GetTimestamp());
                    return;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (n < 0 && errno != EINTR)
                {
                    died.TrySetException(new InvalidOperationException($"poll(pidfd of {pid}) failed: errno {errno}"));
                    return;
                }
            }
        }
        finally
        {
            _ = close(pidfd);
        }
    }

    /// <summary>No pidfd (an old kernel, a seccomp filter): watch /proc/PID/stat until the process is a zombie or reaped.</summary>
    private static void PollProc(int pid, TaskCompletionSource<long> died)
    {
        var stat = $"/proc/{pid}/stat";
        while (true)
        {
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                break; // reaped
            }

            // pid (comm) state …: comm may hold spaces and parentheses, the state follows the last ')'.
            var state = text[(text.LastIndexOf(')') + 2)..].FirstOrDefault();
            if (state is 'Z' or 'X')
            {
                break;
            }

            Thread.Sleep(1);
        }

        died.TrySetResult(Stopwatch.GetTimestamp());
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long pidfd_open(long number, int pid, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollFd fds, ulong nfds, int timeout);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
