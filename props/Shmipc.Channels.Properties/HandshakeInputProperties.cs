// Property: hostile handshakes against the real handshake server. A client end of a socketpair sends well-formed,
// truncated, mutated or random first bytes (v2 and v3, file paths and memfd names; memfd announcements come without
// fds) and half-closes the connection. Invariant: HandshakeServer.ReceiveAnnouncement either returns an announcement whose fds are then
// closed, or throws a ShmipcException with a message; never another exception, never past its deadline. 200 cases in
// CI; SHMIPC_PROPS_LOCAL=1 runs 100 000.
using FsCheck;
using FsCheck.Fluent;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Properties;

public sealed class HandshakeInputProperties
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static int Cases => Environment.GetEnvironmentVariable("SHMIPC_PROPS_LOCAL") == "1" ? 100_000 : 200;

    [Fact]
    public void Hostile_handshakes_fail_with_a_clear_error_or_yield_an_announcement()
    {
        var property = Prop.ForAll(Generators.HandshakeInputs(), (HandshakeInputCase input) => Run(input).Label(input.ToString()));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), property);
    }

    private static Property Run(HandshakeInputCase input)
    {
        var (client, server) = SocketFd.CreatePair();
        using (client)
        using (server)
        {
            client.SendAll(input.Bytes, Timeout); // the socket buffer holds every generated input

            // Half-close: the server reads the bytes and then end of file, and its replies still go through (a v3
            // server answers the version exchange before it reads the announcement).
            Interop.Interop.CheckIo(Interop.Interop.Libc.shutdown(client.Handle, Interop.Interop.SHUT_WR), "shutdown(SHUT_WR)");

            var started = DateTime.UtcNow;
            try
            {
                var transport = new SocketHandshakeTransport(server);
                var announcement = HandshakeServer.ReceiveAnnouncement(transport, Timeout, static fd => new SafeFdHandle(fd, true).Dispose());
                announcement.CloseFds();
                return true.Classify(true, $"{input.Shape.Split(' ')[0]}: announcement v{announcement.Version}");
            }
            catch (ShmipcException e)
            {
                var elapsed = DateTime.UtcNow - started;
                return (!string.IsNullOrWhiteSpace(e.Message) && elapsed < Timeout + TimeSpan.FromSeconds(1))
                    .Label($"{e.ErrorCode} after {elapsed.TotalMilliseconds:0} ms: {e.Message}")
                    .Classify(true, $"{input.Shape.Split(' ')[0]}: {e.ErrorCode}");
            }
            catch (Exception e)
            {
                return false.Label($"not a ShmipcException: {e}");
            }
        }
    }
}
