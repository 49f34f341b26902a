using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

/// <summary>Owns one mmap'ed range; release munmaps it.</summary>
internal sealed class SafeMappingHandle : SafeHandle
{
    /// <summary>Wraps a mapping of <paramref name="length"/> bytes at <paramref name="address"/>.</summary>
    public SafeMappingHandle(nint address, nuint length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Length = length;
        SetHandle(address);
    }

    /// <summary>The mapped length in bytes.</summary>
    public nuint Length { get; }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero || handle == Interop.MAP_FAILED;

    /// <inheritdoc/>
    protected override unsafe bool ReleaseHandle() => Interop.Libc.munmap((void*)handle, Length) == 0;
}
