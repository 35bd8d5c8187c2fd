using System.Globalization;
using System.Net;
using System.Text;
using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Traces;

/// <summary>
/// A self-contained HTML page (inline CSS and SVG, no scripts, no external resources) of an
/// explanation: one vertical lane per thread, the trimmed steps as rows, each held lock as a
/// coloured bar beside its lane, the failing step marked in red, then the report text.
/// </summary>
public static class TraceHtml
{
    private const int RowH = 18, LaneW = 380, StepW = 56, BarW = 6, Top = 46, TextPad = 8;

    private static readonly string[] s_palette =
    {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79",
    };

    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string N(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Render(TraceExplanation x)
    {
        var lockColor = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in x.Spans)
            if (!lockColor.ContainsKey(s.Lock)) lockColor[s.Lock] = s_palette[lockColor.Count % s_palette.Length];
        var maxLevel = new int[x.Lanes.Count];
        foreach (var s in x.Spans)
        {
            int lane = IndexOf(x.Lanes, s.Task);
            if (lane >= 0) maxLevel[lane] = Math.Max(maxLevel[lane], s.Level + 1);
        }
        var laneX = new int[x.Lanes.Count];
        int xPos = StepW;
        for (int i = 0; i < x.Lanes.Count; i++)
        {
            laneX[i] = xPos;
            xPos += LaneW + maxLevel[i] * (BarW + 2);
        }
        int width = xPos + 10;
        int height = Top + x.Rows.Count * RowH + 20;

        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append($"<title>{E($"{TraceExplanation.ScenarioLabel(x.Trace)}: {x.Report.Title}")}</title>\n");
        sb.Append("<style>\n");
        sb.Append("body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:16px;color:#222;background:#fff}\n");
        sb.Append("h1{font-size:18px;margin:0 0 6px}\n.meta{font-size:13px;margin:2px 0}\n.meta b{display:inline-block;width:90px}\n");
        sb.Append("pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;font-size:12px;overflow-x:auto}\n");
        sb.Append(".legend span{display:inline-block;margin:2px 10px 2px 0;font-size:12px;font-family:monospace}\n");
        sb.Append(".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}\n");
        sb.Append("svg text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11px}\n");
        sb.Append(".lane{font-weight:bold;font-size:12px}\n.bugtext{fill:#b00000;font-weight:bold}\n.note{fill:#666;font-style:italic}\n");
        sb.Append(".k-syscall{fill:#000;font-weight:bold}.k-return{fill:#555}.k-lock{fill:#0b5394}.k-unlock{fill:#6fa8dc}.k-get{fill:#38761d}.k-put{fill:#b45f06}.k-alloc{fill:#274e13}.k-free{fill:#990000}.k-event,.k-read{fill:#741b47}.k-enter{fill:#444}\n");
        sb.Append("</style>\n</head>\n<body>\n");
        sb.Append($"<h1>{E(x.Report.Title)}</h1>\n");
        sb.Append($"<p class=\"meta\"><b>scenario</b>{E(TraceExplanation.ScenarioLabel(x.Trace))} on {E(TraceExplanation.VariantName(x.Trace.FixSet()))}</p>\n");
        sb.Append($"<p class=\"meta\"><b>bug</b>[{E(x.Report.Class.Name())}] in {E(string.Join(", ", x.Report.Functions))}</p>\n");
        sb.Append($"<p class=\"meta\"><b>schedule</b>{x.Decisions} scheduling decisions ({x.Preemptions} preemptions), {x.KernelSteps} kernel steps, {x.ContextSwitches} context switches; {x.Rows.Count} of {x.TraceEntries} trace steps shown</p>\n");
        if (x.Focus.Count > 0) sb.Append($"<p class=\"meta\"><b>objects</b>{E(string.Join(", ", x.Focus))}</p>\n");
        if (lockColor.Count > 0)
        {
            sb.Append("<div class=\"legend\">held locks: ");
            foreach (var kv in lockColor)
                sb.Append($"<span><i style=\"background:{kv.Value}\"></i>{E(kv.Key)}</span>");
            sb.Append("</div>\n");
        }

        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" role=\"img\">\n");
        sb.Append($"<rect x=\"0\" y=\"0\" width=\"{N(width)}\" height=\"{N(height)}\" fill=\"#fff\"/>\n");
        // lanes
        for (int i = 0; i < x.Lanes.Count; i++)
        {
            int lw = LaneW + maxLevel[i] * (BarW + 2);
            string fill = i % 2 == 0 ? "#f7f9fc" : "#fcfaf5";
            sb.Append($"<rect x=\"{N(laneX[i])}\" y=\"{N(Top - 8)}\" width=\"{N(lw)}\" height=\"{N(x.Rows.Count * RowH + 12)}\" fill=\"{fill}\" stroke=\"#ddd\"/>\n");
            sb.Append($"<text class=\"lane\" x=\"{N(laneX[i] + TextPad)}\" y=\"{N(Top - 16)}\">{E(x.Lanes[i])}</text>\n");
        }
        sb.Append($"<text class=\"lane\" x=\"4\" y=\"{N(Top - 16)}\">step</text>\n");
        // bug row highlight
        foreach (var r in x.Rows)
        {
            if (!r.IsBug) continue;
            int y = Top + r.Index * RowH - 4;
            sb.Append($"<rect x=\"0\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(RowH)}\" fill=\"#ffd6d6\" stroke=\"#d00\" stroke-width=\"1.5\"/>\n");
        }
        // held-lock bars
        foreach (var s in x.Spans)
        {
            int lane = IndexOf(x.Lanes, s.Task);
            if (lane < 0) continue;
            int bx = laneX[lane] + LaneW + s.Level * (BarW + 2);
            int y0 = Top + s.FromRow * RowH - 2;
            int y1 = Top + s.ToRow * RowH + RowH - 6;
            string title = $"{s.Task} holds {s.Lock}" + (s.HeldAtBug ? " (still held at the bug)" : "");
            sb.Append($"<rect x=\"{N(bx)}\" y=\"{N(y0)}\" width=\"{N(BarW)}\" height=\"{N(Math.Max(4, y1 - y0))}\" rx=\"2\" fill=\"{lockColor[s.Lock]}\" opacity=\"0.85\"><title>{E(title)}</title></rect>\n");
        }
        // rows
        foreach (var r in x.Rows)
        {
            int y = Top + r.Index * RowH + 9;
            sb.Append($"<text x=\"4\" y=\"{N(y)}\" fill=\"#888\">{N((int)r.Seq)}</text>\n");
            if (r.Task == "")
            {
                sb.Append($"<line x1=\"{N(StepW)}\" x2=\"{N(width - 10)}\" y1=\"{N(y - 4)}\" y2=\"{N(y - 4)}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n");
                sb.Append($"<text class=\"note\" x=\"{N(StepW + TextPad)}\" y=\"{N(y)}\">{E(r.Text)}</text>\n");
                continue;
            }
            int lane = IndexOf(x.Lanes, r.Task);
            string words = r.Words;
            string shown = words.Length > 58 ? words[..57] + "\u2026" : words;
            string cls = r.IsBug ? "bugtext" : "k-" + r.Kind.ToString().ToLowerInvariant();
            string indent = r.Kind is TraceKind.Syscall or TraceKind.Return or TraceKind.Bug ? "" : "  ";
            sb.Append($"<text class=\"{cls}\" x=\"{N(laneX[lane] + TextPad)}\" y=\"{N(y)}\" xml:space=\"preserve\">{E(indent + shown)}<title>{E($"{r.Task} in {r.Function}: {words}")}</title></text>\n");
        }
        sb.Append("</svg>\n");
        if (x.HeldAtBug.Count > 0)
        {
            sb.Append("<p class=\"meta\"><b>held at bug</b>");
            sb.Append(E(string.Join("; ", x.HeldAtBug.Select(h => $"{h.Task}: {string.Join(", ", h.Locks)}"))));
            sb.Append("</p>\n");
        }
        sb.Append("<h1>report</h1>\n<pre>").Append(E(x.Report.Text)).Append("</pre>\n");
        if (x.Setup.Count > 0)
        {
            sb.Append("<h1>setup</h1>\n<pre>");
            foreach (var (task, calls) in x.Setup) sb.Append(E($"{task}: {calls}")).Append('\n');
            sb.Append("</pre>\n");
        }
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static int IndexOf(IReadOnlyList<string> xs, string s)
    {
        for (int i = 0; i < xs.Count; i++) if (xs[i] == s) return i;
        return -1;
    }
}
