namespace Shmipc.AspNetCore.Client;

/// <summary>A SocketsHttpHandler over shmipc that also owns the session(s) it opens streams on.</summary>
internal sealed class ShmipcHttpMessageHandler(SocketsHttpHandler inner, ISessionSource sessions) : DelegatingHandler(inner)
{
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            // The connections are gone with the inner handler; closing the session cannot block (it never waits).
            sessions.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
