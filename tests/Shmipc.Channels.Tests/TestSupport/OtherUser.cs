using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// Running a peer as another user: needs root (to switch uid) and util-linux's setpriv. Tests that need it run their
/// same-user part everywhere and say in their output when they could not run the other-user part.
/// </summary>
public static class OtherUser
{
    /// <summary>The user the tests switch to: nobody.</summary>
    public const uint Id = 65534;

    /// <summary>The setpriv binary.</summary>
    public const string SetPriv = "/usr/bin/setpriv";

    /// <summary>True when this process can start a peer as <see cref="Id"/>.</summary>
    public static bool CanSwitch => PeerCredentials.CurrentUserId == 0 && File.Exists(SetPriv);

    /// <summary>Why <see cref="CanSwitch"/> is false, for the test output.</summary>
    public static string WhyNot => $"the other-user part needs root and {SetPriv} (uid {PeerCredentials.CurrentUserId}, setpriv {(File.Exists(SetPriv) ? "present" : "missing")}); it was not run";

    /// <summary>Hands <paramref name="paths"/> to <paramref name="uid"/> (chown; the test process is root).</summary>
    public static void Chown(uint uid, params string[] paths)
    {
        var info = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add(uid.ToString(CultureInfo.InvariantCulture));
        foreach (var path in paths)
        {
            info.ArgumentList.Add(path);
        }

        using var chown = Process.Start(info)!;
        var error = chown.StandardError.ReadToEnd();
        chown.WaitForExit();
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown {uid} {string.Join(' ', paths)} failed ({chown.ExitCode}): {error}");
        }
    }
}
