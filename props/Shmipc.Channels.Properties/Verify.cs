using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Properties;

/// <summary>Lazy-message checks that throw <see cref="PropertyFailure"/>.</summary>
internal static class Verify
{
    public static void That(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref CheckMessage message)
    {
        if (!condition)
        {
            throw new PropertyFailure(message.ToStringAndClear());
        }
    }

    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new PropertyFailure(message);
        }
    }

    /// <summary>Runs <paramref name="action"/>; a ShmipcException must carry <paramref name="allowed"/>, anything else fails.</summary>
    /// <returns>The allowed exception, or null when <paramref name="action"/> completed.</returns>
    public static ShmipcException? OnlyThrows(ShmipcErrorCode allowed, Action action, string context)
    {
        try
        {
            action();
            return null;
        }
        catch (ShmipcException e) when (e.ErrorCode == allowed)
        {
            return e;
        }
        catch (PropertyFailure)
        {
            throw; // a check inside the action failed: report it as is
        }
        catch (Exception e)
        {
            throw new PropertyFailure($"{context}: expected success or ShmipcException({allowed}), got {e.GetType().Name}: {e.Message}{Environment.NewLine}{e.StackTrace}");
        }
    }
}
