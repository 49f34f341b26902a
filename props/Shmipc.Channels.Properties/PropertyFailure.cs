namespace Shmipc.Channels.Properties;

/// <summary>
/// Thrown by the hand-written checks of the models. A plain exception type (not ShmipcException) so that
/// "the core threw something other than CorruptSharedMemory" and "the model disagrees" are never confused.
/// </summary>
internal sealed class PropertyFailure : Exception
{
    public PropertyFailure(string message)
        : base(message)
    {
    }
}
