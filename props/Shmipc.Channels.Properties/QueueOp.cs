namespace Shmipc.Channels.Properties;

/// <summary>A run of <see cref="Count"/> puts or pops; <see cref="Reverse"/> selects the mapper→creator queue of a pair.</summary>
public readonly record struct QueueOp(QueueOpKind Kind, int Count, bool Reverse)
{
    public override string ToString() => Kind == QueueOpKind.Remap ? "Remap" : $"{Kind}x{Count}{(Reverse ? "<" : ">")}";
}
