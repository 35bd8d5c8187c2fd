using System.Globalization;
using System.Net;
using System.Text;

namespace InotifySim.Bench;

/// <summary>A self-contained SVG: grouped bars of the median iterations to the bug, log scale, IQR whiskers.</summary>
public static class Svg
{
    private static readonly string[] Palette = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };

    private static string F(double x) => x.ToString("0.#", CultureInfo.InvariantCulture);

    public static string Chart(List<Cell> cells, Options o)
    {
        var strategies = cells.Select(c => c.Strategy).Distinct().ToList();
        var defects = cells.Select(c => c.Defect).Distinct().ToList();
        double top = Math.Max(o.Cap, o.DfsCap);
        int bw = 9, gap = 18;
        int groupW = strategies.Count * bw + gap;
        int left = 70, right = 20, plotTop = 60, plotH = 360, labelH = 190;
        int width = left + right + defects.Count * groupW;
        int height = plotTop + plotH + labelH + 20 + 20 * ((strategies.Count + 4) / 5);
        double maxLog = Math.Log10(top * 1.5);
        double Y(double v) => plotTop + plotH - plotH * Math.Log10(Math.Max(1, v)) / maxLog;

        var sb = new StringBuilder();
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.AppendLine($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        sb.AppendLine($"<text x=\"{left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Iterations to the first (right) bug: median over {o.Seeds} seeds, whiskers = IQR, log scale</text>");
        sb.AppendLine($"<text x=\"{left}\" y=\"40\" fill=\"#555\">rfc defects on Variants.ForDefect(fix); cap {o.Cap} iterations per run (dfs: one run, cap {o.DfsCap}); ✕ at the top = median not found within the cap; dashed line = 1000</text>");
        // grid
        for (double v = 1; v <= top * 1.5; v *= 10)
        {
            double y = Y(v);
            sb.AppendLine($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>");
            sb.AppendLine($"<text x=\"{left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{v:0}</text>");
        }
        sb.AppendLine($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(Y(1000))}\" y2=\"{F(Y(1000))}\" stroke=\"#c00\" stroke-dasharray=\"5,4\"/>");
        sb.AppendLine($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(Y(top))}\" y2=\"{F(Y(top))}\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>");
        sb.AppendLine($"<text x=\"{width - right}\" y=\"{F(Y(top) - 4)}\" text-anchor=\"end\" fill=\"#888\">cap</text>");
        sb.AppendLine($"<text transform=\"translate(18,{plotTop + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">iterations (log)</text>");
        for (int di = 0; di < defects.Count; di++)
        {
            var d = defects[di];
            double gx = left + di * groupW + gap / 2.0;
            if (di % 2 == 1) sb.AppendLine($"<rect x=\"{F(gx - gap / 2.0)}\" y=\"{plotTop}\" width=\"{groupW}\" height=\"{plotH}\" fill=\"#f4f4f8\" opacity=\"0.6\"/>");
            for (int si = 0; si < strategies.Count; si++)
            {
                var c = cells.First(x => x.Defect == d && x.Strategy == strategies[si]);
                double x = gx + si * bw;
                string col = Palette[si % Palette.Length];
                string tip = WebUtility.HtmlEncode($"{d.Key} / {c.Strategy.Label}: {Hunter.Describe(c)}");
                if (c.RunCount == 0) continue;
                double med = c.Median;
                if (double.IsPositiveInfinity(med))
                {
                    double y = Y(top) - 6;
                    sb.AppendLine($"<text x=\"{F(x + bw / 2.0)}\" y=\"{F(y)}\" text-anchor=\"middle\" fill=\"{col}\" font-size=\"10\"><title>{tip}</title>✕</text>");
                    continue;
                }
                double yb = Y(med);
                sb.AppendLine($"<rect x=\"{F(x)}\" y=\"{F(yb)}\" width=\"{bw - 1}\" height=\"{F(plotTop + plotH - yb)}\" fill=\"{col}\"><title>{tip}</title></rect>");
                if (c.Strategy.Seeded)
                {
                    double q1 = c.Q1, q3 = Math.Min(c.Q3, top * 1.4);
                    double cx = x + (bw - 1) / 2.0;
                    sb.AppendLine($"<line x1=\"{F(cx)}\" x2=\"{F(cx)}\" y1=\"{F(Y(q1))}\" y2=\"{F(Y(q3))}\" stroke=\"#222\" stroke-width=\"1\"/>");
                }
            }
            double lx = gx + strategies.Count * bw / 2.0, ly = plotTop + plotH + 8;
            sb.AppendLine($"<text transform=\"translate({F(lx)},{F(ly)}) rotate(50)\" font-size=\"11\">{WebUtility.HtmlEncode(d.Key)}</text>");
        }
        sb.AppendLine($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{plotTop + plotH}\" y2=\"{plotTop + plotH}\" stroke=\"#333\"/>");
        // legend
        int legY = plotTop + plotH + labelH;
        for (int si = 0; si < strategies.Count; si++)
        {
            int lx = left + (si % 5) * 150, ly = legY + (si / 5) * 20;
            sb.AppendLine($"<rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{Palette[si % Palette.Length]}\"/>");
            sb.AppendLine($"<text x=\"{lx + 17}\" y=\"{ly + 10}\">{WebUtility.HtmlEncode(strategies[si].Label)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
