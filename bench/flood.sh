#!/usr/bin/env bash
# Flood harness: a server that accepts a stream and never reads it, and a client that writes 256-byte messages as fast
# as Output.WriteAsync allows for SECONDS. Prints the messages the writer got through, how the flood ended, and the
# server's resident memory before and at its peak. Extra arguments go to the server (e.g. to switch the receive budget
# off: --budget-messages 2147483647 --budget-bytes 9223372036854775807).
#
#   dotnet build tests/Shmipc.Channels.Tests.Peer -c Release && bench/flood.sh [SECONDS] [server args...]
set -euo pipefail
seconds=${1:-8}; shift || true
peer=${PEER_DLL:-$(dirname "$0")/../tests/Shmipc.Channels.Tests.Peer/bin/Release/net10.0/Shmipc.Channels.Tests.Peer.dll}
dir=$(mktemp -d); sock=$dir/flood.sock
mkfifo "$dir/in"
dotnet "$peer" serve "$sock" --mode hold "$@" < "$dir/in" > "$dir/server.log" 2>&1 &
server=$!
exec 3> "$dir/in"
for _ in $(seq 100); do grep -q READY "$dir/server.log" 2>/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status" 2>/dev/null || echo 0; }
before=$(rss); peak=$before
dotnet "$peer" flood "$sock" --seconds "$seconds" --size 256 --write-timeout-ms 2000 > "$dir/client.log" 2>&1 &
client=$!
while kill -0 "$client" 2>/dev/null; do now=$(rss); (( now > peak )) && peak=$now; sleep 0.2; done
grep FLOOD "$dir/client.log" || cat "$dir/client.log"
echo "server RSS: ${before} MiB before, ${peak} MiB peak"
exec 3>&-
wait "$server" || true
rm -rf "$dir"
