using System.Globalization;
using System.Security.Cryptography;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The names of one client session's shared-memory objects: the only place the client builds them.
/// </summary>
/// <remarks>
/// <para>shmipc-go names its objects <c>&lt;prefix&gt;_&lt;pid&gt;_buffer</c> and <c>&lt;prefix&gt;_&lt;pid&gt;_queue_&lt;n&gt;</c>, and after a hot
/// restart <c>&lt;prefix&gt;_&lt;pid&gt;_epoch_&lt;epoch&gt;_&lt;randID&gt;_…</c>. Process ids are predictable, so anyone who may create
/// files in /dev/shm could plant a file at the next name and make the client's exclusive create fail. Every name here
/// therefore carries 64 random bits from the operating system's cryptographic generator, in the place shmipc-go gives
/// its hot-restart randID: <c>&lt;prefix&gt;_&lt;pid&gt;_&lt;random&gt;_buffer</c> / <c>_queue_&lt;n&gt;</c>, and with an epoch
/// <c>&lt;prefix&gt;_&lt;pid&gt;_epoch_&lt;epoch&gt;_&lt;random&gt;_…</c>. Servers treat the names as opaque (they only open the
/// announced paths or receive the memfds), so Go and Rust servers accept them.</para>
/// <para>Length: the random part is 16 hex digits, shorter than the 20-digit randID that shmipc's 255-byte file-name
/// check (<see cref="ShmipcClientOptions.Validate"/>) already allows for, so every prefix the options accept fits.</para>
/// </remarks>
internal sealed class ClientShmNames
{
    private const string MemFdPrefix = "shmipc";

    private static int s_sessionIndex = -1;

    private ClientShmNames(string stem, int sessionIndex)
    {
        Stem = stem;
        SessionIndex = sessionIndex;
    }

    /// <summary>Everything before <c>_buffer</c> / <c>_queue_n</c>: prefix, pid, optional epoch, random part.</summary>
    public string Stem { get; }

    /// <summary>The process-wide number of this session (shmipc-go's session index in the queue name).</summary>
    public int SessionIndex { get; }

    /// <summary>The buffer region's logical name: its path in file mode, the announced name in memfd mode.</summary>
    public string Buffer => Stem + "_buffer";

    /// <summary>The queue pair's logical name (also the session's display name).</summary>
    public string Queue => string.Create(CultureInfo.InvariantCulture, $"{Stem}_queue_{SessionIndex}");

    /// <summary>Fresh, unpredictable names under <paramref name="pathPrefix"/>.</summary>
    /// <param name="pathPrefix">The configured prefix (<see cref="ShmipcClientOptions.PathPrefix"/>).</param>
    /// <param name="epoch">The hot-restart epoch the session is built for (a pool slot rebuilt after HotRestart); null for a first connection.</param>
    public static ClientShmNames Create(string pathPrefix, ulong? epoch = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathPrefix);
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(bytes);
        var random = BitConverter.ToUInt64(bytes);
        var pid = Environment.ProcessId;
        var stem = epoch is { } e
            ? string.Create(CultureInfo.InvariantCulture, $"{pathPrefix}_{pid}_epoch_{e}_{random:x16}")
            : string.Create(CultureInfo.InvariantCulture, $"{pathPrefix}_{pid}_{random:x16}");
        return new ClientShmNames(stem, Interlocked.Increment(ref s_sessionIndex));
    }

    /// <summary>The kernel name of the memfd for <paramref name="logicalName"/> (shmipc-go's "shmipc" + name).</summary>
    public static string MemFd(string logicalName) => MemFdPrefix + logicalName;

    /// <inheritdoc/>
    public override string ToString() => Stem;
}
