namespace Shmipc.Channels;

/// <summary>
/// The one exception type of Shmipc.NET: a failed system call, a protocol violation by the peer, a closed
/// session or stream, a timeout. <see cref="ErrorCode"/> says which; the message says what exactly.
/// </summary>
/// <remarks>
/// A malformed frame or shared-memory structure from the peer closes only the session it arrived on;
/// every stream of that session then fails with a <see cref="ShmipcException"/> whose message names the fault.
/// </remarks>
public sealed class ShmipcException : IOException
{
    /// <summary>Creates an exception with <see cref="ShmipcErrorCode.Unknown"/>.</summary>
    public ShmipcException()
    {
    }

    /// <summary>Creates an exception with <see cref="ShmipcErrorCode.Unknown"/> and a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ShmipcException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <see cref="ShmipcErrorCode.Unknown"/>, a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ShmipcException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with an error code, a message and an optional cause.</summary>
    /// <param name="errorCode">The kind of failure.</param>
    /// <param name="message">What went wrong, specifically.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ShmipcException(ShmipcErrorCode errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Creates an exception for a failed system call.</summary>
    /// <param name="errno">The errno value the call left.</param>
    /// <param name="message">The call and its errno name and text.</param>
    public ShmipcException(int errno, string message)
        : base(message)
    {
        ErrorCode = ShmipcErrorCode.OperatingSystem;
        Errno = errno;
    }

    /// <summary>The kind of failure.</summary>
    public ShmipcErrorCode ErrorCode { get; }

    /// <summary>The errno of the failed system call when <see cref="ErrorCode"/> is <see cref="ShmipcErrorCode.OperatingSystem"/>; otherwise 0.</summary>
    public int Errno { get; }
}
