using System.Runtime.CompilerServices;
using Shmipc.Channels.Interop;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Memory;

/// <summary>
/// One shared-memory object (a memfd or a file, normally in /dev/shm) and its single MAP_SHARED,
/// read-write mapping of the whole object.
/// </summary>
/// <remarks>
/// Create with <see cref="CreateMemFd"/> or <see cref="CreateFile"/> (space is reserved up front, so a full
/// /dev/shm is an exception here, never a SIGBUS later), or map what a peer made with
/// <see cref="OpenFd"/> / <see cref="OpenFile"/>. Memory a peer could truncate (anything but a memfd sealed against
/// shrinking) is registered with the <see cref="SigbusGuard"/> before it is first touched, so a truncation costs the
/// session (<see cref="WasTruncated"/>), not the process.
/// </remarks>
internal sealed unsafe partial class SharedRegion : IDisposable
{
    // Design: this object is the one owner of the mapping. _base is the only copy of the mapped address;
    // everything else derives pointers from Base or GetSpan and must not outlive the region. Dispose
    // (idempotent, thread-safe through _disposed) first nulls _base so later Base/GetSpan calls throw
    // ObjectDisposedException, then releases the mapping handle (munmap; deferred while someone holds a
    // DangerousAddRef on Mapping) and the fd handle (close). Using a pointer obtained before Dispose after
    // Dispose is a caller bug this type cannot catch. _hits points at the guard slot's hit counter (or at a
    // counter that is always 0); Dispose points it back at the zero before the mapping handle frees the slot
    // (unregistering just before munmap), so a reused slot never reports a hit to this region.
    private readonly SafeFdHandle _fd;
    private readonly SafeMappingHandle _mapping;
    private readonly ulong _inode;
    private volatile byte* _base;
    private long* _hits;
    private int _disposed;
    private int _unlinked;

    private SharedRegion(SafeFdHandle fd, SafeMappingHandle mapping, long length, string name, string? path, bool isOwner, ulong inode, bool isSealed)
    {
        _fd = fd;
        _mapping = mapping;
        _base = (byte*)mapping.DangerousGetHandle();
        _hits = mapping.GuardSlot >= 0 ? SigbusGuard.HitCounter(mapping.GuardSlot) : SigbusGuard.NoHits;
        IsSealed = isSealed;
        _inode = inode;
        Length = length;
        Name = name;
        Path = path;
        IsOwner = isOwner;
        DeleteOnDispose = isOwner && path is not null;
    }

    /// <summary>The first mapped byte. Throws <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.</summary>
    public byte* Base
    {
        get
        {
            byte* b = _base;
            ObjectDisposedException.ThrowIf(b == null, this);
            return b;
        }
    }

    /// <summary>The size of the object and of the mapping, in bytes.</summary>
    public long Length { get; }

    /// <summary>The fd of the object (for SCM_RIGHTS); owned by this region.</summary>
    public SafeFdHandle FileDescriptor => _fd;

    /// <summary>The mapping handle (munmap on release).</summary>
    public SafeMappingHandle Mapping => _mapping;

    /// <summary>The file path in file mode; null for a memfd or an fd received from a peer.</summary>
    public string? Path { get; }

    /// <summary>The memfd kernel name, the file path, or the label given to <see cref="OpenFd"/>.</summary>
    public string Name { get; }

    /// <summary>True when this process created the object (and so may unlink it).</summary>
    public bool IsOwner { get; }

    /// <summary>Whether the object is sealed against shrinking (a memfd sealed with F_SEAL_SHRINK): no one can truncate it.</summary>
    public bool IsSealed { get; }

    /// <summary>Whether the <see cref="SigbusGuard"/> protects the mapping (unsealed memory on Linux x64).</summary>
    public bool IsGuarded => _mapping.GuardSlot >= 0;

    /// <summary>
    /// Whether someone truncated the object under the mapping and this process touched a page that was cut off (the
    /// guard replaced it with zeros). One plain load: cheap enough for every reactor pass.
    /// </summary>
    public bool WasTruncated => *_hits != 0;

    /// <summary>The object's size now (fstat), or -1 if it cannot be read; for error messages.</summary>
    public long CurrentSize()
    {
        try
        {
            return (long)Native.FStat(_fd, Name).stx_size;
        }
        catch (Exception e) when (e is ShmipcException or ObjectDisposedException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Whether <see cref="Dispose"/> unlinks <see cref="Path"/>. Defaults to true for files made by
    /// <see cref="CreateFile"/>, false otherwise.
    /// </summary>
    public bool DeleteOnDispose { get; set; }

    /// <summary>A bounds-checked view of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        byte* b = Base;
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            ThrowOutOfRange(offset, length);
        }

        return new Span<byte>(b + offset, length);
    }

    /// <summary>
    /// Unlinks <see cref="Path"/> if it still names this object (same inode). Returns false for a memfd, when
    /// already unlinked (by this region or anyone else), or when the path now names a different file.
    /// Other failures (EACCES...) throw.
    /// </summary>
    public bool TryUnlink()
    {
        if (Path is null || Interlocked.Exchange(ref _unlinked, 1) != 0)
        {
            return false;
        }

        if (!Native.TryLStat(Path, out Native.statx_t st) || st.stx_ino != _inode)
        {
            return false;
        }

        return Native.Unlink(Path);
    }

    /// <summary>Unmaps, closes the fd and, with <see cref="DeleteOnDispose"/>, unlinks the file. Idempotent and thread-safe; never throws.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _base = null;
        _hits = SigbusGuard.NoHits; // the guard slot is freed (and may be reused) when the mapping is released
        if (DeleteOnDispose)
        {
            try
            {
                _ = TryUnlink();
            }
            catch (ShmipcException)
            {
                // Best effort: the mapping and fd must still be released.
            }
        }

        _mapping.Dispose();
        _fd.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"SharedRegion({Name}, {Length} bytes)";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowOutOfRange(long offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside the {Length}-byte region {Name}.");
}
