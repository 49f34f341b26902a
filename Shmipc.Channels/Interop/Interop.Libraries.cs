namespace Shmipc.Channels.Interop;

/// <summary>
/// Raw libc bindings (layer 0). Each syscall family lives in its own <c>Interop.&lt;Family&gt;.cs</c> file:
/// the <see cref="Libc"/> nested class holds the <c>LibraryImport</c>s in kernel spelling, and the outer
/// class holds the few checked wrappers (EINTR retried, errno turned into <see cref="ShmipcException"/>).
/// </summary>
internal static partial class Interop
{
    /// <summary>Library names for <c>LibraryImport</c>.</summary>
    internal static class Libraries
    {
        /// <summary>The C library; the runtime resolves "libc" to the platform libc on Linux.</summary>
        internal const string Libc = "libc";
    }

    /// <summary>The raw libc entry points. Callers use the checked wrappers unless they need raw errno.</summary>
    internal static partial class Libc
    {
    }
}
