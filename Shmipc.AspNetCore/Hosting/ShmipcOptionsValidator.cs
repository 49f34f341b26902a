using Microsoft.Extensions.Options;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Hosting;

/// <summary>Validates the DI options (socket path set, session options valid) at start, with the options' own messages.</summary>
internal sealed class ShmipcOptionsValidator : IValidateOptions<ShmipcHttpClientOptions>, IValidateOptions<ShmipcListenerOptions>
{
    public ValidateOptionsResult Validate(string? name, ShmipcHttpClientOptions options) =>
        Check(name, options.SocketPath, options.Session);

    public ValidateOptionsResult Validate(string? name, ShmipcListenerOptions options) =>
        Check(name, options.SocketPath, options.Server);

    private static ValidateOptionsResult Check(string? name, string socketPath, ShmipcOptions? session)
    {
        var what = string.IsNullOrEmpty(name) ? "shmipc" : $"shmipc '{name}'";
        if (string.IsNullOrWhiteSpace(socketPath))
        {
            return ValidateOptionsResult.Fail($"{what}: SocketPath is required.");
        }

        if (session is null)
        {
            return ValidateOptionsResult.Fail($"{what}: session options are required.");
        }

        try
        {
            session.Validate();
        }
        catch (ShmipcException e)
        {
            return ValidateOptionsResult.Fail($"{what}: {e.Message}");
        }

        return ValidateOptionsResult.Success;
    }
}
