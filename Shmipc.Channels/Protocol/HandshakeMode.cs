namespace Shmipc.Channels.Protocol;

/// <summary>How the client shares its queue and buffer region with the server (§1.3, §3).</summary>
internal enum HandshakeMode
{
    /// <summary>v2, §3.1: one ShareMemoryByFilePath frame, no reply. What a Go client sends by default.</summary>
    FilePathV2 = 0,

    /// <summary>v3, §3.3: version exchange, ShareMemoryByFilePath, AckShareMemory. Never initiated by Go/Rust, accepted by both.</summary>
    FilePathV3 = 1,

    /// <summary>v3, §3.2: version exchange, ShareMemoryByMemfd, AckReadyRecvFD, SCM_RIGHTS [buffer, queue], AckShareMemory.</summary>
    MemFdV3 = 2,
}
