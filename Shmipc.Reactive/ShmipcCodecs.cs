using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Shmipc.Reactive.Codecs;

namespace Shmipc.Reactive;

/// <summary>Ready <see cref="IShmipcCodec{T}"/> implementations.</summary>
/// <example>
/// <code>
/// [JsonSerializable(typeof(Order))]
/// partial class AppJson : JsonSerializerContext { }
///
/// var codec = ShmipcCodecs.Json(AppJson.Default.Order);   // source-generated: no reflection, trimming-safe
/// </code>
/// </example>
public static class ShmipcCodecs
{
    /// <summary>
    /// Raw bytes as <see cref="ReadOnlyMemory{T}"/>. Encoding copies the bytes into shared memory (chaining slices as
    /// needed); decoding necessarily copies them out into a new array, because the lease under them is released as
    /// soon as the item is decoded. For zero-copy reading use <see cref="ShmipcObservable.ObserveLeases"/>.
    /// </summary>
    public static IShmipcCodec<ReadOnlyMemory<byte>> Bytes => MemoryCodec.Instance;

    /// <summary>Raw bytes as <c>byte[]</c>; copies both ways, like <see cref="Bytes"/>.</summary>
    public static IShmipcCodec<byte[]> ByteArray => ByteArrayCodec.Instance;

    /// <summary>
    /// Strings as UTF-8, written into shared memory slice by slice and decoded in place. Invalid UTF-8 fails the decode
    /// (it is not replaced silently).
    /// </summary>
    public static IShmipcCodec<string> Utf8 => Utf8StringCodec.Instance;

    /// <summary>
    /// System.Text.Json with a source-generated (or any) <see cref="JsonTypeInfo{T}"/>: a <see cref="Utf8JsonWriter"/>
    /// over the outgoing lease and a <see cref="Utf8JsonReader"/> over the received slices, no intermediate arrays.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="typeInfo">For example <c>MyContext.Default.MyType</c>; its options apply.</param>
    /// <returns>A codec that is safe to share between streams and threads.</returns>
    /// <remarks>
    /// Values longer than one slice are chained. <see cref="Utf8JsonWriter"/> sometimes asks for more contiguous room
    /// than a slice has (4 KiB blocks; six bytes per char before writing a string): that part is written into a pooled
    /// scratch buffer and copied into the slices, rather than moving the message to the heap and the socket.
    /// </remarks>
    public static IShmipcCodec<T> Json<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonCodec<T>(typeInfo);
    }

    /// <summary>System.Text.Json by reflection; prefer the <see cref="JsonTypeInfo{T}"/> overload (source generation).</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="options">Serializer options, for example <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <returns>A codec that is safe to share between streams and threads.</returns>
    [RequiresUnreferencedCode("Reflection-based JSON serialization may need types that trimming removes; use the JsonTypeInfo<T> overload.")]
    [RequiresDynamicCode("Reflection-based JSON serialization may generate code at run time; use the JsonTypeInfo<T> overload.")]
    public static IShmipcCodec<T> Json<T>(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TypeInfoResolver is null)
        {
            // Options made with `new JsonSerializerOptions()` get the reflection resolver on first use by JsonSerializer;
            // GetTypeInfo does not do that, and the caller's instance is not ours to change.
            options = new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        }

        return new JsonCodec<T>((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }
}
