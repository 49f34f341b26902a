using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

/// <summary>Owns one file descriptor of any kind; invalid is -1; release closes it.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an invalid handle (used by marshalling).</summary>
    public SafeFdHandle()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    /// <summary>Wraps <paramref name="fd"/>; when <paramref name="ownsHandle"/> it is closed on release.</summary>
    public SafeFdHandle(int fd, bool ownsHandle)
        : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw fd. Throws <see cref="ObjectDisposedException"/> once closed.</summary>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle.ToInt64();
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.Libc.close((int)handle.ToInt64()) == 0;
}
