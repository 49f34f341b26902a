using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Properties;

/// <summary>
/// Interpolated-string handler that formats the failure message only when the check fails: the models run
/// checks in tight loops (every held slice, every step), where eager string formatting would dominate the run time.
/// </summary>
[InterpolatedStringHandler]
internal ref struct CheckMessage
{
    private DefaultInterpolatedStringHandler _inner;

    public CheckMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        shouldAppend = !condition;
        _inner = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);

    public string ToStringAndClear() => _inner.ToStringAndClear();
}
