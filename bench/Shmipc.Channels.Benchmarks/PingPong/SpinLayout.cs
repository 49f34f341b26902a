using System.IO.MemoryMappedFiles;
using System.Runtime.Intrinsics.X86;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The spin floor's shared file (/dev/shm, mapped by both processes, no shmipc code): two cache-line flags and two
/// data areas. Line 0: request sequence number (long) + request length (int); line 1 (offset 64): reply sequence
/// number + reply length. Request bytes at <see cref="DataOffset"/>, reply bytes one area later.
/// </summary>
/// <remarks>
/// Design: one writer per line (the client owns line 0 and the request area, the server line 1 and the reply area).
/// The payload and the length are written first, then the sequence number with a release store (Volatile.Write); the
/// other side acquires the sequence number (Volatile.Read) and only then reads length and payload, so it never sees a
/// half-written message. Each waiter spins with PAUSE and yields the core every 1024 spins, which costs nothing while
/// the peer answers within microseconds and keeps a loaded machine from starving the peer for a whole time slice.
/// </remarks>
internal sealed unsafe class SpinLayout : IDisposable
{
    public const int RequestLine = 0;
    public const int ReplyLine = 64;
    public const int DataOffset = 4096;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private SpinLayout(MemoryMappedFile file, MemoryMappedViewAccessor view, int areaSize)
    {
        _file = file;
        _view = view;
        AreaSize = areaSize;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        Base = pointer + view.PointerOffset;
    }

    public byte* Base { get; }

    /// <summary>Bytes of each data area (the largest payload rounded up to a page).</summary>
    public int AreaSize { get; }

    public static long FileSize(int areaSize) => DataOffset + (2L * areaSize);

    public static int AreaFor(int maxPayload) => (maxPayload + 4095) & ~4095;

    /// <summary>Creates the file (the harness); the caller deletes the path once the child has mapped it.</summary>
    public static SpinLayout Create(string path, int maxPayload)
    {
        var area = AreaFor(maxPayload);
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.CreateNew, null, FileSize(area), MemoryMappedFileAccess.ReadWrite);
        return new SpinLayout(file, file.CreateViewAccessor(0, FileSize(area)), area);
    }

    /// <summary>Maps an existing file (the child).</summary>
    public static SpinLayout Open(string path)
    {
        var length = new FileInfo(path).Length;
        var area = (int)((length - DataOffset) / 2);
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        return new SpinLayout(file, file.CreateViewAccessor(0, length), area);
    }

    public ref long Sequence(int line) => ref *(long*)(Base + line);

    public ref int Length(int line) => ref *(int*)(Base + line + 8);

    public Span<byte> RequestArea(int length) => new(Base + DataOffset, length);

    public Span<byte> ReplyArea(int length) => new(Base + DataOffset + AreaSize, length);

    /// <summary>One step of a wait loop: PAUSE, and every 1024th step a sched_yield.</summary>
    public static void Pause(ref int spins)
    {
        if ((++spins & 1023) == 0)
        {
            Thread.Yield();
        }
        else if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else
        {
            Thread.SpinWait(1);
        }
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
