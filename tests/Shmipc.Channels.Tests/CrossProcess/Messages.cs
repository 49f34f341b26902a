using System.Buffers;
using Shmipc.Channels.Tests.Peer;
using Xunit;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>Writes patterned messages and verifies every byte of what comes back, in place (no copy).</summary>
public static class Messages
{
    public static ValueTask WriteAsync(ShmipcStream stream, int length, uint seed, CancellationToken cancellationToken) =>
        stream.WriteAsync(PayloadPattern.Create(length, seed), cancellationToken);

    /// <summary>Asserts that <paramref name="data"/> is the <paramref name="length"/>-byte payload of <paramref name="seed"/>.</summary>
    public static void Verify(ReadOnlySequence<byte> data, int length, uint seed, string what)
    {
        Assert.True(data.Length == length, $"{what}: {data.Length} bytes, expected {length}");
        var offset = 0;
        foreach (var segment in data)
        {
            var mismatch = PayloadPattern.FirstMismatch(segment.Span, seed, offset);
            Assert.True(mismatch < 0, $"{what}: byte {mismatch} differs from the pattern of seed {seed}");
            offset += segment.Length;
        }
    }

    /// <summary>Reads the next message and verifies it.</summary>
    public static async Task ReadAndVerifyAsync(ShmipcStream stream, int length, uint seed, string what, CancellationToken cancellationToken)
    {
        using var message = await stream.Input.ReadAsync(cancellationToken);
        Verify(message.Data, length, seed, what);
    }

    /// <summary>One round trip through an echoing peer.</summary>
    public static async Task RoundTripAsync(ShmipcStream stream, int length, uint seed, CancellationToken cancellationToken)
    {
        await WriteAsync(stream, length, seed, cancellationToken);
        await ReadAndVerifyAsync(stream, length, seed, $"echo of {length} bytes (seed {seed}) on stream {stream.Id}", cancellationToken);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking it every few milliseconds, at most <paramref name="timeout"/>.</summary>
    /// <remarks>For states without an event to wait on (stream counts settle on the reactor thread after the close notice).</remarks>
    /// <param name="state">What the timeout message adds about the state found last, if given.</param>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}{(state is null ? "" : "; " + state())}");
            await Task.Delay(5);
        }
    }

    /// <summary>Like <see cref="EventuallyAsync(Func{bool}, TimeSpan, string)"/> for an asynchronous probe.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last value: {value}");
            await Task.Delay(10);
        }
    }
}
