using System.Globalization;
using Shmipc.Channels.Inspection;

namespace Shmipc.Inspect;

/// <summary>Writes an <see cref="InspectionReport"/> for people: one block per region, its issues last (errors go to stderr, not here).</summary>
internal static class TextReportWriter
{
    public static void Write(InspectionReport report, DateTimeOffset time, int limit, TextWriter w)
    {
        w.WriteLine(Inv($"shmipc-inspect {time:yyyy-MM-ddTHH:mm:ss.fffZ}: {report.Regions.Count} region(s)"));
        foreach (RegionReport region in report.Regions)
        {
            w.WriteLine();
            switch (region)
            {
                case BufferRegionReport buffer:
                    WriteBuffer(buffer, limit, w);
                    break;
                case QueuePairReport queues:
                    WriteQueues(queues, limit, w);
                    break;
            }

            foreach (string note in region.Notes)
            {
                w.WriteLine("  note: " + note);
            }

            if (region.IsConsistent)
            {
                w.WriteLine("  consistent");
            }
            else
            {
                w.WriteLine(Inv($"  INCONSISTENT: {region.Issues.Count} issue(s)"));
                foreach (string issue in region.Issues)
                {
                    w.WriteLine("    - " + issue);
                }
            }
        }
    }

    private static void WriteBuffer(BufferRegionReport r, int limit, TextWriter w)
    {
        w.WriteLine("buffer region " + r.Name);
        w.WriteLine(Inv($"  opened as {r.Source}, {r.Length} bytes, {r.ListCount} list(s), usedLength {r.UsedLength}"));
        foreach (BufferListReport l in r.Lists)
        {
            w.WriteLine(Inv($"  list {l.Index} @{l.ListOffset}: slice {l.SliceSize} B, capacity {l.Capacity}, free {l.FreeCount} (walked {l.FreeListLength}), head {l.Head}, tail {l.Tail}, counters creator {l.CreatorCounter} mapper {l.MapperCounter}"));
        }

        w.WriteLine(Inv($"  slices not on a free list: {r.SlicesNotFree} of {r.SlicesTotal} ({r.InUseBytes} of {r.CapacityBytes} bytes)"));
        foreach (BufferListReport l in r.Lists)
        {
            foreach (SliceReport s in l.SlicesNotFree.Take(limit))
            {
                string next = s.Next is { } n ? Inv($", next @{n}") : string.Empty;
                string where = s.QueuedIn is { } q ? ", queued in " + q : ", held (lease or write in progress) or leaked";
                w.WriteLine(Inv($"    list {s.List} slice {s.Index} @{s.Offset}: size {s.Size}, flags {s.FlagText}{next}{where}"));
            }

            if (l.SlicesNotFree.Count > limit)
            {
                w.WriteLine(Inv($"    list {l.Index}: {l.SlicesNotFree.Count - limit} more (--limit, or --json for all)"));
            }
        }
    }

    private static void WriteQueues(QueuePairReport r, int limit, TextWriter w)
    {
        w.WriteLine("queue pair " + r.Name);
        w.WriteLine(Inv($"  opened as {r.Source}, {r.Length} bytes, {r.Layout} header layout"));
        foreach (QueueReport q in r.Queues)
        {
            w.WriteLine(Inv($"  {q.Direction}: capacity {q.Capacity}, head {q.Head}, tail {q.Tail}, working flag {q.WorkingFlag}, pending {q.PendingCount}"));
            foreach (QueueElementReport e in q.Pending.Take(limit))
            {
                w.WriteLine(e.IsClose
                    ? Inv($"    #{e.Index} stream {e.StreamId}: close")
                    : Inv($"    #{e.Index} stream {e.StreamId}: data @{e.Offset} (status {e.Status})"));
            }

            if (q.Pending.Count > limit)
            {
                w.WriteLine(Inv($"    {q.Pending.Count - limit} more (--limit, or --json for all)"));
            }
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
