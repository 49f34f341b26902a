using System.Text.Encodings.Web;
using System.Text.Json;
using Shmipc.Channels.Inspection;

namespace Shmipc.Inspect;

/// <summary>Writes an <see cref="InspectionReport"/> as one JSON document per line (JSON Lines under --watch).</summary>
/// <remarks>Field names are camelCase and stable; numbers are the raw header values; every slice and pending element is listed.</remarks>
internal static class JsonReportWriter
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(InspectionReport report, DateTimeOffset time, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, s_options))
        {
            w.WriteStartObject();
            w.WriteString("time", time);
            w.WriteBoolean("consistent", !report.HasIssues);
            w.WriteStartArray("regions");
            foreach (RegionReport region in report.Regions)
            {
                WriteRegion(region, w);
            }

            w.WriteEndArray();
            w.WriteStartArray("errors");
            foreach (string e in report.Errors)
            {
                w.WriteStringValue(e);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteRegion(RegionReport region, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("kind", region.Kind == RegionKind.Buffer ? "buffer" : "queue");
        w.WriteString("name", region.Name);
        w.WriteString("source", region.Source);
        w.WriteNumber("length", region.Length);
        w.WriteBoolean("consistent", region.IsConsistent);
        w.WriteStartArray("issues");
        foreach (string issue in region.Issues)
        {
            w.WriteStringValue(issue);
        }

        w.WriteEndArray();
        w.WriteStartArray("notes");
        foreach (string note in region.Notes)
        {
            w.WriteStringValue(note);
        }

        w.WriteEndArray();
        switch (region)
        {
            case BufferRegionReport b:
                WriteBuffer(b, w);
                break;
            case QueuePairReport q:
                WriteQueues(q, w);
                break;
        }

        w.WriteEndObject();
    }

    private static void WriteBuffer(BufferRegionReport r, Utf8JsonWriter w)
    {
        w.WriteNumber("listCount", r.ListCount);
        w.WriteNumber("usedLength", r.UsedLength);
        w.WriteNumber("slicesTotal", r.SlicesTotal);
        w.WriteNumber("slicesFree", r.SlicesFree);
        w.WriteNumber("slicesNotFree", r.SlicesNotFree);
        w.WriteNumber("capacityBytes", r.CapacityBytes);
        w.WriteNumber("inUseBytes", r.InUseBytes);
        w.WriteStartArray("lists");
        foreach (BufferListReport l in r.Lists)
        {
            w.WriteStartObject();
            w.WriteNumber("index", l.Index);
            w.WriteNumber("offset", l.ListOffset);
            w.WriteNumber("sliceSize", l.SliceSize);
            w.WriteNumber("capacity", l.Capacity);
            w.WriteNumber("freeCount", l.FreeCount);
            w.WriteNumber("freeListLength", l.FreeListLength);
            w.WriteNumber("head", l.Head);
            w.WriteNumber("tail", l.Tail);
            w.WriteNumber("creatorCounter", l.CreatorCounter);
            w.WriteNumber("mapperCounter", l.MapperCounter);
            w.WriteStartArray("slicesNotFree");
            foreach (SliceReport s in l.SlicesNotFree)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteNumber("offset", s.Offset);
                w.WriteNumber("size", s.Size);
                w.WriteString("flags", s.FlagText);
                if (s.Next is { } next)
                {
                    w.WriteNumber("next", next);
                }
                else
                {
                    w.WriteNull("next");
                }

                w.WriteString("queuedIn", s.QueuedIn);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteQueues(QueuePairReport r, Utf8JsonWriter w)
    {
        w.WriteString("layout", r.Layout);
        w.WriteStartArray("queues");
        foreach (QueueReport q in r.Queues)
        {
            w.WriteStartObject();
            w.WriteString("direction", q.Direction);
            w.WriteNumber("capacity", q.Capacity);
            w.WriteNumber("head", q.Head);
            w.WriteNumber("tail", q.Tail);
            w.WriteNumber("workingFlag", q.WorkingFlag);
            w.WriteNumber("pendingCount", q.PendingCount);
            w.WriteStartArray("pending");
            foreach (QueueElementReport e in q.Pending)
            {
                w.WriteStartObject();
                w.WriteNumber("index", e.Index);
                w.WriteNumber("streamId", e.StreamId);
                w.WriteNumber("offset", e.Offset);
                w.WriteNumber("status", e.Status);
                w.WriteBoolean("close", e.IsClose);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
