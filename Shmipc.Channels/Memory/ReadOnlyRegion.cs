using System.Runtime.CompilerServices;
using Shmipc.Channels.Interop;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Memory;

/// <summary>
/// A shared-memory object mapped read-only (PROT_READ, MAP_SHARED) for inspection: a /dev/shm file, a memfd reached
/// through <c>/proc/&lt;pid&gt;/fd/&lt;n&gt;</c>, or any regular file. Nothing can be written through it: the object is
/// opened O_RDONLY and the mapping has no write permission, so a bug here faults rather than corrupting a session.
/// </summary>
/// <remarks>
/// Every read is bounds-checked against the length seen when the object was mapped; an out-of-range read returns 0
/// (the inspector checks offsets before reading, so this only matters for a region that lies about itself). If the
/// owner truncates the object while it is mapped, the <see cref="SigbusGuard"/> (Linux x64) turns the reads of the
/// missing pages into zeros instead of a fatal SIGBUS, and <see cref="WasTruncated"/> says so.
/// </remarks>
// Design: the values read are a moving picture of memory two other processes change concurrently; every read is a
// single volatile/unaligned load, and callers must treat the results as a snapshot that can disagree with itself.
internal sealed unsafe class ReadOnlyRegion : IDisposable
{
    private readonly SafeMappingHandle _mapping;
    private readonly long* _hits;
    private byte* _base;

    private ReadOnlyRegion(SafeMappingHandle mapping, long length, string path, ulong inode)
    {
        _mapping = mapping;
        _base = (byte*)mapping.DangerousGetHandle();
        _hits = mapping.GuardSlot >= 0 ? SigbusGuard.HitCounter(mapping.GuardSlot) : SigbusGuard.NoHits;
        Length = length;
        Path = path;
        Inode = inode;
    }

    /// <summary>Bytes mapped (the object's size when it was opened).</summary>
    public long Length { get; }

    /// <summary>The path it was opened by.</summary>
    public string Path { get; }

    /// <summary>The object's inode (to recognise one object reached through several paths).</summary>
    public ulong Inode { get; }

    /// <summary>True if a read touched a page past the end of the object (the owner truncated it after it was mapped).</summary>
    public bool WasTruncated => Volatile.Read(ref *_hits) != 0;

    /// <summary>Opens <paramref name="path"/> read-only and maps the whole object read-only.</summary>
    /// <exception cref="ShmipcException">The path cannot be opened, is not a regular file, is empty, or cannot be mapped.</exception>
    public static ReadOnlyRegion Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        // No O_NOFOLLOW: /proc/<pid>/fd/<n> is a symbolic link by design, and a read-only mapping cannot harm what it reaches.
        using SafeFdHandle fd = Native.Open(path, Native.O_RDONLY | Native.O_CLOEXEC, 0);
        Native.statx_t st = Native.FStat(fd, path);
        if ((st.stx_mode & Native.S_IFMT) != Native.S_IFREG)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"{path} is not a regular file or memfd (mode 0{Convert.ToString(st.stx_mode, 8)}).");
        }

        if (st.stx_size == 0 || st.stx_size > uint.MaxValue)
        {
            throw new ShmipcException(
                ShmipcErrorCode.CorruptSharedMemory,
                $"{path} is {st.stx_size} bytes: a shmipc region is between 1 byte and 4 GiB.");
        }

        long length = (long)st.stx_size;
        SafeMappingHandle mapping = Native.MapReadOnly(fd, length, path);
        if (SigbusGuard.IsSupported && SigbusGuard.TryRegister((void*)mapping.DangerousGetHandle(), (nuint)length, out int slot))
        {
            mapping.SetGuardSlot(slot);
        }

        return new ReadOnlyRegion(mapping, length, path, st.stx_ino);
    }

    /// <summary>True if <paramref name="count"/> bytes at <paramref name="offset"/> lie inside the mapping.</summary>
    public bool Contains(long offset, long count) => offset >= 0 && count >= 0 && offset <= Length - count;

    /// <summary>The byte at <paramref name="offset"/>, or 0 outside the mapping.</summary>
    public byte ReadByte(long offset) => Contains(offset, 1) ? Volatile.Read(ref Base[offset]) : (byte)0;

    /// <summary>The u16 at <paramref name="offset"/>, or 0 outside the mapping.</summary>
    public ushort ReadUInt16(long offset) => Contains(offset, 2) ? Unsafe.ReadUnaligned<ushort>(Base + offset) : (ushort)0;

    /// <summary>The u32 at <paramref name="offset"/>, or 0 outside the mapping.</summary>
    public uint ReadUInt32(long offset) => Contains(offset, 4) ? Unsafe.ReadUnaligned<uint>(Base + offset) : 0u;

    /// <summary>The i32 at <paramref name="offset"/>, or 0 outside the mapping.</summary>
    public int ReadInt32(long offset) => unchecked((int)ReadUInt32(offset));

    /// <summary>The i64 at <paramref name="offset"/>, or 0 outside the mapping.</summary>
    public long ReadInt64(long offset) => Contains(offset, 8) ? Unsafe.ReadUnaligned<long>(Base + offset) : 0L;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_base != null)
        {
            _base = null;
            _mapping.Dispose();
        }
    }

    private byte* Base
    {
        get
        {
            byte* b = _base;
            ObjectDisposedException.ThrowIf(b == null, this);
            return b;
        }
    }
}
