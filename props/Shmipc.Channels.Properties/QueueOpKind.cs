namespace Shmipc.Channels.Properties;

/// <summary>What one run of a queue scenario does.</summary>
public enum QueueOpKind
{
    /// <summary>Count × TryPut.</summary>
    Put,

    /// <summary>Count × TryPop.</summary>
    Pop,

    /// <summary>Replace the IoQueue objects by fresh ones from Map (their cached peer indexes start over).</summary>
    Remap,
}
