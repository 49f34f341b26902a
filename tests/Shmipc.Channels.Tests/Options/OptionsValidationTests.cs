using Xunit;

namespace Shmipc.Channels.Tests.Options;

public class OptionsValidationTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        new ShmipcClientOptions().Validate();
        new ShmipcServerOptions().Validate();
    }

    [Theory]
    [InlineData("buffer", "BufferCapacity must be at least 1 MiB")]
    [InlineData("percent", "must add up to exactly 100, not 99")]
    [InlineData("empty", "must name at least one size class")]
    [InlineData("slice", "slice size 2000000 must be between 1 and BufferCapacity")]
    [InlineData("queue", "QueueCapacity must be between 1")]
    [InlineData("prefix", "PathPrefix must not be empty")]
    [InlineData("version", "FileModeProtocolVersion must be 2 or 3")]
    [InlineData("handshake", "HandshakeTimeout must be positive")]
    public void Invalid_client_options_are_refused_with_a_message_that_names_the_setting(string what, string fragment)
    {
        var o = new ShmipcClientOptions();
        switch (what)
        {
            case "buffer": o.BufferCapacity = 1024 * 1024 - 1; break;
            case "percent": o.SizeClasses = [new(1024, 50), new(4096, 49)]; break;
            case "empty": o.SizeClasses = []; break;
            case "slice": o.SizeClasses = [new(2_000_000, 100)]; o.BufferCapacity = 1024 * 1024; break;
            case "queue": o.QueueCapacity = 0; break;
            case "prefix": o.PathPrefix = ""; break;
            case "version": o.FileModeProtocolVersion = 4; break;
            case "handshake": o.HandshakeTimeout = TimeSpan.Zero; break;
        }

        var e = Assert.Throws<ShmipcException>(o.Validate);
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, e.ErrorCode);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(2)]
    [InlineData(1000)]
    public void Queue_capacities_that_split_a_cache_line_are_refused_on_x64(int capacity)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return;
        }

        var e = Assert.Throws<ShmipcException>(new ShmipcClientOptions { QueueCapacity = capacity }.Validate);
        Assert.Contains("cache line", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(8192)]
    [InlineData(65536)]
    public void Queue_capacities_that_keep_head_and_tail_in_one_line_are_accepted(int capacity) =>
        new ShmipcClientOptions { QueueCapacity = capacity }.Validate();

    [Fact]
    public async Task ConnectAsync_validates_before_connecting()
    {
        var e = await Assert.ThrowsAsync<ShmipcException>(() => ShmipcClient.ConnectAsync("/nonexistent/x.sock", new ShmipcClientOptions { QueueCapacity = 0 }));
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, e.ErrorCode);
    }
}
