using Shmipc.Inspect;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Ctrl-C ends --watch after the current pass instead of killing the process mid-write of the output.
    e.Cancel = true;
    cancel.Cancel();
};

return InspectCommand.Run(args, Console.Out, Console.Error, cancel.Token);
