using System.Buffers;
using System.Text;
using System.Text.Json;
using Shmipc.Reactive.Tests.Peer;
using Xunit;

namespace Shmipc.Reactive.Tests.Codecs;

/// <summary>The ready codecs over slice-like buffers: a writer that hands out small spans, sequences of many segments.</summary>
public class CodecTests
{
    [Theory]
    [InlineData("")]
    [InlineData("plain ascii")]
    [InlineData("héllo wörld ✓ 𝄞 — mixed widths")]
    public void Utf8_round_trips_through_small_slices_without_asking_for_more_than_a_scalar(string text)
    {
        var long_ = string.Concat(Enumerable.Repeat(text, 50));
        var writer = new SliceWriter(chunk: 7);
        ShmipcCodecs.Utf8.Encode(long_, writer);

        Assert.InRange(writer.LargestHint, 0, 4);
        Assert.Equal(Encoding.UTF8.GetBytes(long_), writer.Written.ToArray());
        Assert.Equal(long_, ShmipcCodecs.Utf8.Decode(writer.Written));
    }

    [Fact]
    public void Utf8_decode_rejects_invalid_bytes_instead_of_replacing_them()
    {
        var data = Segments.Of(new byte[] { (byte)'o', (byte)'k', 0xC3 }, new byte[] { 0x28 });
        Assert.Throws<DecoderFallbackException>(() => ShmipcCodecs.Utf8.Decode(data));
    }

    [Fact]
    public void Raw_bytes_round_trip_across_segments_and_decode_to_a_copy()
    {
        var bytes = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var writer = new SliceWriter(chunk: 64);
        ShmipcCodecs.ByteArray.Encode(bytes, writer);
        ShmipcCodecs.Bytes.Encode(bytes, writer);

        var both = writer.Written;
        Assert.False(both.IsSingleSegment);
        var first = ShmipcCodecs.ByteArray.Decode(both.Slice(0, 1000));
        var second = ShmipcCodecs.Bytes.Decode(both.Slice(1000));
        Assert.Equal(bytes, first);
        Assert.Equal(bytes, second.ToArray());
        writer.Clear();
        Assert.Equal(bytes, first);
    }

    [Fact]
    public void Json_with_a_source_generated_context_round_trips_across_segments()
    {
        var codec = ShmipcCodecs.Json(PeerJson.Default.Summary);
        var value = new Summary(3, 12, 4567, [10, 20, 40, 50], null);
        var writer = new SliceWriter(chunk: 5);
        codec.Encode(value, writer);
        var json = Encoding.UTF8.GetString(writer.Written.ToArray());
        Assert.Contains("\"LastBatch\":[10,20,40,50]", json, StringComparison.Ordinal);

        var split = Segments.Split(writer.Written.ToArray(), 3);
        var back = codec.Decode(split);
        Assert.Equal(value with { LastBatch = back.LastBatch }, back);
        Assert.Equal(value.LastBatch, back.LastBatch);
    }

    [Fact]
    public void Json_never_asks_the_lease_for_more_than_its_slice_holds_even_for_long_strings()
    {
        var codec = ShmipcCodecs.Json(PeerJson.Default.Reading);
        var value = new Reading(7, 8, new string('\u00e9', 6000) + "\"quoted\"");
        var writer = new SliceWriter(chunk: 1000);
        codec.Encode(value, writer);

        Assert.Equal(0, writer.LargestHint);
        Assert.False(writer.Written.IsSingleSegment);
        Assert.Equal(value, codec.Decode(writer.Written));
    }

    [Fact]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Test of the reflection overload.")]
    public void Json_by_reflection_round_trips_and_honours_the_options()
    {
        var codec = ShmipcCodecs.Json<Reading>(new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var writer = new SliceWriter(chunk: 4096);
        codec.Encode(new Reading(1, 2, "x"), writer);
        Assert.Equal("{\"sequence\":1,\"value\":2,\"payload\":\"x\"}", Encoding.UTF8.GetString(writer.Written.ToArray()));
        Assert.Equal(new Reading(1, 2, "x"), codec.Decode(writer.Written));
    }

    [Fact]
    public void Json_decode_rejects_trailing_data_and_malformed_input()
    {
        var codec = ShmipcCodecs.Json(PeerJson.Default.Reading);
        Assert.ThrowsAny<JsonException>(() => codec.Decode(new ReadOnlySequence<byte>("{\"Sequence\":1,\"Value\":2,\"Payload\":\"x\"} {}"u8.ToArray())));
        Assert.ThrowsAny<JsonException>(() => codec.Decode(new ReadOnlySequence<byte>("{\"Sequence\":"u8.ToArray())));
    }

    [Fact]
    public void The_json_codec_can_be_used_from_many_threads_at_once()
    {
        var codec = ShmipcCodecs.Json(PeerJson.Default.Reading);
        Parallel.For(0, 2000, i =>
        {
            var writer = new SliceWriter(chunk: 16);
            var value = new Reading(i, i * 2, new string('p', i % 40));
            codec.Encode(value, writer);
            Assert.Equal(value, codec.Decode(writer.Written));
        });
    }

    /// <summary>An IBufferWriter shaped like a lease: each span is the rest of a fixed-size chunk, or a fresh one.</summary>
    private sealed class SliceWriter(int chunk) : IBufferWriter<byte>
    {
        private readonly List<ReadOnlyMemory<byte>> _full = [];
        private byte[]? _current;
        private int _used;

        public int LargestHint { get; private set; }

        public ReadOnlySequence<byte> Written =>
            Segments.Of([.. _full, .. _current is null ? Array.Empty<ReadOnlyMemory<byte>>() : [_current.AsMemory(0, _used)]]);

        public void Advance(int count) => _used += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            LargestHint = Math.Max(LargestHint, sizeHint);
            var want = Math.Max(sizeHint, 1);
            if (_current is null || _current.Length - _used < want)
            {
                if (_current is not null)
                {
                    _full.Add(_current.AsMemory(0, _used));
                }

                _current = new byte[Math.Max(chunk, want)];
                _used = 0;
            }

            return _current.AsMemory(_used);
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public void Clear()
        {
            _full.ForEach(c => System.Runtime.InteropServices.MemoryMarshal.AsMemory(c).Span.Clear());
            if (_current is not null)
            {
                Array.Clear(_current);
            }
        }
    }

    private static class Segments
    {
        public static ReadOnlySequence<byte> Of(params ReadOnlyMemory<byte>[] parts)
        {
            parts = [.. parts.Where(p => !p.IsEmpty)];
            if (parts.Length == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new Segment(parts[0], 0);
            var last = first;
            foreach (var p in parts.Skip(1))
            {
                last = last.Append(p);
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes, int size) =>
            Of([.. bytes.Chunk(size).Select(c => (ReadOnlyMemory<byte>)c)]);

        private sealed class Segment : ReadOnlySequenceSegment<byte>
        {
            public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
            {
                Memory = memory;
                RunningIndex = runningIndex;
            }

            public Segment Append(ReadOnlyMemory<byte> memory)
            {
                var next = new Segment(memory, RunningIndex + Memory.Length);
                Next = next;
                return next;
            }
        }
    }
}
