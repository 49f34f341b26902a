using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>A file by device and inode: what stays the same however the file is named, renamed or linked.</summary>
internal readonly record struct SharedFileIdentity(ulong Device, ulong Inode)
{
    public static SharedFileIdentity Of(in Native.statx_t st) =>
        new(((ulong)st.stx_dev_major << 32) | st.stx_dev_minor, st.stx_ino);
}
