using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Shmipc.Reactive.Codecs;

/// <summary>
/// System.Text.Json: <see cref="Utf8JsonWriter"/> over the outgoing lease, <see cref="Utf8JsonReader"/> over the
/// received slices; no intermediate array either way.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <see cref="Utf8JsonWriter"/> asks its buffer for at least 4 KiB at a time once the first block is full, and for
/// the worst-case escaped size of a string (six bytes per char) before writing it. A <see cref="SliceWriter"/> in
/// between serves what a slice cannot hold from a pooled scratch buffer and copies it into the slice chain, so a large
/// item is copied once instead of moving to the heap and the socket.
/// </remarks>
internal sealed class JsonCodec<T> : IShmipcCodec<T>
{
    // One writer per thread, re-pointed at each message (Reset), so encoding allocates nothing per item.
    [ThreadStatic]
    private static Utf8JsonWriter? s_cachedWriter;

    [ThreadStatic]
    private static SliceWriter? s_cachedSlices;

    [ThreadStatic]
    private static JsonCodec<T>? s_cachedOwner;

    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly JsonWriterOptions _writerOptions;
    private readonly JsonReaderOptions _readerOptions;

    public JsonCodec(JsonTypeInfo<T> typeInfo)
    {
        _typeInfo = typeInfo;
        var options = typeInfo.Options;
        _writerOptions = new JsonWriterOptions
        {
            Encoder = options.Encoder,
            Indented = options.WriteIndented,
            IndentCharacter = options.IndentCharacter,
            IndentSize = options.IndentSize,
            NewLine = options.NewLine,
            MaxDepth = options.MaxDepth,
            SkipValidation = true,
        };
        _readerOptions = new JsonReaderOptions
        {
            AllowTrailingCommas = options.AllowTrailingCommas,
            CommentHandling = options.ReadCommentHandling,
            MaxDepth = options.MaxDepth,
        };
    }

    public void Encode(T value, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var slices = s_cachedSlices ??= new SliceWriter();
        slices.Reset(writer);
        var json = s_cachedWriter;
        if (json is null || !ReferenceEquals(s_cachedOwner, this))
        {
            json = new Utf8JsonWriter(slices, _writerOptions);
            s_cachedWriter = json;
            s_cachedOwner = this;
        }
        else
        {
            json.Reset(slices);
        }

        try
        {
            JsonSerializer.Serialize(json, value, _typeInfo);
            json.Flush();
        }
        finally
        {
            // Do not keep the lease's writer reachable from the thread.
            json.Reset(NullBufferWriter.Instance);
            slices.Reset(null);
        }
    }

    public T Decode(ReadOnlySequence<byte> data)
    {
        var reader = new Utf8JsonReader(data, _readerOptions);
        var value = JsonSerializer.Deserialize(ref reader, _typeInfo);
        if (reader.Read())
        {
            throw new JsonException($"unexpected {reader.TokenType} after the JSON value at byte {reader.TokenStartIndex}.");
        }

        return value!;
    }

    private sealed class NullBufferWriter : IBufferWriter<byte>
    {
        public static readonly NullBufferWriter Instance = new();

        public void Advance(int count) => throw new InvalidOperationException();

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException();

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException();
    }
}
