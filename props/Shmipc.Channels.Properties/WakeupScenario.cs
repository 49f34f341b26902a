namespace Shmipc.Channels.Properties;

/// <summary>
/// One producer/consumer run of the working-flag protocol: <see cref="Elements"/> puts into a queue of
/// <see cref="Capacity"/>; <see cref="ConsumerYields"/> adds Go's "yield once before markNotWorking".
/// </summary>
public sealed record WakeupScenario(int Elements, int Capacity, bool Arm64Layout, bool ConsumerYields);
