using System.Net.Sockets;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>
/// A Unix-socket proxy that forwards every connection to a target path and records the bytes of each direction, so a
/// test sees exactly what went over the wire (file mode only: no fds cross a byte proxy).
/// </summary>
internal sealed class RecordingProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string _target;
    private readonly List<(MemoryStream ClientToServer, MemoryStream ServerToClient)> _connections = [];
    private readonly List<Socket> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public RecordingProxy(string path, string target)
    {
        _target = target;
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        _accepting = AcceptAsync();
    }

    /// <summary>What the client of connection <paramref name="index"/> sent so far.</summary>
    public byte[] ClientToServer(int index) => Snapshot(index, c => c.ClientToServer);

    /// <summary>What the server sent on connection <paramref name="index"/> so far.</summary>
    public byte[] ServerToClient(int index) => Snapshot(index, c => c.ServerToClient);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_connections)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private byte[] Snapshot(int index, Func<(MemoryStream ClientToServer, MemoryStream ServerToClient), MemoryStream> pick)
    {
        lock (_connections)
        {
            return pick(_connections[index]).ToArray();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await server.ConnectAsync(new UnixDomainSocketEndPoint(_target), _stop.Token);
            var record = (new MemoryStream(), new MemoryStream());
            lock (_connections)
            {
                _connections.Add(record);
                _sockets.Add(client);
                _sockets.Add(server);
            }

            _ = PumpAsync(client, server, record.Item1);
            _ = PumpAsync(server, client, record.Item2);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, MemoryStream record)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                lock (_connections)
                {
                    record.Write(buffer, 0, n);
                }

                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        try
        {
            to.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
