using System.Globalization;
using System.Text.RegularExpressions;
using Shmipc.Channels.Memory;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Inspection;

/// <summary>
/// Reads shmipc buffer regions and queue pairs read-only and reports their headers, the slices off the free lists,
/// the pending queue elements, and every inconsistency a crashed or hostile peer can leave (shmipc-inspect's engine).
/// </summary>
/// <remarks>
/// <para>Nothing is ever written: objects are mapped through <see cref="ReadOnlyRegion"/>. Every offset read from an
/// object is checked before it is followed, and every walk is bounded by the slice count, so a looping or
/// out-of-range free list is reported, not followed.</para>
/// <para>A live session changes the memory while it is read, so one pass can see a pop or push half done. An
/// inspection with inconsistencies is therefore repeated (up to <see cref="Attempts"/> passes) and the first
/// consistent pass is reported; damage stays put and shows in every pass.</para>
/// </remarks>
internal static partial class RegionInspector
{
    /// <summary>Passes made before inconsistencies are believed.</summary>
    public const int Attempts = 3;

    /// <summary>Walks of one list within a pass, looking for one during which its header did not change.</summary>
    public const int StableReads = 16;

    private const string ClientToServer = "client->server";
    private const string ServerToClient = "server->client";
    private const int MaxIssuesPerKind = 8;

    /// <summary>Opens, classifies and inspects every target (one report per distinct object), repeating passes that found inconsistencies.</summary>
    public static InspectionReport Inspect(IReadOnlyList<RegionTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        InspectionReport report = InspectOnce(targets);
        for (int attempt = 1; attempt < Attempts && report.HasIssues; attempt++)
        {
            Thread.Sleep(attempt); // let a pop or push in flight finish
            report = InspectOnce(targets);
        }

        return report;
    }

    /// <summary>The object's name without the kernel's " (deleted)" suffix.</summary>
    public static string CleanName(string name) =>
        name.EndsWith(" (deleted)", StringComparison.Ordinal) ? name[..^" (deleted)".Length] : name;

    /// <summary>What a name says the object is: <c>…_buffer</c> or <c>…_queue_&lt;n&gt;</c>; null otherwise.</summary>
    public static RegionKind? KindFromName(string name)
    {
        string clean = CleanName(name);
        if (clean.EndsWith("_buffer", StringComparison.Ordinal))
        {
            return RegionKind.Buffer;
        }

        return QueueSuffix().IsMatch(clean) ? RegionKind.Queue : null;
    }

    /// <summary>The name shared by a session's objects: the name without <c>_buffer</c> or <c>_queue_&lt;n&gt;</c>.</summary>
    public static string Stem(string name)
    {
        string clean = CleanName(name);
        if (clean.EndsWith("_buffer", StringComparison.Ordinal))
        {
            return clean[..^"_buffer".Length];
        }

        Match m = QueueSuffix().Match(clean);
        return m.Success ? clean[..m.Index] : clean;
    }

    /// <summary>Reads a queue pair (docs/PROTOCOL.md §4.3) in this machine's header layout.</summary>
    public static QueuePairReport InspectQueuePair(ReadOnlyRegion region, string name)
    {
        ArgumentNullException.ThrowIfNull(region);
        var issues = new List<string>();
        var queues = new List<QueueReport>(2);
        QueueLayout layout = QueueLayout.Current;
        long length = region.Length;
        if (length < 2 * QueueLayout.HeaderSize || length % 2 != 0)
        {
            issues.Add(Inv($"the object is {length} bytes: a queue pair is two equal halves of at least {QueueLayout.HeaderSize} bytes"));
            return new QueuePairReport(region.Path, name, length, issues, layout.Name, queues);
        }

        long half = length / 2;
        queues.Add(ReadQueue(region, layout, ClientToServer, 0, half, issues));
        queues.Add(ReadQueue(region, layout, ServerToClient, half, half, issues));
        return new QueuePairReport(region.Path, name, length, issues, layout.Name, queues);
    }

    /// <summary>
    /// Reads a buffer region (docs/PROTOCOL.md §4.4–§4.6): the manager header, every list header, a bounded walk of
    /// every free list, and the slices the walks did not reach.
    /// </summary>
    /// <param name="region">The mapped object.</param>
    /// <param name="name">Its name, for the report.</param>
    /// <param name="queued">Pending data elements that point into this region (their chains are followed and marked).</param>
    public static BufferRegionReport InspectBuffer(ReadOnlyRegion region, string name, IReadOnlyList<QueuedMessage>? queued = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        var issues = new List<string>();
        var notes = new List<string>();
        long length = region.Length;
        if (length < ManagerHeaderSize)
        {
            issues.Add(Inv($"the object is {length} bytes, smaller than the {ManagerHeaderSize}-byte buffer-manager header"));
            return new BufferRegionReport(region.Path, name, length, issues, notes, 0, 0, []);
        }

        ushort listCount = region.ReadUInt16(ListCountOffset);
        uint usedLength = region.ReadUInt32(UsedLengthOffset);
        if (listCount == 0)
        {
            issues.Add("the buffer-manager header says there are 0 buffer lists");
        }

        if (ManagerHeaderSize + (long)usedLength > length)
        {
            issues.Add(Inv($"usedLength {usedLength} runs past the end of the {length}-byte region"));
        }

        var lists = new List<ListWalk>(listCount);
        long offset = ManagerHeaderSize;
        bool complete = true;
        for (int i = 0; i < listCount; i++)
        {
            ListWalk? walk = WalkStableList(region, i, offset, issues, notes);
            if (walk is null)
            {
                complete = false;
                break;
            }

            lists.Add(walk);
            offset = walk.End;
        }

        if (complete && listCount > 0 && offset - ManagerHeaderSize != usedLength)
        {
            issues.Add(Inv($"usedLength is {usedLength} but the {listCount} lists occupy {offset - ManagerHeaderSize} bytes"));
        }

        var labels = new Dictionary<(int List, long Index), string>();
        if (queued is not null)
        {
            FollowQueuedChains(region, lists, queued, labels, issues);
        }

        var reports = new List<BufferListReport>(lists.Count);
        foreach (ListWalk walk in lists)
        {
            reports.Add(walk.ToReport(region, labels, issues));
        }

        return new BufferRegionReport(region.Path, name, length, issues, notes, listCount, usedLength, reports);
    }

    private static InspectionReport InspectOnce(IReadOnlyList<RegionTarget> targets)
    {
        var errors = new List<string>();
        var opened = new List<(ReadOnlyRegion Region, RegionTarget Target, RegionKind Kind)>();
        var inodes = new HashSet<ulong>();
        try
        {
            foreach (RegionTarget target in targets)
            {
                ReadOnlyRegion region;
                try
                {
                    region = ReadOnlyRegion.Open(target.Path);
                }
                catch (Exception e) when (e is ShmipcException or IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{target.Name}: {e.Message}");
                    continue;
                }

                if (!inodes.Add(region.Inode))
                {
                    region.Dispose(); // the same object through another fd or mapping
                    continue;
                }

                RegionKind? kind = target.Kind ?? KindFromName(target.Name) ?? KindFromContents(region);
                if (kind is null)
                {
                    errors.Add($"{target.Name}: neither a shmipc buffer region nor a queue pair (pass --kind to read it as one)");
                    region.Dispose();
                    continue;
                }

                opened.Add((region, target, kind.Value));
            }

            // Queues first: their pending elements say which slices are in flight in their session's buffer region.
            var queueReports = new List<QueuePairReport>();
            var queuedByStem = new Dictionary<string, List<QueuedMessage>>(StringComparer.Ordinal);
            foreach (var (region, target, kind) in opened)
            {
                if (kind != RegionKind.Queue)
                {
                    continue;
                }

                QueuePairReport q = InspectQueuePair(region, CleanName(target.Name));
                queueReports.Add(q);
                string stem = Stem(target.Name);
                if (!queuedByStem.TryGetValue(stem, out var list))
                {
                    queuedByStem[stem] = list = [];
                }

                foreach (QueueReport queue in q.Queues)
                {
                    long headOffset = queue.Offset + QueueLayout.Current.HeadOffset;
                    foreach (QueueElementReport e in queue.Pending)
                    {
                        if (!e.IsClose)
                        {
                            long index = e.Index;
                            list.Add(new QueuedMessage(
                                e.Offset,
                                Inv($"{Path.GetFileName(q.Name)} {queue.Direction} #{e.Index} stream {e.StreamId}"),
                                () => region.ReadInt64(headOffset) <= index));
                        }
                    }
                }
            }

            var reports = new List<RegionReport>();
            foreach (var (region, target, kind) in opened)
            {
                if (kind == RegionKind.Buffer)
                {
                    queuedByStem.TryGetValue(Stem(target.Name), out var queued);
                    reports.Add(InspectBuffer(region, CleanName(target.Name), queued));
                }
            }

            reports.AddRange(queueReports);
            foreach (var (region, target, _) in opened)
            {
                if (region.WasTruncated)
                {
                    errors.Add($"{target.Name}: the object was truncated while it was read (its missing pages read as zeros)");
                }
            }

            return new InspectionReport(reports, errors);
        }
        finally
        {
            foreach (var (region, _, _) in opened)
            {
                region.Dispose();
            }
        }
    }

    private static RegionKind? KindFromContents(ReadOnlyRegion region)
    {
        long length = region.Length;
        if (length >= 2 * QueueLayout.HeaderSize && length % 2 == 0)
        {
            uint cap = region.ReadUInt32(QueueLayout.CapOffset);
            if (cap > 0 && 2 * QueueLayout.QueueSize(cap) == length && region.ReadUInt32(length / 2) == cap)
            {
                return RegionKind.Queue;
            }
        }

        ushort lists = region.ReadUInt16(ListCountOffset);
        uint used = region.ReadUInt32(UsedLengthOffset);
        return lists > 0 && used > 0 && ManagerHeaderSize + (long)used <= length ? RegionKind.Buffer : null;
    }

    private static QueueReport ReadQueue(ReadOnlyRegion region, QueueLayout layout, string direction, long offset, long half, List<string> issues)
    {
        uint cap = region.ReadUInt32(offset + QueueLayout.CapOffset);
        long head = region.ReadInt64(offset + layout.HeadOffset);
        long tail = region.ReadInt64(offset + layout.TailOffset);
        uint flag = region.ReadUInt32(offset + layout.WorkingFlagOffset);
        var pending = new List<QueueElementReport>();
        if (cap == 0 || QueueLayout.QueueSize(cap) != half)
        {
            issues.Add(Inv($"{direction}: capacity {cap} needs {QueueLayout.QueueSize(cap)} bytes but the queue has {half}"));
            return new QueueReport(direction, offset, cap, head, tail, flag, pending);
        }

        if (head < 0 || tail < 0)
        {
            issues.Add(Inv($"{direction}: negative index (head {head}, tail {tail})"));
        }
        else if (tail < head)
        {
            issues.Add(Inv($"{direction}: tail {tail} is behind head {head}"));
        }
        else if (tail - head > cap)
        {
            issues.Add(Inv($"{direction}: {tail - head} pending elements exceed the capacity {cap}"));
        }

        if (flag > 1)
        {
            issues.Add(Inv($"{direction}: working flag is {flag}, not 0 or 1"));
        }

        if (head >= 0 && tail > head)
        {
            long end = head + Math.Min(tail - head, cap);
            int badStatus = 0, badOffset = 0;
            for (long i = head; i < end; i++)
            {
                long at = offset + QueueLayout.HeaderSize + (i % cap * QueueLayout.ElementSize);
                var e = new QueueElementReport(
                    i,
                    region.ReadUInt32(at + QueueLayout.ElementStreamIdOffset),
                    region.ReadUInt32(at + QueueLayout.ElementOffsetOffset),
                    region.ReadUInt32(at + QueueLayout.ElementStatusOffset));
                pending.Add(e);
                if ((e.Status & 0xFF) > 1 && badStatus++ < MaxIssuesPerKind)
                {
                    issues.Add(Inv($"{direction} #{i}: status {e.Status} is neither data (0) nor close (1)"));
                }
                else if (!e.IsClose && e.Offset < ManagerHeaderSize + ListHeaderSize && badOffset++ < MaxIssuesPerKind)
                {
                    issues.Add(Inv($"{direction} #{i}: data for stream {e.StreamId} at offset {e.Offset}, where no slice can start"));
                }
            }
        }

        return new QueueReport(direction, offset, cap, head, tail, flag, pending);
    }

    /// <summary>
    /// Walks a list until one walk saw the same header before and after (no pop or push completed meanwhile), so its
    /// findings describe one state; a list that changes during every one of <see cref="StableReads"/> walks gets a note.
    /// </summary>
    private static ListWalk? WalkStableList(ReadOnlyRegion region, int index, long listOffset, List<string> issues, List<string> notes)
    {
        ListWalk? walk = null;
        for (int attempt = 0; attempt < StableReads; attempt++)
        {
            var found = new List<string>();
            var before = ReadListHeader(region, listOffset);
            walk = WalkList(region, index, listOffset, found);
            if (walk is null || before == ReadListHeader(region, listOffset))
            {
                issues.AddRange(found);
                return walk;
            }
        }

        notes.Add(Inv($"list {index} changed during each of {StableReads} reads (a busy list): its free-list checks were skipped on this pass"));
        return walk;
    }

    private static (int Size, uint Head, uint Tail, int Creator, int Mapper) ReadListHeader(ReadOnlyRegion region, long listOffset) =>
        (region.ReadInt32(listOffset + ListSizeOffset),
         region.ReadUInt32(listOffset + ListHeadOffset),
         region.ReadUInt32(listOffset + ListTailOffset),
         region.ReadInt32(listOffset + ListCreatorCounterOffset),
         region.ReadInt32(listOffset + ListMapperCounterOffset));

    private static ListWalk? WalkList(ReadOnlyRegion region, int index, long listOffset, List<string> issues)
    {
        if (!region.Contains(listOffset, ListHeaderSize))
        {
            issues.Add(Inv($"list {index}: its header at offset {listOffset} lies outside the {region.Length}-byte region"));
            return null;
        }

        uint cap = region.ReadUInt32(listOffset + ListCapOffset);
        uint sliceSize = region.ReadUInt32(listOffset + ListCapPerBufferOffset);
        if (cap == 0 || sliceSize == 0)
        {
            issues.Add(Inv($"list {index} at offset {listOffset}: capacity {cap}, slice size {sliceSize} (neither may be 0)"));
            return null;
        }

        long stride = Stride(sliceSize) <= int.MaxValue ? (long)Stride(sliceSize) : -1;
        long regionOffset = listOffset + ListHeaderSize;
        long bytes = stride < 0 ? long.MaxValue : cap * stride;
        if (stride < 0 || bytes > region.Length - regionOffset)
        {
            issues.Add(Inv($"list {index} at offset {listOffset}: {cap} slices of {sliceSize} bytes run past the end of the {region.Length}-byte region"));
            return null;
        }

        var walk = new ListWalk(index, listOffset, cap, sliceSize, stride)
        {
            FreeCount = region.ReadInt32(listOffset + ListSizeOffset),
            Head = region.ReadUInt32(listOffset + ListHeadOffset),
            Tail = region.ReadUInt32(listOffset + ListTailOffset),
            CreatorCounter = region.ReadInt32(listOffset + ListCreatorCounterOffset),
            MapperCounter = region.ReadInt32(listOffset + ListMapperCounterOffset),
        };
        string where = Inv($"list {index} (slice size {sliceSize})");
        if (walk.FreeCount < 0 || walk.FreeCount > cap)
        {
            issues.Add(Inv($"{where}: free count {walk.FreeCount} is outside 0..{cap}"));
        }

        // Walk the free list from head, relative next links while HasNext, as a popper would; never beyond cap slices.
        long last = -1;
        bool walked = false;
        int inUseOnFreeList = 0;
        if (!walk.IsBoundary(walk.Head))
        {
            issues.Add(Inv($"{where}: head {walk.Head} is not a slice offset (a multiple of {stride} below {bytes})"));
        }
        else
        {
            long current = walk.Head;
            while (true)
            {
                long k = current / stride;
                if (walk.Free[(int)k])
                {
                    issues.Add(Inv($"{where}: the free list loops: slice {k} is reached again after {walk.FreeListLength} slices"));
                    break;
                }

                walk.Free[(int)k] = true;
                walk.FreeListLength++;
                byte flags = region.ReadByte(regionOffset + current + SliceFlagsOffset);
                if ((flags & SliceFlagInUse) != 0)
                {
                    inUseOnFreeList++;
                }

                if ((flags & SliceFlagHasNext) == 0)
                {
                    last = current;
                    walked = true;
                    break;
                }

                uint next = region.ReadUInt32(regionOffset + current + SliceNextOffset);
                if (!walk.IsBoundary(next))
                {
                    issues.Add(Inv($"{where}: free slice {k} links to {next}, which is not a slice offset (a multiple of {stride} below {bytes})"));
                    break;
                }

                current = next;
            }
        }

        if (inUseOnFreeList > 0)
        {
            issues.Add(Inv($"{where}: {inUseOnFreeList} slice(s) on the free list carry the in-use flag"));
        }

        if (!walk.IsBoundary(walk.Tail))
        {
            issues.Add(Inv($"{where}: tail {walk.Tail} is not a slice offset (a multiple of {stride} below {bytes})"));
        }
        else if (walked && last != walk.Tail)
        {
            issues.Add(Inv($"{where}: the free list ends at slice {last / stride} but tail is slice {walk.Tail / stride}"));
        }

        if (walked && walk.FreeListLength != walk.FreeCount)
        {
            issues.Add(Inv($"{where}: free count is {walk.FreeCount} but the free list holds {walk.FreeListLength} slices"));
        }

        int badCap = 0;
        for (long k = 0; k < cap; k++)
        {
            uint sliceCap = region.ReadUInt32(regionOffset + (k * stride) + SliceCapOffset);
            if (sliceCap != sliceSize && badCap++ == 0)
            {
                issues.Add(Inv($"{where}: slice {k} says its capacity is {sliceCap}"));
            }
        }

        if (badCap > 1)
        {
            issues.Add(Inv($"{where}: {badCap} slice headers in all carry a capacity other than {sliceSize}"));
        }

        return walk;
    }

    private static void FollowQueuedChains(
        ReadOnlyRegion region, List<ListWalk> lists, IReadOnlyList<QueuedMessage> queued, Dictionary<(int, long), string> labels, List<string> issues)
    {
        long bound = lists.Sum(l => (long)l.Capacity);
        int reported = 0;
        foreach (var (offset, label, stillPending) in queued)
        {
            long current = offset;
            for (long step = 0; step <= bound; step++)
            {
                ListWalk? list = lists.FirstOrDefault(l => l.ContainsSlice(current));
                if (list is null)
                {
                    if (stillPending() && reported++ < MaxIssuesPerKind)
                    {
                        issues.Add(Inv($"{label}: offset {current} is not a slice header of this region"));
                    }

                    break;
                }

                long k = (current - list.RegionOffset) / list.Stride;
                if (list.Free[(int)k])
                {
                    if (stillPending() && reported++ < MaxIssuesPerKind)
                    {
                        issues.Add(Inv($"{label}: slice {k} of list {list.Index} (offset {current}) is queued but also on the free list"));
                    }

                    break;
                }

                if (!labels.TryAdd((list.Index, k), label))
                {
                    if (stillPending() && reported++ < MaxIssuesPerKind)
                    {
                        issues.Add(Inv($"{label}: slice {k} of list {list.Index} (offset {current}) is also queued by {labels[(list.Index, k)]}"));
                    }

                    break;
                }

                long header = current;
                if ((region.ReadByte(header + SliceFlagsOffset) & SliceFlagHasNext) == 0)
                {
                    break;
                }

                current = region.ReadUInt32(header + SliceNextOffset);
            }
        }
    }

    internal static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"_queue_\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex QueueSuffix();
}
