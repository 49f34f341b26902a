using System.Diagnostics;
using Shmipc.Examples.Grpc;

// `dotnet run` (no arguments): start the server as a child process, call it, stop it.
// `server <shmipc-socket> [<uds-socket>|- [<tcp-port>]]`: only the server (prints READY, stops when stdin closes).
// `client <shmipc-socket>`: only the client.
if (args is ["server", var path, ..])
{
    var uds = args.Length > 2 && args[2] != "-" ? args[2] : null;
    var port = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : -1;
    return await EchoServer.RunAsync(path, uds, port);
}

using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
if (args is ["client", var clientPath])
{
    await EchoClientDemo.RunAsync(clientPath, cts.Token);
    return 0;
}

var dir = Directory.CreateTempSubdirectory("shmipc-grpc-").FullName;
var socket = Path.Combine(dir, "echo.sock");
try
{
    Console.WriteLine("gRPC over shared memory: ASP.NET Core server in a child process, Grpc.Net.Client here");
    using var server = EchoProcess.StartServer(socket);
    await server.WaitReadyAsync(cts.Token);
    Console.WriteLine($"  server process {server.Id} listening on {socket}");
    await EchoClientDemo.RunAsync(socket, cts.Token);
    var code = await server.StopAsync(cts.Token);
    Console.WriteLine($"shutdown: server exited with code {code}; socket file {(File.Exists(socket) ? "LEFT" : "removed")}");
    return code;
}
finally
{
    Directory.Delete(dir, recursive: true);
}
