using System.Runtime.InteropServices;

namespace Shmipc.Channels.Properties;

/// <summary>
/// Exactly <see cref="Length"/> bytes of native memory, 64-byte aligned, freed on Dispose: from
/// <see cref="NativeMemory.AlignedAlloc(nuint, nuint)"/>, or (<see cref="WithGuardPage"/>) ending just before an
/// inaccessible page.
/// </summary>
/// <remarks>
/// <para>The properties hand (pointer, length) to code that treats the memory as shared and possibly hostile; the
/// allocation is never larger than the length given, so a read past the end is a real out-of-bounds access
/// rather than one that silently lands in padding the test added.</para>
/// <para>Why 64-byte aligned rather than plain <c>Alloc</c> (16-byte aligned): real regions are mmap'd, so page
/// aligned, and where the amd64 queue header's misaligned head/tail fall relative to cache lines depends on it.
/// A lock-prefixed operation that straddles a line is a split lock, which this host's kernel traps (about 1 ms
/// each), so malloc's alignment would make run times depend on where the allocator happened to put the buffer.</para>
/// <para>Why a guard page for the hostile inputs: heap memory just past an allocation is usually mapped, so a
/// read past the end of a hostile image goes unnoticed as long as what it reads leads to a clean
/// CorruptSharedMemory. With the image ending within 63 bytes (the alignment) of a PROT_NONE page, such a read
/// crashes the test host instead: loud, where a silent pass would hide the bug.</para>
/// </remarks>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public const int CacheLine = 64;

    private readonly byte* _mapping;
    private readonly nuint _mappingLength;
    private byte* _pointer;

    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, CacheLine); // also non-null for 0 bytes
    }

    private NativeBuffer(long length, byte* mapping, nuint mappingLength, byte* pointer)
    {
        Length = length;
        _mapping = mapping;
        _mappingLength = mappingLength;
        _pointer = pointer;
    }

    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return _pointer;
        }
    }

    public long Length { get; }

    public Span<byte> Span => new(Pointer, checked((int)Length));

    /// <summary><paramref name="length"/> bytes whose end is at most 63 bytes before a PROT_NONE page.</summary>
    public static NativeBuffer WithGuardPage(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        nuint page = (nuint)Environment.SystemPageSize;
        nuint data = ((nuint)length + page - 1) / page * page;
        nuint total = data + page;
        byte* mapping = (byte*)GuardPageInterop.mmap(null, total, GuardPageInterop.PROT_READ | GuardPageInterop.PROT_WRITE, GuardPageInterop.MAP_PRIVATE | GuardPageInterop.MAP_ANONYMOUS, -1, 0);
        if ((nint)mapping == -1)
        {
            throw new InvalidOperationException($"mmap of {total} bytes failed, errno {Marshal.GetLastPInvokeError()}");
        }

        if (GuardPageInterop.mprotect(mapping + data, page, GuardPageInterop.PROT_NONE) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            GuardPageInterop.munmap(mapping, total);
            throw new InvalidOperationException($"mprotect of the guard page failed, errno {errno}");
        }

        nuint start = data - (((nuint)length + CacheLine - 1) / CacheLine * CacheLine);
        return new NativeBuffer(length, mapping, total, mapping + start);
    }

    public void Dispose()
    {
        if (_pointer == null)
        {
            return;
        }

        if (_mapping != null)
        {
            GuardPageInterop.munmap(_mapping, _mappingLength);
        }
        else
        {
            NativeMemory.AlignedFree(_pointer);
        }

        _pointer = null;
    }
}
