using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    /// <summary>True on Linux arm64, where a few layouts and constants differ from x64.</summary>
    internal static readonly bool IsArm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>True when this is Linux on x64 or arm64, the only platforms whose layouts are defined here.</summary>
    internal static readonly bool IsSupported =
        OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Throws <see cref="ShmipcErrorCode.PlatformNotSupported"/> unless <see cref="IsSupported"/>.</summary>
    internal static void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw new ShmipcException(
                ShmipcErrorCode.PlatformNotSupported,
                $"Shmipc.NET runs on Linux x64 and arm64 only; this is {RuntimeInformation.OSDescription} on {RuntimeInformation.ProcessArchitecture}.");
        }
    }
}
