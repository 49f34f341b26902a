namespace Shmipc.Channels;

/// <summary>Settings of a client session: the shared memory it creates and how it announces it.</summary>
/// <remarks>
/// The defaults are shmipc-go's, except <see cref="MemoryMapType"/> (memfd: nothing is left in <c>/dev/shm</c> when a
/// process dies) and the file mode of <c>/dev/shm</c> files (0600 instead of 0777 &amp; ~umask).
/// </remarks>
public sealed class ShmipcClientOptions : ShmipcOptions
{
    /// <summary>shmipc-go's default size classes: 8 KiB, 32 KiB and 128 KiB strides taking 50, 30 and 20 percent.</summary>
    public static IReadOnlyList<BufferSizeClass> DefaultSizeClasses { get; } =
        [new(8172, 50), new(32748, 30), new(131052, 20)];

    /// <summary>How the memory is shared. Default <see cref="Shmipc.Channels.MemoryMapType.MemFd"/>.</summary>
    public MemoryMapType MemoryMapType { get; set; } = MemoryMapType.MemFd;

    /// <summary>
    /// Protocol version for <see cref="Shmipc.Channels.MemoryMapType.DevShmFile"/>: 2 (no acknowledgement, what shmipc-go clients send)
    /// or 3 (the server confirms it mapped the files). memfd always uses 3. Default 2.
    /// </summary>
    public int FileModeProtocolVersion { get; set; } = 2;

    /// <summary>Size of the shared buffer region in bytes (shmipc <c>ShareMemoryBufferCap</c>). At least 1 MiB; default 32 MiB.</summary>
    public long BufferCapacity { get; set; } = 32L * 1024 * 1024;

    /// <summary>Slice size classes of the buffer region (shmipc <c>BufferSliceSizes</c>); percents add up to 100.</summary>
    public IReadOnlyList<BufferSizeClass> SizeClasses { get; set; } = DefaultSizeClasses;

    /// <summary>Elements per IO queue direction (shmipc <c>QueueCap</c>). Default 8192.</summary>
    public int QueueCapacity { get; set; } = 8192;

    /// <summary>
    /// Prefix of the shared-memory names (shmipc <c>ShareMemoryPathPrefix</c>); the process id and a suffix are appended.
    /// In file mode it is a path. Default <c>/dev/shm/shmipc</c>.
    /// </summary>
    public string PathPrefix { get; set; } = "/dev/shm/shmipc";

    /// <summary>Permissions of files created in <see cref="Shmipc.Channels.MemoryMapType.DevShmFile"/> mode. Default owner read/write.</summary>
    public UnixFileMode FileMode { get; set; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Users (uids) whose servers this client talks to besides its own user and root, which it always does. Default
    /// empty. Checked with the kernel's record of the listening process (SO_PEERCRED) before any shared memory is
    /// created or sent; TCP carries no credentials and is not checked.
    /// </summary>
    public IReadOnlyCollection<uint> AllowedServerUserIds { get; set; } = [];

    /// <summary>Whether this client talks to a server of any user (no uid check). Default false.</summary>
    public bool AllowAnyServerUser { get; set; }

    /// <summary>Time allowed to connect the socket. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(BufferCapacity >= 1024 * 1024, $"{nameof(BufferCapacity)} must be at least 1 MiB (1048576 bytes), not {BufferCapacity}.");
        Require(BufferCapacity <= uint.MaxValue, $"{nameof(BufferCapacity)} must fit the 32-bit offsets of the protocol (at most {uint.MaxValue}), not {BufferCapacity}.");
        Require(SizeClasses is { Count: > 0 }, $"{nameof(SizeClasses)} must name at least one size class.");
        var percent = 0;
        foreach (var c in SizeClasses)
        {
            Require(c.SliceSize > 0 && c.SliceSize <= BufferCapacity, $"size class slice size {c.SliceSize} must be between 1 and {nameof(BufferCapacity)} ({BufferCapacity}).");
            Require(c.Percent > 0 && c.Percent <= 100, $"size class {c.SliceSize} has percent {c.Percent}; it must be between 1 and 100.");
            if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
            {
                Require(c.SliceSize % 4 == 0, $"on arm64 every slice size must be a multiple of 4 (shmipc rule), not {c.SliceSize}.");
            }

            percent += c.Percent;
        }

        Require(percent == 100, $"the percents of {nameof(SizeClasses)} must add up to exactly 100, not {percent}.");
        Require(QueueCapacity > 0 && QueueCapacity <= 16 * 1024 * 1024, $"{nameof(QueueCapacity)} must be between 1 and 16777216, not {QueueCapacity}.");
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            Require(QueueCapacity % 8 == 0, $"on arm64 {nameof(QueueCapacity)} must be a multiple of 8 (shmipc rule), not {QueueCapacity}.");
        }

        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            // The amd64 queue header keeps head and tail unaligned (offsets 4 and 12, docs/PROTOCOL.md §4.3); the second
            // queue starts at 24 + 12·cap, and for some capacities one of them then crosses a 64-byte cache line.
            // Every atomic on it becomes a split lock, which Linux may trap and throttle (milliseconds per operation).
            var second = 24 + (12L * QueueCapacity);
            Require(
                !CrossesCacheLine(second + 4) && !CrossesCacheLine(second + 12),
                $"{nameof(QueueCapacity)} {QueueCapacity} would put the server-to-client queue's head or tail across a cache line (split-lock atomics on x64); use a multiple of 16, such as {(QueueCapacity + 15) / 16 * 16}.");
        }

        Require(!string.IsNullOrEmpty(PathPrefix), $"{nameof(PathPrefix)} must not be empty.");
        Require(PathPrefix.Length + 75 <= 255, $"{nameof(PathPrefix)} is too long: with the pid and suffixes it must stay within 255 bytes (shmipc ErrFileNameTooLong).");
        Require(Enum.IsDefined(MemoryMapType), $"{nameof(MemoryMapType)} {MemoryMapType} is not defined.");
        Require(FileModeProtocolVersion is 2 or 3, $"{nameof(FileModeProtocolVersion)} must be 2 or 3, not {FileModeProtocolVersion}.");
        Require(AllowedServerUserIds is not null, $"{nameof(AllowedServerUserIds)} must not be null (use an empty collection).");
        Require(ConnectTimeout > TimeSpan.Zero, $"{nameof(ConnectTimeout)} must be positive, not {ConnectTimeout}.");
    }

    private static bool CrossesCacheLine(long offset) => offset % 64 > 56;
}
