using ScottPlot;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The chart of a run (PNG, ScottPlot): p50 round-trip latency and throughput against payload size, one line per
/// transport, one row of panels per stream count of the ping-pong rows; the floor (no IPC) and the spin floor are the
/// dashed grey and black lines. Both axes are logarithmic (values are plotted as log10 with decade tick labels).
/// </summary>
internal static class ResultChart
{
    public static void Write(string path, ResultTable table, string subtitle)
    {
        var pingPong = table.Rows.Where(r => r.Cell.Kind == CellKind.PingPong).ToList();
        var streamCounts = pingPong.Select(r => r.Cell.Streams).Distinct().Order().ToList();
        if (streamCounts.Count == 0)
        {
            return;
        }

        var transports = pingPong.SelectMany(r => r.Results.Select(x => x.Transport)).Distinct().ToList();
        var plots = new List<Plot>();
        foreach (var streams in streamCounts)
        {
            var cells = pingPong.Where(r => r.Cell.Streams == streams).OrderBy(r => r.Cell.Size).ToList();
            var latency = new Plot();
            var throughput = new Plot();
            for (var t = 0; t < transports.Count; t++)
            {
                var transport = transports[t];
                var points = cells.SelectMany(c => c.Results.Where(x => x.Transport == transport)).ToList();
                if (points.Count == 0)
                {
                    continue;
                }

                var xs = points.Select(p => Math.Log10(p.Size)).ToArray();
                Style(latency.Add.Scatter(xs, points.Select(p => Math.Log10(p.PercentileMicros(50))).ToArray()), transport, t);
                Style(throughput.Add.Scatter(xs, points.Select(p => Math.Log10(p.MegabytesPerSecond)).ToArray()), transport, t);
            }

            Decorate(latency, $"p50 round trip, {streams} stream{(streams == 1 ? string.Empty : "s")}", "µs (log)", cells);
            Decorate(throughput, $"throughput, {streams} stream{(streams == 1 ? string.Empty : "s")}", "MB/s, request + reply (log)", cells);
            plots.Add(latency);
            plots.Add(throughput);
        }

        var note = plots[1].Add.Annotation(subtitle, Alignment.LowerRight);
        note.LabelFontSize = 11;
        var multiplot = new Multiplot();
        multiplot.Reset(plots[0]); // a new Multiplot starts with one empty plot of its own
        foreach (var plot in plots.Skip(1))
        {
            multiplot.AddPlot(plot);
        }

        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(streamCounts.Count, 2);
        multiplot.SavePng(path, 1400, 520 * streamCounts.Count);
    }

    private static void Style(ScottPlot.Plottables.Scatter scatter, string transport, int index)
    {
        scatter.LegendText = transport;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 6;
        switch (transport)
        {
            case ResultTable.FloorName:
                scatter.Color = Colors.Gray;
                scatter.LinePattern = LinePattern.Dashed;
                break;
            case ResultTable.SpinName:
                scatter.Color = Colors.Black;
                scatter.LinePattern = LinePattern.Dashed;
                break;
            default:
                scatter.Color = new ScottPlot.Palettes.Category10().GetColor(index);
                break;
        }
    }

    private static void Decorate(Plot plot, string title, string yLabel, IReadOnlyList<(CellSpec Cell, IReadOnlyList<CellResult> Results)> cells)
    {
        plot.Axes.Title.Label.Text = title;
        plot.YLabel(yLabel);
        plot.XLabel("payload size (log)");
        var sizes = cells.Select(c => c.Cell.Size).Distinct().ToArray();
        plot.Axes.Bottom.SetTicks(sizes.Select(s => Math.Log10(s)).ToArray(), sizes.Select(PingPongOptions.FormatSize).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => FormatPower(v),
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
        };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static string FormatPower(double log10)
    {
        var value = Math.Pow(10, log10);
        return value >= 1 ? value.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture) : value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    }
}
