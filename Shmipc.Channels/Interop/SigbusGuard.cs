using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

/// <summary>
/// Keeps the process alive when a peer truncates shared memory this process has mapped. Touching a page of a
/// MAP_SHARED mapping that lies beyond the end of its file raises SIGBUS, which the .NET runtime turns into a fatal
/// AccessViolationException. For a registered range this guard instead maps an anonymous zero page over the faulting
/// page, counts the hit, wakes the reactor and lets the faulting instruction run again, on zeros. The session that
/// owns the range sees the hit and closes with a clear error; every other session carries on.
/// </summary>
/// <remarks>
/// This is how libwayland-server survives clients that shrink their wl_shm pools. Only needed for memory that is not
/// sealed against shrinking: memfds of shmipc-go peers (created without MFD_ALLOW_SEALING) and /dev/shm files. Only
/// on Linux x64 (<see cref="IsSupported"/>); elsewhere nothing is installed and such memory stays exposed.
/// </remarks>
// Design:
// - The handler runs in signal context, where managed code must not run (a reverse P/Invoke could take locks, allocate,
//   or wait for the GC), so it is 225 bytes of x86-64 machine code written into a page of its own, then made
//   read+execute. It uses raw syscalls (mmap = 9, write = 1, rt_sigaction = 13), which are async-signal-safe and do not
//   touch errno. No native build step and no shipped binary: the bytes are below, with the assembly beside them.
// - It reads a table in unmanaged memory that is never freed: a 128-byte header (slots in use, page mask, page size,
//   wake eventfd, the constant 1, the previous handler, total hits, a zeroed kernel sigaction) and Capacity slots of 32
//   bytes (start, end, hits, unused). Managed code changes slots under s_lock only; the handler never locks.
// - Slot protocol (x86-64 keeps stores in order and loads in order): start is only written while end is 0. Register
//   writes hits = 0, start, then end; unregister writes end = 0, then start = 0. The handler reads end, start, end
//   again and uses the slot only if both reads of end agree and are non-zero, so the start it saw belongs to that end.
//   A slot's high-water mark (header "used") is raised only after the slot is written.
// - Ranges are unregistered just before munmap (SafeMappingHandle.ReleaseHandle), so a zero page can never be mapped
//   over memory that something else has mapped at the same address since.
// - A fault outside every range (or when the anonymous mmap fails) goes to the handler installed before this one,
//   with the original registers and stack (a tail jump), so the runtime sees exactly what it would have seen. Its flags
//   and mask are kept too. If there was none (SIG_DFL or SIG_IGN) the default action is restored and the access
//   faults again, ending the process as before.
// - A hit costs a hot path nothing: sessions test their ranges' hit counters with one plain load per reactor pass.
internal static unsafe class SigbusGuard
{
    /// <summary>How many ranges can be guarded at once (two per unsealed session: buffer and queue).</summary>
    public const int Capacity = 8192;

    private const int HeaderSize = 128;
    private const int SlotSize = 32;

    // Header fields; the offsets are baked into the machine code.
    private const int UsedOffset = 0;
    private const int PageMaskOffset = 8;
    private const int PageSizeOffset = 16;
    private const int WakeFdOffset = 24;
    private const int OneOffset = 32;
    private const int PreviousHandlerOffset = 40;
    private const int TotalHitsOffset = 48;

    // Slot fields (as longs).
    private const int StartIndex = 0;
    private const int EndIndex = 1;
    private const int HitsIndex = 2;

    /// <summary>Where the table address goes in <see cref="HandlerCode"/> (the imm64 of <c>movabs rbx</c>).</summary>
    private const int TableAddressPatch = 9;

    private static readonly Lock s_lock = new();
    private static readonly Stack<int> s_free = new();
    private static readonly long* s_noHits = (long*)NativeMemory.AllocZeroed(sizeof(long));
    private static nint s_table;
    private static int s_used;
    private static int s_wakeFd = -1;

    /// <summary>Whether the guard can be installed here: Linux on x64 (the only handler code there is).</summary>
    public static bool IsSupported { get; } =
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>A counter that is always 0: the "hit counter" of memory that needs no guard.</summary>
    public static long* NoHits => s_noHits;

    /// <summary>Whether the handler is installed (it is, from the first registration on).</summary>
    public static bool IsInstalled => Volatile.Read(ref s_table) != 0;

    /// <summary>Faults absorbed in this process so far.</summary>
    public static long TotalHits
    {
        get
        {
            var table = (byte*)Volatile.Read(ref s_table);
            return table == null ? 0 : Volatile.Read(ref *(long*)(table + TotalHitsOffset));
        }
    }

    /// <summary>Ranges guarded right now.</summary>
    public static int RegisteredCount
    {
        get
        {
            lock (s_lock)
            {
                return s_used - s_free.Count;
            }
        }
    }

    /// <summary>
    /// The x86-64 handler, <c>void handler(int sig /*rdi*/, siginfo_t* info /*rsi*/, ucontext_t* uc /*rdx*/)</c>.
    /// Assembled with GNU as (Intel syntax); the listing is kept beside the bytes so a reviewer can check both.
    /// </summary>
    private static ReadOnlySpan<byte> HandlerCode =>
    [
        0xF3, 0x0F, 0x1E, 0xFA,                         // 00 endbr64
        0x53,                                           // 04 push rbx
        0x41, 0x54,                                     // 05 push r12
        0x48, 0xBB, 0, 0, 0, 0, 0, 0, 0, 0,             // 07 movabs rbx, <table>          (patched at 09)
        0x48, 0x85, 0xF6,                               // 11 test rsi, rsi
        0x0F, 0x84, 0x9C, 0x00, 0x00, 0x00,             // 14 jz chain                     (no siginfo)
        0x4C, 0x8B, 0x46, 0x10,                         // 1a mov r8, [rsi+16]             (si_addr)
        0x48, 0x8B, 0x0B,                               // 1e mov rcx, [rbx]               (slots in use)
        0x4C, 0x8D, 0xA3, 0x80, 0x00, 0x00, 0x00,       // 21 lea r12, [rbx+128]           (first slot)
                                                        //    scan:
        0x48, 0x85, 0xC9,                               // 28 test rcx, rcx
        0x0F, 0x84, 0x85, 0x00, 0x00, 0x00,             // 2b jz chain                     (not ours)
        0x49, 0x8B, 0x44, 0x24, 0x08,                   // 31 mov rax, [r12+8]             (end)
        0x48, 0x85, 0xC0,                               // 36 test rax, rax
        0x74, 0x15,                                     // 39 jz next                      (free slot)
        0x4D, 0x8B, 0x14, 0x24,                         // 3b mov r10, [r12]               (start)
        0x49, 0x3B, 0x44, 0x24, 0x08,                   // 3f cmp rax, [r12+8]             (end unchanged?)
        0x75, 0x0A,                                     // 44 jne next
        0x4D, 0x39, 0xD0,                               // 46 cmp r8, r10
        0x72, 0x05,                                     // 49 jb next                      (addr < start)
        0x49, 0x39, 0xC0,                               // 4b cmp r8, rax
        0x72, 0x09,                                     // 4e jb hit                       (addr < end)
                                                        //    next:
        0x49, 0x83, 0xC4, 0x20,                         // 50 add r12, 32
        0x48, 0xFF, 0xC9,                               // 54 dec rcx
        0xEB, 0xCF,                                     // 57 jmp scan
                                                        //    hit:
        0x57,                                           // 59 push rdi                     (kept for chain)
        0x56,                                           // 5a push rsi
        0x52,                                           // 5b push rdx
        0x4C, 0x89, 0xC7,                               // 5c mov rdi, r8
        0x48, 0x23, 0x7B, 0x08,                         // 5f and rdi, [rbx+8]             (page start)
        0x48, 0x8B, 0x73, 0x10,                         // 63 mov rsi, [rbx+16]            (page size)
        0xBA, 0x03, 0x00, 0x00, 0x00,                   // 67 mov edx, 3                   (PROT_READ|PROT_WRITE)
        0x41, 0xBA, 0x32, 0x00, 0x00, 0x00,             // 6c mov r10d, 0x32               (MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS)
        0x49, 0xC7, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF,       // 72 mov r8, -1                   (fd)
        0x45, 0x31, 0xC9,                               // 79 xor r9d, r9d                 (offset)
        0xB8, 0x09, 0x00, 0x00, 0x00,                   // 7c mov eax, 9                   (SYS_mmap)
        0x0F, 0x05,                                     // 81 syscall
        0x5A,                                           // 83 pop rdx
        0x5E,                                           // 84 pop rsi
        0x5F,                                           // 85 pop rdi
        0x48, 0x3D, 0x01, 0xF0, 0xFF, 0xFF,             // 86 cmp rax, -4095
        0x73, 0x28,                                     // 8c jae chain                    (mmap failed)
        0xF0, 0x49, 0xFF, 0x44, 0x24, 0x10,             // 8e lock inc qword [r12+16]      (slot hits)
        0xF0, 0x48, 0xFF, 0x43, 0x30,                   // 94 lock inc qword [rbx+48]      (total hits)
        0x48, 0x8B, 0x7B, 0x18,                         // 99 mov rdi, [rbx+24]            (wake eventfd)
        0x48, 0x85, 0xFF,                               // 9d test rdi, rdi
        0x78, 0x10,                                     // a0 js done                      (none)
        0x48, 0x8D, 0x73, 0x20,                         // a2 lea rsi, [rbx+32]            (&1)
        0xBA, 0x08, 0x00, 0x00, 0x00,                   // a6 mov edx, 8
        0xB8, 0x01, 0x00, 0x00, 0x00,                   // ab mov eax, 1                   (SYS_write)
        0x0F, 0x05,                                     // b0 syscall
                                                        //    done:
        0x41, 0x5C,                                     // b2 pop r12
        0x5B,                                           // b4 pop rbx
        0xC3,                                           // b5 ret                          (re-run the access)
                                                        //    chain:
        0x48, 0x8B, 0x43, 0x28,                         // b6 mov rax, [rbx+40]            (previous handler)
        0x4C, 0x8D, 0x5B, 0x40,                         // ba lea r11, [rbx+64]            (zeroed kernel sigaction)
        0x41, 0x5C,                                     // be pop r12
        0x5B,                                           // c0 pop rbx
        0x48, 0x83, 0xF8, 0x01,                         // c1 cmp rax, 1
        0x76, 0x02,                                     // c5 jbe reset                    (SIG_DFL or SIG_IGN)
        0xFF, 0xE0,                                     // c7 jmp rax                      (tail call, same registers)
                                                        //    reset:
        0xBF, 0x07, 0x00, 0x00, 0x00,                   // c9 mov edi, 7                   (SIGBUS)
        0x4C, 0x89, 0xDE,                               // ce mov rsi, r11                 (SIG_DFL)
        0x31, 0xD2,                                     // d1 xor edx, edx
        0x41, 0xBA, 0x08, 0x00, 0x00, 0x00,             // d3 mov r10d, 8                  (sigset size)
        0xB8, 0x0D, 0x00, 0x00, 0x00,                   // d9 mov eax, 13                  (SYS_rt_sigaction)
        0x0F, 0x05,                                     // de syscall
        0xC3,                                           // e0 ret                          (faults again: default action)
    ];

    /// <summary>
    /// Guards [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) (rounded up to whole
    /// pages), installing the handler on first use. False when every slot is taken.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not <see cref="IsSupported"/>.</exception>
    /// <exception cref="ShmipcException">The handler could not be installed.</exception>
    public static bool TryRegister(void* start, nuint length, out int slot)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("The SIGBUS guard exists for Linux x64 only.");
        }

        long page = Environment.SystemPageSize;
        long end = ((long)start + (long)length + page - 1) & ~(page - 1);
        lock (s_lock)
        {
            if (s_table == 0)
            {
                Install();
            }

            if (!s_free.TryPop(out slot))
            {
                if (s_used == Capacity)
                {
                    slot = -1;
                    return false;
                }

                slot = s_used++;
            }

            long* s = Slot(slot);
            Volatile.Write(ref s[HitsIndex], 0);
            Volatile.Write(ref s[StartIndex], (long)start);
            Volatile.Write(ref s[EndIndex], end);
            long* used = (long*)((byte*)s_table + UsedOffset);
            if (slot + 1 > *used)
            {
                Volatile.Write(ref *used, slot + 1);
            }

            return true;
        }
    }

    /// <summary>The hit counter of a registered slot: non-zero once a fault in its range was absorbed.</summary>
    public static long* HitCounter(int slot) => Slot(slot) + HitsIndex;

    /// <summary>Stops guarding a range; call before it is unmapped.</summary>
    public static void Unregister(int slot)
    {
        lock (s_lock)
        {
            long* s = Slot(slot);
            Volatile.Write(ref s[EndIndex], 0);
            Volatile.Write(ref s[StartIndex], 0);
            s_free.Push(slot);
        }
    }

    /// <summary>The eventfd the handler writes to after a hit (the reactor's), so a parked reactor notices.</summary>
    public static void SetWakeFd(int fd)
    {
        lock (s_lock)
        {
            s_wakeFd = fd;
            if (s_table != 0)
            {
                Volatile.Write(ref *(long*)((byte*)s_table + WakeFdOffset), fd);
            }
        }
    }

    private static long* Slot(int slot) => (long*)((byte*)s_table + HeaderSize + ((long)slot * SlotSize));

    private static void Install()
    {
        long page = Environment.SystemPageSize;
        byte* table = Interop.MapAnonymous((nuint)(HeaderSize + ((long)Capacity * SlotSize)), Interop.PROT_READ | Interop.PROT_WRITE, "SIGBUS guard table");
        *(long*)(table + PageMaskOffset) = ~(page - 1);
        *(long*)(table + PageSizeOffset) = page;
        *(long*)(table + WakeFdOffset) = s_wakeFd;
        *(long*)(table + OneOffset) = 1;

        byte* code = Interop.MapAnonymous((nuint)page, Interop.PROT_READ | Interop.PROT_WRITE, "SIGBUS guard handler");
        HandlerCode.CopyTo(new Span<byte>(code, HandlerCode.Length));
        *(long*)(code + TableAddressPatch) = (long)table;
        Interop.CheckIo(Interop.Libc.mprotect(code, (nuint)page, Interop.PROT_READ | Interop.PROT_EXEC), "mprotect(SIGBUS guard handler)");

        Interop.sigaction_x64 previous;
        Interop.CheckIo(Interop.Libc.sigaction(Interop.SIGBUS, null, &previous), "sigaction(SIGBUS, query)");
        *(nint*)(table + PreviousHandlerOffset) = previous.sa_handler;

        // Keep the previous handler's mask and flags (the runtime's: SA_RESTART | SA_SIGINFO, and no SA_ONSTACK), so it
        // runs exactly as it would have when a fault is not ours.
        var action = previous;
        action.sa_handler = (nint)code;
        action.sa_flags = previous.sa_handler is 0 or 1 ? Interop.SA_SIGINFO | Interop.SA_RESTART : previous.sa_flags | Interop.SA_SIGINFO;
        Interop.CheckIo(Interop.Libc.sigaction(Interop.SIGBUS, &action, null), "sigaction(SIGBUS, install)");
        Volatile.Write(ref s_table, (nint)table);
    }
}
