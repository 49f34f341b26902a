namespace Shmipc.Channels.Sessions;

/// <summary>
/// Where an engine object keeps the one public object that wraps it. The engine never creates or names the facade's
/// type: the public layer passes the factory, so Sessions does not depend on it.
/// </summary>
// Design: set once by compare-and-swap. Two threads asking at once may both create a facade; one wins and both return
// the winner (a facade is a stateless wrapper, so the loser is just garbage). After the first call a lookup is one
// field read and a type check: no allocation on the paths that ask for it per message.
internal struct FacadeSlot
{
    private object? _facade;

    /// <summary>The facade of <paramref name="owner"/>, created by <paramref name="create"/> on first use.</summary>
    public T GetOrCreate<TOwner, T>(TOwner owner, Func<TOwner, T> create)
        where T : class
    {
        if (Volatile.Read(ref _facade) is T existing)
        {
            return existing;
        }

        var made = create(owner);
        return Interlocked.CompareExchange(ref _facade, made, null) as T ?? made;
    }
}
