using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    // Design: the one place where errno becomes an exception. Every wrapper captures
    // Marshal.GetLastPInvokeError() immediately after its LibraryImport call (SetLastError = true), retries
    // EINTR itself, and hands any other errno to CreateException, so messages always read
    // "<call> failed: <NAME> (<n>): <strerror text>[: <detail>]".

    /// <summary>The errno left by the last <c>SetLastError = true</c> import on this thread.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Builds the exception for a failed call (<see cref="ShmipcErrorCode.OperatingSystem"/>).</summary>
    /// <param name="errno">The captured errno.</param>
    /// <param name="call">The call and its salient argument, e.g. <c>open(/dev/shm/x)</c>.</param>
    /// <param name="detail">Optional advice appended to the message.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ShmipcException CreateException(int errno, string call, string? detail = null)
    {
        string text = Marshal.GetPInvokeErrorMessage(errno); // strerror_r
        string message = string.Create(
            CultureInfo.InvariantCulture,
            $"{call} failed: {Errno.GetName(errno)} ({errno}): {text}");
        return new ShmipcException(errno, detail is null ? message : message + ": " + detail);
    }

    /// <summary>Throws <see cref="CreateException"/> for <paramref name="errno"/>.</summary>
    [DoesNotReturn]
    internal static void Throw(int errno, string call, string? detail = null) =>
        throw CreateException(errno, call, detail);

    /// <summary>
    /// Throws for a negative <paramref name="result"/> using the errno captured right after the call;
    /// returns <paramref name="result"/> otherwise. For calls where EINTR cannot happen or was retried.
    /// </summary>
    internal static int CheckIo(int result, string call)
    {
        if (result < 0)
        {
            Throw(LastErrno, call);
        }

        return result;
    }
}
