namespace Shmipc.Channels.Sessions;

/// <summary>One reading of a session's state for the <c>Shmipc</c> meter's observable instruments.</summary>
/// <param name="SlicesInUse">Slices of the buffer region off the free lists.</param>
/// <param name="SlicesFree">Slices on the free lists.</param>
/// <param name="CapacityBytes">Σ slices · slice size.</param>
/// <param name="InUseBytes">Σ slices off the free lists · slice size.</param>
/// <param name="SendQueuePending">Elements of the send queue the peer has not consumed.</param>
/// <param name="ReceiveQueuePending">Elements of the receive queue this side has not consumed.</param>
/// <param name="ActiveStreams">Open streams.</param>
/// <param name="BudgetPauses">Times the receive budget paused the session.</param>
internal readonly record struct SessionGauges(
    long SlicesInUse,
    long SlicesFree,
    long CapacityBytes,
    long InUseBytes,
    long SendQueuePending,
    long ReceiveQueuePending,
    long ActiveStreams,
    long BudgetPauses);
