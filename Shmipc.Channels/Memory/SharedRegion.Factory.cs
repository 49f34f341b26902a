using System.Globalization;
using System.Text;
using Shmipc.Channels.Interop;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Memory;

internal sealed unsafe partial class SharedRegion
{
    /// <summary>The only directory <see cref="OpenFile"/> accepts by default (docs/PROTOCOL.md §4.2).</summary>
    public const string DevShm = "/dev/shm";

    /// <summary>
    /// Creates a memfd named <paramref name="name"/> (callers pass "shmipc" + logical name), sizes it,
    /// reserves its memory (unless <paramref name="reserve"/> is false), seals its size and maps it.
    /// </summary>
    /// <remarks>
    /// shmipc-go passes flags 0; this uses MFD_CLOEXEC because the fd reaches the peer via SCM_RIGHTS, never
    /// through exec, and without it every child process we spawn would inherit (and pin) the region. It also uses
    /// MFD_ALLOW_SEALING and then seals the size (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): a peer that receives
    /// the fd can then never truncate the memory under our mapping (which would raise SIGBUS here), and a .NET
    /// server can see that from the seals and skip the SIGBUS guard. Peers only map the fd, so the seals cost them
    /// nothing. <paramref name="seal"/> false makes an unsealed memfd like shmipc-go's (for tests); it is guarded.
    /// </remarks>
    /// <param name="name">The memfd's kernel name.</param>
    /// <param name="size">Its size in bytes.</param>
    /// <param name="reserve">
    /// Whether to commit every page now (fallocate). Without it only the pages that are touched take memory; a memfd
    /// lives on the kernel's internal tmpfs, which has no size limit, so skipping the reservation trades an early
    /// ENOMEM/ENOSPC at creation for the OOM killer (or, under a memory cgroup limit, a fault) on first touch.
    /// </param>
    /// <param name="seal">Whether to seal the size (false only for tests that play a shmipc-go peer).</param>
    public static SharedRegion CreateMemFd(string name, long size, bool reserve = true, bool seal = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        Native.EnsureSupported();
        CheckSize(size, name);
        if (Encoding.UTF8.GetByteCount(name) > Native.MFD_NAME_MAX_LEN)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"The memfd name '{name}' is longer than {Native.MFD_NAME_MAX_LEN} bytes.");
        }

        // A memfd is not limited by /dev/shm's size, only by memory: reserving more than this process may
        // use would invoke the OOM killer rather than fail, so refuse it up front.
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && size > available)
        {
            throw Native.CreateException(
                Native.Errno.ENOMEM,
                string.Create(CultureInfo.InvariantCulture, $"memfd_create({name}, {size} bytes)"),
                string.Create(CultureInfo.InvariantCulture, $"more than the {available} bytes of memory available to this process"));
        }

        uint flags = Native.MFD_CLOEXEC | (seal ? Native.MFD_ALLOW_SEALING : 0);
        var fd = new SafeFdHandle(Native.CheckIo(Native.Libc.memfd_create(name, flags), $"memfd_create({name})"), ownsHandle: true);
        try
        {
            Native.FTruncate(fd, size, name);
            if (reserve)
            {
                Reserve(fd, size, name);
            }

            if (seal)
            {
                Native.AddSeals(fd, Native.F_SEAL_SHRINK | Native.F_SEAL_GROW | Native.F_SEAL_SEAL, name);
            }

            ulong inode = Native.FStat(fd, name).stx_ino;
            return new SharedRegion(fd, Map(fd, size, name, guard: !seal, checkSize: false), size, name, path: null, isOwner: true, inode, isSealed: seal);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> exclusively (O_CREAT | O_EXCL | O_NOFOLLOW; EEXIST if it exists) with
    /// exactly <paramref name="mode"/> (fchmod, so the umask does not apply), sizes it, reserves its space and
    /// maps it. The parent directory must exist. On any failure after creation the file is removed again.
    /// <see cref="DeleteOnDispose"/> starts true.
    /// </summary>
    public static SharedRegion CreateFile(string path, long size, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Native.EnsureSupported();
        CheckSize(size, path);
        uint permissions = (uint)mode & 0xFFF;
        SafeFdHandle fd = Native.Open(path, Native.O_CREAT | Native.O_EXCL | Native.O_RDWR | Native.O_CLOEXEC | Native.O_NOFOLLOW, permissions);
        try
        {
            Native.CheckIo(Native.Libc.fchmod(fd, permissions), $"fchmod({path})");
            Native.FTruncate(fd, size, path);
            Reserve(fd, size, path);
            ulong inode = Native.FStat(fd, path).stx_ino;
            return new SharedRegion(fd, Map(fd, size, path, guard: true, checkSize: false), size, path, path, isOwner: true, inode, isSealed: false);
        }
        catch
        {
            fd.Dispose();
            _ = Native.Libc.unlink(path); // we created it (O_EXCL), so it is ours to remove
            throw;
        }
    }

    /// <summary>
    /// Maps the whole object behind <paramref name="fd"/> (size from fstat), e.g. a memfd received over
    /// SCM_RIGHTS. Takes ownership of <paramref name="fd"/>: it is closed on failure too.
    /// </summary>
    public static SharedRegion OpenFd(SafeFdHandle fd, string? label)
    {
        ArgumentNullException.ThrowIfNull(fd);
        try
        {
            Native.EnsureSupported();
            string name = label ?? string.Create(CultureInfo.InvariantCulture, $"fd {fd.Fd}");

            // Seals first: once F_SEAL_SHRINK is seen, the size read next is final.
            bool isSealed = (Native.GetSeals(fd, name) & Native.F_SEAL_SHRINK) != 0;
            Native.statx_t st = Native.FStat(fd, name);
            long size = CheckMappable(st, name);
            return new SharedRegion(fd, Map(fd, size, name, guard: !isSealed, checkSize: !isSealed), size, name, path: null, isOwner: false, st.stx_ino, isSealed);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens and maps an existing object (O_RDWR | O_NOFOLLOW | O_CLOEXEC). It must be a non-empty regular
    /// file, and unless <paramref name="allowOutsideDevShm"/> it must sit directly in /dev/shm: a peer names
    /// this path, and docs/PROTOCOL.md §4.2 asks new implementations to refuse anything else.
    /// </summary>
    public static SharedRegion OpenFile(string path, bool allowOutsideDevShm = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        Native.EnsureSupported();
        if (!allowOutsideDevShm && !IsDirectlyInDevShm(path))
        {
            throw new ShmipcException(
                ShmipcErrorCode.HandshakeFailed,
                $"Refusing to map '{path}': shared-memory files must be directly in {DevShm}/.");
        }

        SafeFdHandle fd = Native.Open(path, Native.O_RDWR | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0);
        try
        {
            Native.statx_t st = Native.FStat(fd, path);
            long size = CheckMappable(st, path);
            return new SharedRegion(fd, Map(fd, size, path, guard: true, checkSize: true), size, path, path, isOwner: false, st.stx_ino, isSealed: false);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps the object; with <paramref name="guard"/> (memory someone else could truncate) the mapping is registered
    /// with the <see cref="SigbusGuard"/> before anything touches it, where the guard exists (Linux x64). With
    /// <paramref name="checkSize"/> the object must still be as large as the mapping once it is guarded: a peer that
    /// shrank it in between is refused now rather than noticed later.
    /// </summary>
    private static SafeMappingHandle Map(SafeFdHandle fd, long size, string name, bool guard, bool checkSize)
    {
        SafeMappingHandle mapping = Native.MapShared(fd, size, name);
        try
        {
            if (guard && SigbusGuard.IsSupported)
            {
                if (!SigbusGuard.TryRegister((void*)mapping.DangerousGetHandle(), (nuint)size, out int slot))
                {
                    throw new ShmipcException(
                        ShmipcErrorCode.HandshakeFailed,
                        $"Refusing to map {name}: {SigbusGuard.Capacity} unsealed shared-memory regions are already mapped and guarded, the most this process guards.");
                }

                mapping.SetGuardSlot(slot);
            }

            if (checkSize)
            {
                ulong now = Native.FStat(fd, name).stx_size;
                if (now < (ulong)size)
                {
                    throw new ShmipcException(
                        ShmipcErrorCode.HandshakeFailed,
                        string.Create(CultureInfo.InvariantCulture, $"Refusing {name}: it shrank from {size} to {now} bytes while it was being mapped."));
                }
            }

            return mapping;
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>True for "/dev/shm/&lt;name&gt;" with a plain name (no further '/', not "." or "..").</summary>
    internal static bool IsDirectlyInDevShm(string path)
    {
        if (!path.StartsWith(DevShm + "/", StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> file = path.AsSpan(DevShm.Length + 1);
        return !file.IsEmpty && !file.Contains('/') && !file.Contains('\0') && file is not "." and not "..";
    }

    /// <summary>
    /// Commits the object's memory now. fallocate on tmpfs allocates every page, so ENOSPC (a full
    /// /dev/shm) surfaces here instead of as SIGBUS on first touch. Where fallocate is unsupported
    /// (EOPNOTSUPP: some filesystems outside /dev/shm) one zero byte is written per page instead, which
    /// allocates the same pages on the size just set by ftruncate.
    /// </summary>
    private static void Reserve(SafeFdHandle fd, long size, string name)
    {
        int result;
        do
        {
            result = Native.Libc.fallocate(fd, 0, 0, size);
        }
        while (result < 0 && Native.LastErrno == Native.Errno.EINTR);

        if (result == 0)
        {
            return;
        }

        int errno = Native.LastErrno;
        if (errno is Native.Errno.EOPNOTSUPP or Native.Errno.ENOSYS)
        {
            TouchPages(fd, size, name);
            return;
        }

        throw Native.CreateException(errno, string.Create(CultureInfo.InvariantCulture, $"fallocate({name}, {size} bytes)"), SpaceAdvice(errno));
    }

    private static void TouchPages(SafeFdHandle fd, long size, string name)
    {
        byte zero = 0;
        long page = Environment.SystemPageSize;
        for (long offset = 0; offset < size; offset += page)
        {
            nint n;
            do
            {
                n = Native.Libc.pwrite(fd, &zero, 1, offset);
            }
            while (n < 0 && Native.LastErrno == Native.Errno.EINTR);

            if (n < 0)
            {
                int errno = Native.LastErrno;
                throw Native.CreateException(errno, string.Create(CultureInfo.InvariantCulture, $"pwrite({name}, offset {offset})"), SpaceAdvice(errno));
            }
        }
    }

    private static string? SpaceAdvice(int errno) => errno is Native.Errno.ENOSPC or Native.Errno.EDQUOT or Native.Errno.ENOMEM
        ? "not enough shared memory for this region (is /dev/shm full or too small?)"
        : null;

    private static void CheckSize(long size, string name)
    {
        if (size <= 0)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"The size of shared-memory region {name} must be positive, not {size}.");
        }
    }

    private static long CheckMappable(in Native.statx_t st, string name)
    {
        if ((st.stx_mode & Native.S_IFMT) != Native.S_IFREG)
        {
            throw new ShmipcException(ShmipcErrorCode.HandshakeFailed, $"Refusing to map {name}: it is not a regular file or memfd.");
        }

        if (st.stx_size == 0 || st.stx_size > long.MaxValue)
        {
            throw new ShmipcException(ShmipcErrorCode.HandshakeFailed, $"Refusing to map {name}: its size is {st.stx_size} bytes.");
        }

        return (long)st.stx_size;
    }
}
