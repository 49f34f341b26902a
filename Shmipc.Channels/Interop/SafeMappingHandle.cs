using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

/// <summary>Owns one mmap'ed range; release munmaps it (after ending its SIGBUS guard, if any).</summary>
internal sealed class SafeMappingHandle : SafeHandle
{
    private int _guardSlot = -1;

    /// <summary>Wraps a mapping of <paramref name="length"/> bytes at <paramref name="address"/>.</summary>
    public SafeMappingHandle(nint address, nuint length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Length = length;
        SetHandle(address);
    }

    /// <summary>The mapped length in bytes.</summary>
    public nuint Length { get; }

    /// <summary>The <see cref="SigbusGuard"/> slot guarding this range, or -1.</summary>
    public int GuardSlot => _guardSlot;

    /// <summary>Records that <paramref name="slot"/> guards this range; it is unregistered just before munmap.</summary>
    public void SetGuardSlot(int slot) => _guardSlot = slot;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero || handle == Interop.MAP_FAILED;

    /// <inheritdoc/>
    protected override unsafe bool ReleaseHandle()
    {
        // Unregister first: once unmapped, the addresses may be reused by a mapping the guard must not touch.
        if (_guardSlot >= 0)
        {
            SigbusGuard.Unregister(_guardSlot);
            _guardSlot = -1;
        }

        return Interop.Libc.munmap((void*)handle, Length) == 0;
    }
}
