namespace Shmipc.Channels.Reactor;

/// <summary>Something the reactor thread serves: a session (socket + receive queue) or a listening socket.</summary>
/// <remarks>Every method runs on the reactor thread only.</remarks>
internal interface IReactorHandler
{
    /// <summary>The file descriptor the reactor watches with epoll.</summary>
    int Fd { get; }

    /// <summary>The epoll events to watch (EPOLLIN, EPOLLRDHUP, ...).</summary>
    uint Events { get; }

    /// <summary>Called when epoll reports <paramref name="events"/> on <see cref="Fd"/>.</summary>
    /// <returns>true when it did work (the reactor keeps spinning), false otherwise.</returns>
    bool OnReady(uint events);

    /// <summary>
    /// Called on every reactor pass: drain the shared-memory receive queue, serve waiting writers.
    /// </summary>
    /// <returns>true when it did work.</returns>
    bool Poll();

    /// <summary>
    /// Whether anything waits that only a reactor pass can release (writers waiting for queue room, a paused receive
    /// side whose readers freed the budget). Asked after the reactor published that it parks: true gives it a timeout.
    /// </summary>
    bool HasWaiters { get; }

    /// <summary>The reactor starts spinning: hold the receive queue's working flag so peers send no wake-ups.</summary>
    void EnterSpin();

    /// <summary>
    /// The reactor wants to park: clear the working flag with a full fence and re-check the queue.
    /// </summary>
    /// <returns>true when the queue is empty and the flag is clear; false when work arrived (the flag stays set).</returns>
    bool TryPark();

    /// <summary>
    /// Whether a reader of this handler spins on its receive queue right now (it drains the queue itself and holds the
    /// working flag): the reactor then neither spins nor clears that flag, and parks; the last reader to stop releases it.
    /// </summary>
    bool ReadersSpinning { get; }

    /// <summary>How long the reactor should keep spinning after this handler's last work, in Stopwatch ticks (0 = never spin).</summary>
    long SpinTicks { get; }

    /// <summary>One of the calls above threw: the reactor has removed the handler, which must now close itself.</summary>
    /// <param name="error">What was thrown.</param>
    void OnFault(Exception error);

    /// <summary>The reactor removed the handler (or is shutting down); it will not be called again.</summary>
    void OnRemoved();
}
