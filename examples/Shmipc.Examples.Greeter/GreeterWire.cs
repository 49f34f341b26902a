using System.Text;

namespace Shmipc.Examples.Greeter;

/// <summary>What shmipc-go's example/helloworld puts on the wire, and where it meets.</summary>
/// <remarks>
/// The Go example frames nothing: the client writes the request's bytes and flushes once, the server reads exactly
/// <c>len("client say hello world!!!")</c> bytes (<c>BufferReader().ReadBytes(25)</c>), and the reply is the same with
/// 21 bytes. No length prefix, no terminator.
/// </remarks>
internal static class GreeterWire
{
    public const string Request = "client say hello world!!!";

    public const string Response = "server hello world!!!";

    public static readonly int RequestLength = Encoding.UTF8.GetByteCount(Request);

    public static readonly int ResponseLength = Encoding.UTF8.GetByteCount(Response);

    /// <summary>greeter_client sets <c>ShareMemoryPathPrefix = "/dev/shm/client.ipc.shm"</c>.</summary>
    public const string ClientPathPrefix = "/dev/shm/client.ipc.shm";

    /// <summary>
    /// Both Go programs use <c>filepath.Join(os.Getwd(), "../ipc_test.sock")</c>: the socket sits in the parent of the
    /// working directory, so a server started in greeter_server/ and a client started in greeter_client/ meet.
    /// </summary>
    public static string DefaultSocketPath => Path.GetFullPath(Path.Combine(Environment.CurrentDirectory, "..", "ipc_test.sock"));

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes, as Go's <c>BufferReader().ReadBytes(count)</c>: bytes left over in
    /// a message stay in <paramref name="stream"/> for the next read. Returns null when the peer closed the stream
    /// before the first of them.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer closed the stream in the middle of the bytes.</exception>
    public static async ValueTask<byte[]?> ReadExactlyOrEndAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        var read = await stream.ReadAtLeastAsync(bytes, count, throwOnEndOfStream: false, cancellationToken);
        return read == 0 ? null : read == count ? bytes : throw new EndOfStreamException($"the peer closed the stream after {read} of {count} bytes.");
    }
}
